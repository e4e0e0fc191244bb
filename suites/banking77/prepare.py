#!/usr/bin/env python3
"""Build the banking77 suites' chat JSONL from the official BANKING77 CSVs.

Reads train.csv and test.csv (columns ``text,category``; PolyAI-LDN/
task-specific-datasets, folder banking_data/, CC-BY-4.0) and writes two sets of
files under suites/banking77/data/:

  intents77/  all 77 intents: train 16 per intent (1,232), validation 4 per
              intent (308), both drawn from train.csv; test = the full official
              test split (3,080).
  intents12/  the first 12 intents in Python's sorted() (code-point) order:
              train 40 per intent (480) and validation 8 per intent (96) from
              train.csv; test 25 per intent (300) from test.csv.

How items are drawn: within each intent, rows are ordered by
sha256("<seed>:<file>:<text>") (<file> is train or test; row number breaks
ties), a fixed pseudo-random order that depends on nothing but the seed, the
file and the text. Train takes the first
rows of that order, validation the next ones, so the two never share a row.
Every file is written round-robin by intent (the 1st item of every intent in
sorted order, then the 2nd of every intent, ...), so any prefix of a file is a
near-stratified subset: the first 770 items of intents77/test.jsonl hold 10 per
intent, which is what banking77.yaml's test_limit relies on.

Texts are copied unchanged (stray whitespace, line breaks, the intent spelled
"reverted_card_payment?" and "Refund_not_showing_up" included). Nothing is
de-duplicated: the official splits share a few queries, and bench's data check
is meant to find that leakage; this script only reports it.

Standard library only; the same --seed and source files give byte-identical
output. The source files' SHA-256 are printed so a rebuild can be compared.

    python suites/banking77/prepare.py [--src DIR] [--seed 13] [--out DIR]

--src defaults to $BANKING77_DIR, else /work/shared/data/banking77.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SRC = Path(os.environ.get("BANKING77_DIR", "/work/shared/data/banking77"))
ANSWER = "intent: {label}"

EXPECTED_ROWS = {"train.csv": 10003, "test.csv": 3080}
EXPECTED_INTENTS = 77

# name: (id prefix, intents used (None = all), per-intent counts, where test comes from)
VARIANTS = {
    "intents77": {
        "prefix": "b77",
        "intents": None,
        "train": 16,
        "validation": 4,
        "test": None,  # None: every test row
        "scored": 770,
    },  # banking77.yaml's test_limit
    "intents12": {"prefix": "b12", "intents": 12, "train": 40, "validation": 8, "test": 25, "scored": None},
}


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or set(rows[0]) != {"text", "category"}:
        raise SystemExit(f"{path}: expected columns text,category")
    expected = EXPECTED_ROWS.get(path.name)
    if expected is not None and len(rows) != expected:
        raise SystemExit(f"{path}: expected {expected} rows, found {len(rows)} (not the official file?)")
    return rows


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def by_intent(rows: list[dict], seed: int, salt: str) -> dict[str, list[str]]:
    """Texts per intent, in the seeded sha256 order (row number breaks ties).

    The salt differs per source file: a query present in both official splits
    then gets unrelated ranks in each, so being drawn into the train subset
    does not make it likelier to sit in the scored prefix of the test file.
    """
    groups: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for index, row in enumerate(rows):
        key = hashlib.sha256(f"{seed}:{salt}:{row['text']}".encode()).hexdigest()
        groups[row["category"]].append((key, index, row["text"]))
    return {intent: [text for _, _, text in sorted(items)] for intent, items in groups.items()}


def round_robin(per_intent: dict[str, list[str]], intents: list[str]) -> list[tuple[str, str]]:
    """(text, intent) pairs: the 1st of every intent, then the 2nd of every intent, ..."""
    out = []
    depth = max(len(per_intent[i]) for i in intents)
    for rank in range(depth):
        for intent in intents:
            if rank < len(per_intent[intent]):
                out.append((per_intent[intent][rank], intent))
    return out


def write_jsonl(path: Path, prefix: str, split: str, pairs: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for number, (text, intent) in enumerate(pairs, 1):
            item = {
                "id": f"{prefix}-{split}-{number:05d}",
                "messages": [
                    {"role": "user", "content": text},
                    {"role": "assistant", "content": ANSWER.format(label=intent)},
                ],
            }
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


def whitespace_key(text: str) -> str:
    """What bench's run-time leakage check compares (whitespace collapsed)."""
    return " ".join(text.split())


