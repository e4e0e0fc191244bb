"""The corpus a retriever searches: labelled training items, or reference documents.

Every source becomes the same flat list of ``CorpusEntry`` (searchable text, and
for labelled entries the gold answer and label), plus a fingerprint of that list
so an index built once can be found again (``index_cache``).

Three sources:
- ``train``: the task's training split; each item is an example with its answer.
- a folder: every ``.txt``/``.md`` file under it, split at blank lines into
  entries of at most ``chunk_words`` words (a whole manual in one prompt helps no one).
- a JSONL file: one document per line, ``{"text": ..., "id"?: ..., "label"?: ...}``,
  or one labelled chat item per line in the task data's own format (``{"messages": [...]}``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from harness.core.errors import BenchError, Problem
from harness.data.chat import Item, chat_item, read_json_object
from harness.data.text import decode_text, decoded_lines
from harness.tasks import Task

DOCUMENT_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class CorpusEntry:
    id: str
    text: str  # what is searched, and what the prompt shows
    answer: str | None  # the gold answer of a labelled example; None for a document
    label: str | None
    content_hash: str  # Item.content_hash for a labelled item, so the leakage guard can match test items
    text_hash: str  # of the normalised text: the same words under another id or format


@dataclass(frozen=True)
class Corpus:
    entries: tuple[CorpusEntry, ...]
    source: str  # "train", or the resolved path of the documents

    @property
    def fingerprint(self) -> str:
        """Changes whenever any entry's id, text, answer or label changes."""
        digest = hashlib.sha256()
        for e in self.entries:
            digest.update(json.dumps([e.id, e.text, e.answer, e.label]).encode())
            digest.update(b"\n")
        return digest.hexdigest()[:20]

    @property
    def labelled(self) -> bool:
        return any(e.label is not None for e in self.entries)

    def without(self, removed_ids: set[str]) -> "Corpus":
        return Corpus(tuple(e for e in self.entries if e.id not in removed_ids), self.source)


def normalise(text: str) -> str:
    """Case and whitespace do not make a different text."""
    return " ".join(text.split()).casefold()


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:16]


def query_text(prompt_messages: list[dict]) -> str:
    """What an item asks, as a search query: its turns without the system prompt."""
    return "\n".join(m["content"] for m in prompt_messages if m["role"] != "system")


def corpus_from_items(items: list[Item] | tuple[Item, ...], source: str = "train") -> Corpus:
    entries = []
    for item in items:
        text = query_text(item.prompt_messages())
        entries.append(
            CorpusEntry(
                id=item.id,
                text=text,
                answer=item.answer,
                label=item.label,
                content_hash=item.content_hash,
                text_hash=text_hash(text),
            )
        )
    return Corpus(tuple(entries), source)


def read_folder(folder: Path, *, chunk_words: int, fence: Callable[[Path], Path] | None = None) -> Corpus:
    """Every document file under ``folder``. ``fence`` resolves a file and raises if it lies where the suite
    may not read: a symlink inside the folder to a file outside is as outside as a path written out."""
    if not folder.is_dir():
        raise BenchError(
            f"retrieval corpus folder not found: {folder}", hint="corpus.path is relative to the suite file"
        )
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
    if not files:
        raise BenchError(f"retrieval corpus folder {folder} holds no {' or '.join(DOCUMENT_SUFFIXES)} files")
    entries = []
    for path in files:
        if fence is not None:
            fence(path)
        name = path.relative_to(folder).as_posix()
        # Bytes that are not UTF-8 are an error at their line and byte offset, never replaced by U+FFFD.
        for number, chunk in enumerate(chunk_text(decode_text(path.read_bytes(), path), chunk_words)):
            entries.append(document_entry(f"{name}#{number}", chunk))
    return Corpus(tuple(entries), str(folder))


def chunk_text(text: str, max_words: int) -> list[str]:
    """Paragraphs (blank-line separated) packed greedily into chunks of at most ``max_words`` words.

    A paragraph longer than a chunk is cut into pieces of ``max_words`` words.
    """
    pieces: list[list[str]] = []
    for paragraph in text.split("\n\n"):
        words = paragraph.split()
        pieces += [words[i : i + max_words] for i in range(0, len(words), max_words)]
    chunks: list[list[str]] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + len(piece) <= max_words:
            chunks[-1] = chunks[-1] + piece
        else:
            chunks.append(piece)
    return [" ".join(words) for words in chunks]


def read_jsonl(path: Path, task: Task) -> Corpus:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchError(
            f"retrieval corpus file not found: {path}", hint="corpus.path is relative to the suite file"
        ) from None
    problems: list[Problem] = []
    entries: list[CorpusEntry] = []
    seen: set[str] = set()
    # As the data's own files (harness/data/splits.py): split on newlines only, and a line that is not
    # UTF-8 is a problem at its byte offset.
    for line_no, line in decoded_lines(raw, path, problems):
        if line is None or not line.strip():
            continue
        entry = _parse_line(line, line_no, path, task, problems)
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(Problem(str(path), line_no, "id", f"duplicate id '{entry.id}'"))
            continue
        seen.add(entry.id)
        entries.append(entry)
    if not entries and not problems:
        problems.append(Problem(str(path), None, None, "the corpus is empty: expected at least one JSONL line"))
    if problems:
        raise BenchError(f"{path}: {len(problems)} problem(s) in the retrieval corpus", problems=problems[:50])
    return Corpus(tuple(entries), str(path))


def _parse_line(line: str, line_no: int, path: Path, task: Task, problems: list[Problem]) -> CorpusEntry | None:
    row = read_json_object(
        line, line_no, path, problems, expected='expected a JSON object: {"text": ...} or {"messages": [...]}'
    )
    if row is None:
        return None
    if "messages" in row:  # a labelled item in the task's own format: the data's rule, word for word
        item = chat_item(row, line_no, path, task, problems, default_id=f"line-{line_no}")
        if item is None:
            return None
        body = query_text(item.prompt_messages())
        return CorpusEntry(
            id=item.id,
            text=body,
            answer=item.answer,
            label=item.label,
            content_hash=item.content_hash,
            text_hash=text_hash(body),
        )
    unknown = set(row) - {"id", "text", "label"}
    if unknown:
        problems.append(
            Problem(
                str(path),
                line_no,
                sorted(unknown)[0],
                "unknown field; a document line holds 'text' and optionally 'id' and 'label'",
            )
        )
        return None
    body = row.get("text")
    if not isinstance(body, str) or not body.strip():
        problems.append(Problem(str(path), line_no, "text", "expected non-empty text"))
        return None
    label = row.get("label")
    if label is not None and label not in getattr(task, "labels", (label,)):
        problems.append(Problem(str(path), line_no, "label", f"label {label!r} is not one of the task's labels"))
        return None
    return document_entry(str(row.get("id", f"line-{line_no}")), body, label=label)


def document_entry(entry_id: str, body: str, *, label: str | None = None) -> CorpusEntry:
    # A document has no answer; its content hash is its text's, which is what the guard compares.
    return CorpusEntry(
        id=entry_id, text=body, answer=None, label=label, content_hash=text_hash(body), text_hash=text_hash(body)
    )
