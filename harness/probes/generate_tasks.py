"""Write the data files of bench's probe tasks (harness/probes/tasks/data/*.jsonl).

    python -m harness.probes.generate_tasks

The output is deterministic: knowledge and commonsense items come from the
hand-written lists in sources/, everything with numbers or string formats is
generated from a fixed seed, so it is correct by construction. A test checks
that the shipped files equal what this script writes.

Item order is shuffled with the seed as well, because probes usually run with
a `limit` (the first N items): the first N should mix all kinds of question.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
DATA_DIR = HERE / "tasks" / "data"
SEED = 20240605


# ----------------------------------------------------------------------------- helpers
def read_choice_list(path: Path) -> list[tuple[str, list[str]]]:
    """Parse 'question | correct | distractor | ...' lines; '#' starts a comment."""
    rows = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3 or len(set(parts[1:])) != len(parts) - 1:
            raise ValueError(f"{path}:{lineno}: need a question and >= 2 distinct choices")
        rows.append((parts[0], parts[1:]))
    return rows


def mc_item(question: str, correct: str, distractors: list[str], rng: random.Random) -> dict:
    """Shuffle the choices so the gold answer sits at a random position."""
    choices = [correct, *distractors]
    rng.shuffle(choices)
    return {"question": question, "choices": choices, "answer": choices.index(correct)}


def near_misses(correct: int, candidates: list[int], question: str, rng: random.Random, k: int = 3) -> list[int] | None:
    """Pick k distinct wrong answers from candidates; None if there are too few.

    Never negative, never the correct answer, never a number written in the question.
    """
    in_question = {int(x) for x in re.findall(r"\d+", question)}
    pool = sorted({c for c in candidates if c != correct and c >= 0 and c not in in_question})
    return rng.sample(pool, k) if len(pool) >= k else None


def with_ids(prefix: str, items: list[dict], rng: random.Random) -> list[dict]:
    rng.shuffle(items)
    return [{"id": f"{prefix}-{i:03d}", **item} for i, item in enumerate(items)]


# ----------------------------------------------------------------------------- hand-written lists
def choice_list_items(source: str, prefix: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = read_choice_list(SOURCES / source)
    items = [mc_item(q, choices[0], choices[1:], rng) for q, choices in rows]
    return with_ids(prefix, items, rng)


# ----------------------------------------------------------------------------- arithmetic, multiple choice
# Distractors are wrong by a tens digit or by the wrong operation, not by 1: a
# 135M model cannot tell 93 from 92 by log-likelihood (it sits below chance on
# such items, leaving nothing to forget), but it can tell 93 from 83 or 31.
# Numbers copied from the question are never distractors: small models favour
# them whatever the question asks.
def _add(rng):
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    s = a + b
    return f"What is {a} + {b}?", s, [s + 10, s - 10, s + 20, s - 20, abs(a - b)]


def _sub(rng):
    a = rng.randint(30, 99)
    b = rng.randint(10, a - 1)
    d = a - b
    return f"What is {a} - {b}?", d, [d + 10, d - 10, d + 20, a + b]


def _mul(rng):
    a, b = rng.randint(3, 12), rng.randint(3, 12)
    p = a * b
    return f"What is {a} times {b}?", p, [p + a, p - a, p + b, p - b, a + b]


def _half(rng):
    k = rng.randint(6, 60)
    return f"What is half of {2 * k}?", k, [4 * k, k + 10, k - 10, k + 5]


def _round_ten(rng):
    n = rng.choice([x for x in range(11, 990) if x % 10 not in (0, 5)])
    down, up = n - n % 10, n - n % 10 + 10
    correct, other = (down, up) if n % 10 < 5 else (up, down)
    beyond = correct - 10 if other > correct else correct + 10
    hundred = (n + 50) // 100 * 100
    return f"What is {n} rounded to the nearest ten?", correct, [other, beyond, hundred, correct + 100]


def _sequence(rng):
    a, d = rng.randint(1, 30), rng.randint(2, 9)
    terms = [a + i * d for i in range(4)]
    nxt = a + 4 * d
    question = f"What number comes next: {', '.join(map(str, terms))}?"
    candidates = [nxt + d, nxt + 10, nxt - 10, nxt + 2 * d, nxt + 20]
    return question, nxt, [c for c in candidates if c not in terms]


INT_KINDS = [_add, _sub, _mul, _half, _round_ten, _sequence]


def _number_pair(rng: random.Random) -> tuple[str, str, float, float]:
    """Two numbers to compare; half are decimal traps like 0.7 vs 0.65."""
    if rng.random() < 0.5:
        tenths = rng.randint(2, 8)
        hundredths = rng.randint(10, 99)
        while hundredths // 10 == tenths or hundredths % 10 == 0:
            hundredths = rng.randint(10, 99)
        x, y = f"0.{tenths}", f"0.{hundredths:02d}"
    else:
        n = rng.randint(1000, 9899)
        digits = list(str(n))
        i, j = rng.sample(range(1, 4), 2)  # swap two inner digits: close, easy to misread
        digits[i], digits[j] = digits[j], digits[i]
        m = int("".join(digits))
        if m == n:
            m = n + rng.randint(1, 99)
        x, y = str(n), str(m)
    return x, y, float(x), float(y)


def _compare(rng, larger: bool):
    x, y, fx, fy = _number_pair(rng)
    word = "larger" if larger else "smaller"
    gold = x if (fx > fy) == larger else y
    other = y if gold == x else x
    return f"Which number is {word}: {x} or {y}?", gold, [other]


def arithmetic_mc_items(seed: int, per_kind: int = 25) -> list[dict]:
    rng = random.Random(seed)
    makers = {k.__name__[1:]: k for k in INT_KINDS}
    makers["larger"] = lambda r: _compare(r, larger=True)
    makers["smaller"] = lambda r: _compare(r, larger=False)
    items, seen = [], set()
    for kind, make in makers.items():
        count = 0
        while count < per_kind:
            question, correct, candidates = make(rng)
            if question in seen:
                continue
            seen.add(question)
            if kind in ("larger", "smaller"):
                wrong = candidates  # the other number of the pair
            else:
                picked = near_misses(correct, candidates, question, rng)
                if picked is None:
                    continue
                wrong = [str(w) for w in picked]
            items.append({"kind": kind, **mc_item(question, str(correct), wrong, rng)})
            count += 1
    return with_ids("ar", items, rng)


# ----------------------------------------------------------------------------- arithmetic, generation
def arithmetic_gen_items(seed: int, per_kind: int = 50) -> list[dict]:
    rng = random.Random(seed)
    items, seen = [], set()
    for kind in (_add, _sub, _mul):
        count = 0
        while count < per_kind:
            question, correct, _ = kind(rng)
            if question in seen:
                continue
            seen.add(question)
            items.append({"kind": kind.__name__[1:], "question": question, "target": str(correct)})
            count += 1
    return with_ids("ag", items, rng)


# ----------------------------------------------------------------------------- format following, generation
NOUNS = """apple river garden window pencil orange mountain candle bottle rabbit forest
castle mirror ladder basket blanket button camera carpet cookie dragon engine flower
guitar hammer island jacket kettle lemon market needle ocean pepper pillow planet pocket
rocket saddle silver spider tiger tomato tunnel turtle violin wallet winter zebra anchor
bridge cactus dolphin feather harbor""".split()
SHORT_WORDS = "dog sun map cup hat pen box bird fish tree lamp book door ship star moon frog cake rain milk".split()
ADJECTIVES = "red blue old big small fresh quiet dark sweet cold warm happy bright".split()
NAMES = (
    "Ana Omar Lena Kenji Priya Lucas Fatima Noah Elena Tomas Aisha Diego Mei Ivan Sara Kofi Hana Leo Nadia Ravi".split()
)


def _two_words(rng):
    return f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"


# (kind, instruction, demonstration input, how to draw an input, the transformation)
FORMAT_KINDS = [
    ("upper", "Write the word in capital letters.", "table", lambda r: r.choice(NOUNS), str.upper),
    ("lower", "Write the word in lowercase letters.", "TABLE", lambda r: r.choice(NOUNS).upper(), str.lower),
    ("brackets", "Put the word in square brackets.", "table", lambda r: r.choice(NOUNS), lambda w: f"[{w}]"),
    ("quotes", "Put the word in double quotes.", "table", lambda r: r.choice(NOUNS), lambda w: f'"{w}"'),
    ("first_letter", "Write only the first letter of the word.", "table", lambda r: r.choice(NOUNS), lambda w: w[0]),
    ("twice", "Write the word twice, separated by a comma.", "table", lambda r: r.choice(NOUNS), lambda w: f"{w}, {w}"),
    ("underscore", "Join the two words with an underscore.", "green tea", _two_words, lambda w: w.replace(" ", "_")),
    ("title", "Capitalize the first letter of each word.", "green tea", _two_words, str.title),
    (
        "json",
        'Write the name as JSON with the key "name".',
        "Maria",
        lambda r: r.choice(NAMES),
        lambda w: json.dumps({"name": w}),
    ),
    (
        "hyphens",
        "Write the letters of the word separated by hyphens.",
        "cat",
        lambda r: r.choice(SHORT_WORDS),
        "-".join,
    ),
]


def format_following_items(seed: int, per_kind: int = 16) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for kind, instruction, demo, draw, transform in FORMAT_KINDS:
        inputs: list[str] = []
        while len(inputs) < per_kind:
            word = draw(rng)
            if word not in inputs and word != demo:
                inputs.append(word)
        for word in inputs:
            items.append(
                {
                    "kind": kind,
                    "instruction": instruction,
                    "example_input": demo,
                    "example_output": transform(demo),
                    "input": word,
                    "target": transform(word),
                }
            )
    return with_ids("ff", items, rng)


# ----------------------------------------------------------------------------- all files
def build_all(seed: int = SEED) -> dict[str, list[dict]]:
    """File name -> items. Each file gets its own derived seed."""
    return {
        "world_knowledge.jsonl": choice_list_items("world_knowledge.txt", "wk", seed + 1),
        "commonsense.jsonl": choice_list_items("commonsense.txt", "cs", seed + 2),
        "arithmetic.jsonl": arithmetic_mc_items(seed + 3),
        "arithmetic_gen.jsonl": arithmetic_gen_items(seed + 4),
        "format_following.jsonl": format_following_items(seed + 5),
    }


def to_jsonl(items: list[dict]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def main() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, items in build_all().items():
        (DATA_DIR / name).write_text(to_jsonl(items))
        print(f"{DATA_DIR / name}: {len(items)} items")


if __name__ == "__main__":
    main()
