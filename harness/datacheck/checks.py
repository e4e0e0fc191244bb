"""Every data check, run over a set of split files: ``check_data(files, task) -> DataCheckReport``.

Lines are read with harness.data.splits's own line checks, so a file passes here
exactly when `bench run` would accept its lines. On top of that:

- within a split: repeated ids, the same input with two different answers,
  exact duplicates, near-duplicates (word n-gram Jaccard);
- across splits: leakage, i.e. an input of a later split (validation, test)
  found in an earlier one, exactly or mostly (n-gram containment);
- labels: a known label missing from a split, imbalance, a shift in the label
  mix between train and the other splits;
- lengths: items far longer or shorter than the rest of their split.

Each check also says which lines a cleaned copy leaves out (``removals``); the
checks decide, ``fix.py`` only writes. For leakage the copy in the earlier split
(the training side) goes, so the test set stays as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from harness.core.errors import BenchError, Problem
from harness.data.chat import Item, parse_chat_line
from harness.data.text import decoded_lines
from harness.datacheck.near_dupes import WORD, contained_pairs, near_duplicate_pairs
from harness.datacheck.report import DataCheckReport, Finding, SplitStats

SPLIT_RANK = {"train": 0, "validation": 1, "test": 2}  # other names rank with validation


@dataclass(frozen=True)
class CheckOptions:
    ngram: int = 3  # words per shingle
    near_duplicate: float = 0.8  # Jaccard at or above which two items of a split are near-duplicates
    leakage: float = 0.8  # share of an item's shingles found in one earlier-split item that counts as leaked
    max_imbalance: float = 5.0  # most common label / least common label
    max_label_shift: float = 0.2  # total variation distance between train's label mix and another split's
    min_items_for_shift: int = 20  # below this, a label mix is too noisy to compare
    length_fence: float = 3.0  # outlier beyond quartile +- this many interquartile ranges
    min_items_for_lengths: int = 8

    def __post_init__(self) -> None:
        problems = []
        if self.ngram < 1:
            problems.append(f"ngram must be at least 1, got {self.ngram}")
        for name in ("near_duplicate", "leakage"):
            if not 0 < getattr(self, name) <= 1:
                problems.append(f"{name} threshold must be in (0, 1], got {getattr(self, name)}")
        if self.max_imbalance < 1:
            problems.append(f"max_imbalance must be at least 1, got {self.max_imbalance}")
        if problems:
            raise BenchError("invalid data check options: " + "; ".join(problems))


class FreeTextTask:
    """The task when none is given: any non-empty answer is well-formed and there is no label set."""

    needs_label = False
    labels: tuple[str, ...] = ()

    def label_of(self, answer: str) -> None:
        return None

    def check_gold(self, answer: str) -> None:
        return None  # emptiness is already caught by the chat-format check

    def describe_answer(self) -> str:
        return "any non-empty text"


@dataclass
class LoadedSplit:
    name: str
    path: Path
    sha256: str
    lines: dict[int, str]  # line number -> raw text, non-blank lines only
    items: list[Item]
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, item: Item) -> int:
        return int(item.source.rsplit(":", 1)[1])

    def where(self, item: Item) -> str:
        return f"{self.path.name}:{self.line_of(item)}"


def check_data(files: dict[str, str | Path], task=None, options: CheckOptions = CheckOptions()) -> DataCheckReport:
    """Check split files (name -> path). ``task`` gives the label set; None checks answers as free text.

    Raises BenchError only when a file cannot be read at all.
    """
    task = task or FreeTextTask()
    ordered = sorted(files.items(), key=lambda kv: SPLIT_RANK.get(kv[0], 1))
    splits = {name: read_lines(name, Path(path), task) for name, path in ordered}
    findings: list[Finding] = []
    removals: dict[str, dict[int, str]] = {name: {} for name in splits}

    def drop(split: LoadedSplit, line: int, why: str) -> None:
        removals[split.name].setdefault(line, why)

    for split in splits.values():
        findings += check_format(split, drop)
        findings += check_repeats(split, drop)
        findings += check_near_duplicates(split, options, drop)
    findings += check_leakage(list(splits.values()), options, drop)
    labels = label_counts(splits, task)
    findings += check_labels(splits, labels, task, options)
    for split in splits.values():
        findings += check_lengths(split, options)
    stats = {name: split_stats(split, labels.get(name)) for name, split in splits.items()}
    return DataCheckReport(
        splits=stats,
        findings=findings,
        options=asdict(options),
        removals={name: dict(sorted(lines.items())) for name, lines in removals.items()},
    )


def read_lines(name: str, path: Path, task) -> LoadedSplit:
    """Every line through harness.data.splits's line checks; bad lines become problems, not an exception."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchError(f"data file not found: {path}") from None
    except OSError as exc:
        raise BenchError(f"cannot read {path}: {exc.strerror or exc}") from None
    split = LoadedSplit(name=name, path=path, sha256=hashlib.sha256(raw).hexdigest(), lines={}, items=[])
    # A line that is not UTF-8 is a format problem at its byte offset (never silently replaced): it is
    # reported, and --fix leaves it out.
    for line_no, line in decoded_lines(raw, path, split.problems):
        if line is None:
            split.lines[line_no] = raw.split(b"\n")[line_no - 1].decode("utf-8", errors="replace")
            continue
        if not line.strip():
            continue
        split.lines[line_no] = line
        item = parse_chat_line(line, line_no, name, path, task, split.problems)
        if item is not None:
            split.items.append(item)
    if not split.lines:
        split.problems.append(
            Problem(str(path), None, None, f"split '{name}' is empty: expected at least one JSONL line")
        )
    return split