def loose_key(text: str) -> str:
    """Lower-cased words only: what a near-duplicate check would also catch."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def overlap_report(splits: dict[str, list[tuple[str, str]]]) -> str:
    parts = []
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for label, key in (("same text", whitespace_key), ("same words", loose_key)):
                seen = {key(t) for t, _ in splits[a]}
                count = sum(key(t) in seen for t, _ in splits[b])
                parts.append(f"{a}/{b} {label}: {count}")
    return "; ".join(parts)


def build(src: Path, seed: int, out: Path) -> None:
    train_rows = read_csv(src / "train.csv")
    test_rows = read_csv(src / "test.csv")
    intents = sorted({r["category"] for r in train_rows})
    if len(intents) != EXPECTED_INTENTS or sorted({r["category"] for r in test_rows}) != intents:
        raise SystemExit(f"expected the same {EXPECTED_INTENTS} intents in train.csv and test.csv")
    train_pool = by_intent(train_rows, seed, "train")
    test_pool = by_intent(test_rows, seed, "test")

    for name, cfg in VARIANTS.items():
        chosen = intents if cfg["intents"] is None else intents[: cfg["intents"]]
        n_train, n_val = cfg["train"], cfg["validation"]
        short = [i for i in chosen if len(train_pool[i]) < n_train + n_val]
        if short:
            raise SystemExit(f"{name}: too few train.csv rows for {short}")
        train = {i: train_pool[i][:n_train] for i in chosen}
        val = {i: train_pool[i][n_train : n_train + n_val] for i in chosen}
        test = {i: test_pool[i] if cfg["test"] is None else test_pool[i][: cfg["test"]] for i in chosen}
        splits = {
            "train": round_robin(train, chosen),
            "validation": round_robin(val, chosen),
            "test": round_robin(test, chosen),
        }
        for split, pairs in splits.items():
            write_jsonl(out / name / f"{split}.jsonl", cfg["prefix"], split, pairs)
        words = {s: [len(t.split()) for t, _ in p] for s, p in splits.items()}
        print(
            f"{name}: {len(chosen)} intents; "
            + ", ".join(
                f"{s} {len(p)} (words mean {sum(words[s]) / len(words[s]):.1f}, max {max(words[s])})"
                for s, p in splits.items()
            )
        )
        print(f"  overlaps: {overlap_report(splits)}")
        if cfg["scored"]:
            scored = {**splits, "test": splits["test"][: cfg["scored"]]}
            print(f"  overlaps within the first {cfg['scored']} test items: {overlap_report(scored)}")
        if cfg["intents"] is not None:
            print(f"  intents: {', '.join(chosen)}")
    shutil.copyfile(src / "ATTRIBUTION.md", out / "ATTRIBUTION.md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src",
        type=Path,
        default=DEFAULT_SRC,
        help="folder with train.csv, test.csv and ATTRIBUTION.md "
        "(default $BANKING77_DIR or /work/shared/data/banking77)",
    )
    parser.add_argument("--seed", type=int, default=13, help="seed of the per-intent order (default 13)")
    parser.add_argument("--out", type=Path, default=HERE / "data", help="output folder (default data/ here)")
    args = parser.parse_args()
    for name in ("train.csv", "test.csv"):
        print(f"{name} sha256 {sha256_file(args.src / name)}")
    build(args.src, args.seed, args.out)


if __name__ == "__main__":
    main()
