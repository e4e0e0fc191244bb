"""Judge replies by content key, in the run store, so a rerun asks the judge nothing it asked before.

The key hashes the judge's identity (endpoint and model, or the local model's
files), the question asked (rubric, scale, mode and the full messages, which hold
the prompt and the output) and the reply length allowed. Each entry is sealed with
the store's per-user key (run/store.py), like a finished variant: a reply planted
or edited by someone without the key is asked again, never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from harness.core.files import write_json


def content_key(identity: dict, question: dict) -> str:
    payload = json.dumps({"judge": identity, "question": question}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class JudgeCache:
    def __init__(self, root: Path, secret: bytes):
        self.root = Path(root)
        self.secret = secret
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def _sign(self, key: str, reply: str) -> str:
        return hmac.new(self.secret, json.dumps([key, reply]).encode(), hashlib.sha256).hexdigest()

    def get(self, key: str) -> str | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            reply, mac = entry["reply"], entry["hmac"]
        except (OSError, ValueError, KeyError, TypeError):
            self.misses += 1
            return None
        if not isinstance(reply, str) or not hmac.compare_digest(str(mac), self._sign(key, reply)):
            self.misses += 1
            return None
        self.hits += 1
        return reply

    def put(self, key: str, reply: str) -> None:
        write_json(self._path(key), {"reply": reply, "hmac": self._sign(key, reply)})