def item_text(item: Item) -> str:
    """The input as the model sees it, without the system prompt (shared by every item, so it says nothing)."""
    return "\n".join(m["content"] for m in item.prompt if m["role"] != "system")


def input_key(item: Item) -> str:
    turns = [[m["role"], " ".join(m["content"].split())] for m in item.prompt if m["role"] != "system"]
    return hashlib.sha256(json.dumps(turns).encode()).hexdigest()


def check_format(split: LoadedSplit, drop) -> list[Finding]:
    findings = []
    for problem in split.problems:
        field_part = f"{problem.field}: " if problem.field else ""
        where = f"{split.path.name}:{problem.line}" if problem.line else split.path.name
        findings.append(
            Finding(
                "format",
                "error",
                split.name,
                f"{where}: {field_part}{problem.message}",
                (f"{split.path}:{problem.line}",) if problem.line else (str(split.path),),
            )
        )
        if problem.line:
            drop(split, problem.line, f"format: {field_part}{problem.message}")
    return findings


def check_repeats(split: LoadedSplit, drop) -> list[Finding]:
    """Repeated ids; one input with different answers; the same item twice."""
    findings = []
    first_id: dict[str, Item] = {}
    for item in split.items:
        if item.id in first_id:
            findings.append(
                Finding(
                    "duplicate_id",
                    "error",
                    split.name,
                    f"{split.where(item)}: id '{item.id}' is already used on {split.where(first_id[item.id])} "
                    "(bench refuses files with repeated ids)",
                    (item.source, first_id[item.id].source),
                )
            )
            drop(split, split.line_of(item), f"duplicate id '{item.id}'")
        first_id.setdefault(item.id, item)
    groups: dict[str, list[Item]] = {}
    for item in split.items:
        groups.setdefault(input_key(item), []).append(item)
    for group in groups.values():
        if len(group) < 2:
            continue
        where = ", ".join(split.where(i) for i in group)
        answers = sorted({" ".join(i.answer.split()) for i in group})
        if len(answers) > 1:
            findings.append(
                Finding(
                    "conflicting_answers",
                    "error",
                    split.name,
                    f"the same input has {len(answers)} different answers "
                    f"({', '.join(map(repr, answers[:4]))}): {where}",
                    tuple(i.source for i in group),
                )
            )
            for item in group:  # no way to tell which answer is right
                drop(split, split.line_of(item), "conflicting answers for the same input")
        else:
            findings.append(
                Finding(
                    "exact_duplicate",
                    "warning",
                    split.name,
                    f"the same item {len(group)} times: {where}",
                    tuple(i.source for i in group),
                )
            )
            for item in group[1:]:
                drop(split, split.line_of(item), f"exact duplicate of {split.where(group[0])}")
    return findings


