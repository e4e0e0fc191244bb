"""Answer parsing and classification metrics, with exact expected values."""

from __future__ import annotations

import pytest

from harness.stats.intervals import proportion
from harness.tasks import ClassificationTaskRules
from harness.tasks.classification import score_classification

TASK = ClassificationTaskRules(labels=("sale", "sale_of_goods", "lease"), answer_format="contract_type: {label}")


@pytest.mark.parametrize(
    "output, label, format_ok",
    [
        ("contract_type: lease", "lease", True),
        ("  contract_type: sale_of_goods\n", "sale_of_goods", True),  # surrounding whitespace is not a format error
        ("contract_type: sale", "sale", True),
        ("contract_type: lease.", "lease", False),  # right label, stray punctuation
        ("Contract_Type: LEASE", "lease", False),
        ("I think it is a lease", "lease", False),
        ("contract_type: leasehold", None, False),  # no whole-word label
        ("", None, False),
        ("contract_type: rent", None, False),
    ],
)
def test_parse(output, label, format_ok):
    parsed = TASK.parse(output)
    assert (parsed.answer, parsed.format_ok) == (label, format_ok)


def test_label_of_is_strict():
    assert TASK.label_of("contract_type: lease") == "lease"
    assert TASK.label_of("contract_type: lease.") is None


def test_wilson_interval_exact_values():
    result = proportion(8, 10)
    assert result["value"] == 0.8
    assert result["ci_low"] == pytest.approx(0.4902, abs=1e-4)
    assert result["ci_high"] == pytest.approx(0.9433, abs=1e-4)


def test_classification_metrics_exact():
    gold = ["a", "a", "b", "b", "c", "c"]
    pred = ["a", "b", "b", "b", None, "c"]
    fmt = [True, True, True, False, False, True]
    m = score_classification(gold, pred, fmt, ["a", "b", "c"], seed=0)
    assert m["accuracy"]["value"] == pytest.approx(4 / 6)
    assert m["format_compliance"]["value"] == pytest.approx(4 / 6)
    assert m["invalid_rate"]["value"] == pytest.approx(1 / 6)
    # per class: a P=1 R=.5 F=2/3; b P=2/3 R=1 F=.8; c P=1 R=.5 F=2/3
    assert m["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.8)
    assert m["macro_f1"]["value"] == pytest.approx((2 / 3 + 0.8 + 2 / 3) / 3)
    assert m["confusion"]["labels"] == ["a", "b", "c", "<invalid>"]
    assert m["confusion"]["matrix"] == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 1]]
    low, high = m["macro_f1"]["ci_low"], m["macro_f1"]["ci_high"]
    assert 0 <= low <= m["macro_f1"]["value"] <= high <= 1


def test_bootstrap_interval_is_deterministic_for_a_seed():
    args = (["a", "b"] * 10, ["a", "a"] * 10, [True] * 20, ["a", "b"])
    assert score_classification(*args, seed=3)["macro_f1"] == score_classification(*args, seed=3)["macro_f1"]
