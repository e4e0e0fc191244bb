"""Issue 17: the recommendation calls variants tied only inside a practical margin, and binary headlines use McNemar."""

from __future__ import annotations

import pytest

from harness.report.measures import measures_for
from harness.report.paired import Delta, PairedComparison, compare
from harness.report.recommend import Candidate, recommend


def candidate(name: str, score: float, cost: float, half: float = 0.1) -> Candidate:
    metric = {"value": score, "ci_low": score - half, "ci_high": score + half, "n": 50}
    return Candidate(
        name=name,
        score=metric,
        second=metric,
        accuracy=metric,
        format_compliance={"value": 1.0},
        cost=cost,
        cost_unit="s",
        trains=name == "lora",
    )


def comparing(gaps: dict[str, tuple[float, float, float]]):
    """compare(a, b): B against A, with B the leader; ``gaps`` gives leader - a as (value, low, high)."""

    def compare_fn(a: str, b: str) -> PairedComparison | None:
        if a not in gaps:
            return None
        value, low, high = gaps[a]
        return PairedComparison(a=a, b=b, n_items=50, deltas={"macro_f1": Delta(value, low, high)})

    return compare_fn


def test_a_gap_that_is_merely_not_significant_is_not_a_tie():
    # 50 items, few-shot truly 12 points below LoRA: not significant, but far from shown to be close.
    lora, few = candidate("lora", 0.80, cost=600), candidate("few-shot", 0.68, cost=5)
    rec = recommend([lora, few], comparing({"few-shot": (0.12, -0.02, 0.26)}), base=None, n_test=50)
    assert rec.pick == "lora" and rec.contenders == ["lora"]  # the cheaper one was shipped before
    assert rec.verdict == "inconclusive" and "cannot be told apart from it" in rec.headline
    assert any("Not shown to be within 2 points of lora" in line and "few-shot" in line for line in rec.evidence)
    assert "within the practical margin of 2 points either way" in " ".join(rec.rule)


@pytest.mark.parametrize("margin, pick", [(0.02, "few-shot"), (0.005, "lora")])
def test_a_gap_inside_the_practical_margin_is_a_tie_and_the_margin_is_a_setting(margin, pick):
    lora, few = candidate("lora", 0.80, cost=600), candidate("few-shot", 0.795, cost=5)
    rec = recommend([lora, few], comparing({"few-shot": (0.005, -0.01, 0.015)}), base=None, n_test=50, margin=margin)
    assert rec.pick == pick


def test_a_binary_headline_uses_mcnemar_in_the_words_and_the_number():
    # Generation's pass rate: B broke 4 items and fixed none of 100. The exact McNemar p is 0.125, so
    # the interval printed beside it must not call B worse (the bootstrap did).
    rows_a = {str(i): {"item_id": str(i), "correct": i < 64, "format_ok": True} for i in range(100)}
    rows_b = {str(i): {"item_id": str(i), "correct": 4 <= i < 64, "format_ok": True} for i in range(100)}
    paired = compare("a", rows_a, "b", rows_b, [], metrics=("accuracy",))
    assert paired.mcnemar_p == pytest.approx(0.125)
    assert paired.delta == pytest.approx(-0.04) and paired.delta_low < 0 < paired.delta_high
    assert paired.verdict == "inconclusive"
    assert measures_for("generation").headline.key == "accuracy"