def check_near_duplicates(split: LoadedSplit, options: CheckOptions, drop) -> list[Finding]:
    keys = [input_key(item) for item in split.items]
    pairs = [
        p
        for p in near_duplicate_pairs(
            [item_text(i) for i in split.items], n=options.ngram, threshold=options.near_duplicate
        )
        if keys[p.a] != keys[p.b]
    ]
    # Near-duplicates form clusters (A~B, B~C); one finding per cluster, keep its first item.
    parent = list(range(len(split.items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pair in pairs:
        parent[max(root(pair.a), root(pair.b))] = min(root(pair.a), root(pair.b))
    clusters: dict[int, list[int]] = {}
    for pair in pairs:
        for index in (pair.a, pair.b):
            members = clusters.setdefault(root(index), [])
            if index not in members:
                members.append(index)
    findings = []
    for head, members in sorted(clusters.items()):
        members.sort()
        lowest = min(p.score for p in pairs if root(p.a) == head)
        items = [split.items[i] for i in members]
        findings.append(
            Finding(
                "near_duplicate",
                "warning",
                split.name,
                f"{len(items)} near-duplicate items (word {options.ngram}-gram Jaccard >= {lowest:.2f}): "
                + ", ".join(split.where(i) for i in items),
                tuple(i.source for i in items),
                round(lowest, 4),
            )
        )
        for item in items[1:]:
            drop(split, split.line_of(item), f"near-duplicate of {split.where(items[0])}")
    return findings


def check_leakage(splits: list[LoadedSplit], options: CheckOptions, drop) -> list[Finding]:
    """Inputs of a later split (the one scored) found in an earlier one (the one learnt from)."""
    findings = []
    for later_index, later in enumerate(splits):
        for earlier in splits[:later_index]:
            earlier_keys: dict[str, list[Item]] = {}
            for item in earlier.items:
                earlier_keys.setdefault(input_key(item), []).append(item)
            exact = set()
            for index, item in enumerate(later.items):
                copies = earlier_keys.get(input_key(item), [])
                if copies:
                    exact.add(index)
                    findings.append(
                        Finding(
                            "leakage",
                            "error",
                            later.name,
                            f"{later.where(item)} ({later.name}) has the same input as "
                            + ", ".join(earlier.where(c) for c in copies)
                            + f" ({earlier.name})",
                            (item.source, *(c.source for c in copies)),
                            1.0,
                        )
                    )
                    for copy in copies:
                        drop(earlier, earlier.line_of(copy), f"same input as {later.where(item)} ({later.name})")
            contained: dict[int, list] = {}
            for pair in contained_pairs(
                [item_text(i) for i in later.items],
                [item_text(i) for i in earlier.items],
                n=options.ngram,
                threshold=options.leakage,
            ):
                if pair.a not in exact:
                    contained.setdefault(pair.a, []).append(pair)
            for index, found in sorted(contained.items()):
                item = later.items[index]
                best = max(p.score for p in found)
                sources = [earlier.items[p.b] for p in found]
                findings.append(
                    Finding(
                        "near_leakage",
                        "error",
                        later.name,
                        f"{later.where(item)} ({later.name}): {best:.0%} of its word {options.ngram}-grams "
                        f"appear in " + ", ".join(earlier.where(s) for s in sources) + f" ({earlier.name})",
                        (item.source, *(s.source for s in sources)),
                        round(best, 4),
                    )
                )
                for source in sources:
                    drop(earlier, earlier.line_of(source), f"overlaps {later.where(item)} ({later.name})")
    return findings


def label_counts(splits: dict[str, LoadedSplit], task) -> dict[str, dict[str, int]]:
    """Label counts per split: the task's labels, or the answers themselves when they look categorical."""
    if task.needs_label:
        return {name: _sorted_counts(i.label for i in split.items) for name, split in splits.items()}
    answers = [" ".join(i.answer.split()) for split in splits.values() for i in split.items]
    distinct = len(set(answers))
    if not answers or distinct > 50 or distinct > len(answers) / 2:
        return {}  # free text: a distribution of answers would say nothing
    return {name: _sorted_counts(" ".join(i.answer.split()) for i in split.items) for name, split in splits.items()}


def _sorted_counts(values) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], str(kv[0]))))


