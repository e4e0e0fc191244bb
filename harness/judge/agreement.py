"""How far to trust the judge: its agreement with a person's grades, and with ROUGE-L.

A suite may ship a small human-graded sample (``judge.human_grades``: JSONL of
``{"item_id", "variant", "grade"}``). Numeric grades are compared with the judge's
scores by Spearman's rank correlation (scipy); pass/fail grades (true/false, or
"pass"/"fail") with the judge's pass (score at least ``pass_mark``) by Cohen's kappa
(scikit-learn). Only items the judge's reply could be read for count; the rest are
counted beside the figure.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from harness.core.errors import BenchError, Problem

_PASS = {"pass": True, "fail": False}


def load_human_grades(path: Path, shown_as: str) -> list[dict]:
    """Every line checked; every problem reported at once with its line and field (exit code 2)."""
    problems: list[Problem] = []
    grades: list[dict] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchError(f"judge.human_grades: cannot read {shown_as}: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            problems.append(Problem(shown_as, number, None, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(row, dict):
            problems.append(Problem(shown_as, number, None, "expected an object {item_id, variant, grade}"))
            continue
        for key in ("item_id", "variant"):
            if not isinstance(row.get(key), str) or not row.get(key):
                problems.append(Problem(shown_as, number, key, "required: a non-empty string"))
        grade = row.get("grade")
        if isinstance(grade, str) and grade.casefold() in _PASS:
            grade = _PASS[grade.casefold()]
        if not isinstance(grade, (bool, int, float)) or (isinstance(grade, float) and not math.isfinite(grade)):
            problems.append(
                Problem(shown_as, number, "grade", f"expected a number, true/false or pass/fail, not {grade!r}")
            )
            continue
        grades.append({"item_id": row.get("item_id"), "variant": row.get("variant"), "grade": grade, "line": number})
    kinds = {isinstance(g["grade"], bool) for g in grades}
    if len(kinds) > 1:
        problems.append(Problem(shown_as, None, "grade", "mixes pass/fail and numeric grades; use one kind"))
    if not grades and not problems:
        problems.append(Problem(shown_as, None, None, "holds no grades"))
    if problems:
        raise BenchError("judge.human_grades has problems", problems=problems)
    return grades


def human_agreement(grades: list[dict], rows_by_variant: dict[str, list[dict]], pass_mark: float) -> dict:
    judged = {(v, r["item_id"]): r for v, rows in rows_by_variant.items() for r in rows if "judge_ok" in r}
    pairs, unparsed, missing = [], 0, 0
    for g in grades:
        row = judged.get((g["variant"], g["item_id"]))
        if row is None:
            missing += 1
        elif not row["judge_ok"]:
            unparsed += 1
        else:
            pairs.append((g["grade"], row["judge_score"]))
    out = {"graded": len(grades), "compared": len(pairs), "judge_unparsed": unparsed, "not_judged": missing}
    if isinstance(grades[0]["grade"], bool):
        from sklearn.metrics import cohen_kappa_score

        human = [bool(h) for h, _ in pairs]
        machine = [s >= pass_mark for _, s in pairs]
        kappa = float(cohen_kappa_score(human, machine)) if len(set(human) | set(machine)) > 1 else None
        out.update(statistic="cohen_kappa", value=_finite(kappa), pass_mark=pass_mark)
    else:
        out.update(statistic="spearman", value=_spearman([h for h, _ in pairs], [s for _, s in pairs]))
    return out


def rouge_agreement(rows_by_variant: dict[str, list[dict]]) -> dict:
    """Spearman of judge score and ROUGE-L over items (read replies only), and over the variants' means."""
    per_variant, means = {}, {}
    for name, rows in rows_by_variant.items():
        ok = [r for r in rows if r.get("judge_ok") and isinstance(r.get("rouge_l"), (int, float))]
        if not ok:
            continue
        per_variant[name] = _spearman([r["judge_score"] for r in ok], [r["rouge_l"] for r in ok])
        means[name] = (
            sum(r["judge_score"] for r in ok) / len(ok),
            sum(r["rouge_l"] for r in rows if isinstance(r.get("rouge_l"), (int, float))) / len(rows),
        )
    ranking = _spearman([j for j, _ in means.values()], [r for _, r in means.values()]) if len(means) >= 3 else None
    return {"items_spearman": per_variant, "variant_ranking_spearman": ranking}


def _spearman(a: list[float], b: list[float]) -> float | None:
    """None where it is undefined: under three pairs, or either side constant."""
    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None
    from scipy.stats import spearmanr

    return _finite(float(spearmanr(a, b).statistic))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