def check_labels(
    splits: dict[str, LoadedSplit], labels: dict[str, dict[str, int]], task, options: CheckOptions
) -> list[Finding]:
    findings = []
    known = list(getattr(task, "labels", ()) or [])
    train = labels.get("train")
    for name, counts in labels.items():
        if not counts:
            continue
        expected = known or (list(train) if train and name != "train" else [])
        for label in expected:
            if label not in counts:
                effect = "the model cannot learn it" if name == "train" else "it is never scored"
                findings.append(Finding("missing_label", "warning", name, f"{name} has no '{label}' item: {effect}"))
        if len(counts) >= 2:
            ratio = max(counts.values()) / min(counts.values())
            if ratio >= options.max_imbalance:
                most, least = max(counts, key=counts.get), min(counts, key=counts.get)
                findings.append(
                    Finding(
                        "label_imbalance",
                        "warning",
                        name,
                        f"{name}: '{most}' has {counts[most]} items, '{least}' {counts[least]} "
                        f"(ratio {ratio:.1f}; macro-F1 and per-class recall matter more than accuracy here)",
                        score=round(ratio, 3),
                    )
                )
        if train and name != "train":
            n_train, n_other = sum(train.values()), sum(counts.values())
            if min(n_train, n_other) >= options.min_items_for_shift:
                shift = 0.5 * sum(
                    abs(train.get(k, 0) / n_train - counts.get(k, 0) / n_other) for k in set(train) | set(counts)
                )
                if shift >= options.max_label_shift:
                    findings.append(
                        Finding(
                            "label_shift",
                            "warning",
                            name,
                            f"{name}'s label mix differs from train's by {shift:.2f} (total variation distance)",
                            score=round(shift, 4),
                        )
                    )
    return findings


def item_words(item: Item) -> int:
    return len(WORD.findall(item_text(item))) + len(WORD.findall(item.answer))


def check_lengths(split: LoadedSplit, options: CheckOptions) -> list[Finding]:
    if len(split.items) < options.min_items_for_lengths:
        return []
    words = np.array([item_words(i) for i in split.items])
    q1, median, q3 = np.percentile(words, [25, 50, 75])
    # A floor on the spread, so a split of near-equal lengths does not flag every small difference.
    spread = max(q3 - q1, 0.25 * median, 1.0)
    high, low = q3 + options.length_fence * spread, q1 - options.length_fence * spread
    findings = []
    for label, mask, bound in (("longer", words > high, f"> {high:.0f}"), ("shorter", words < low, f"< {low:.0f}")):
        outliers = [split.items[i] for i in np.flatnonzero(mask)]
        if outliers:
            shown = ", ".join(f"{split.where(i)} ({item_words(i)} words)" for i in outliers[:5])
            more = f" and {len(outliers) - 5} more" if len(outliers) > 5 else ""
            findings.append(
                Finding(
                    "length_outlier",
                    "warning",
                    split.name,
                    f"{len(outliers)} item(s) far {label} than the rest of {split.name} ({bound} words; "
                    f"median {median:.0f}): {shown}{more}",
                    tuple(i.source for i in outliers),
                )
            )
    return findings


def split_stats(split: LoadedSplit, labels: dict[str, int] | None) -> SplitStats:
    words = [item_words(i) for i in split.items]
    summary = {}
    if words:
        p50, p95 = np.percentile(words, [50, 95])
        summary = {"min": float(min(words)), "median": float(p50), "p95": float(p95), "max": float(max(words))}
    return SplitStats(
        name=split.name,
        path=str(split.path),
        sha256=split.sha256,
        lines=len(split.lines),
        items=len(split.items),
        labels=labels if labels else None,
        words=summary,
    )
