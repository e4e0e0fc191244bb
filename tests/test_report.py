"""The stakeholder report: structure, self-containment, escaping, and the analysis behind it.

Most tests read a synthetic run folder written here (exact, fast, with numbers
that make a recommendation); one reads a real run of the tiny model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from unittest.mock import patch

import pytest
from sklearn.metrics import f1_score

from harness.core.files import write_json, write_jsonl
from harness.records import read_probes
from harness.report import write_comparison, write_report
from harness.report.build import build_view, rank_groups
from harness.report.failures import categorise, failure_mode
from harness.report.markdown import md_text
from harness.report.paired import Delta, PairedComparison, compare, paired_delta
from harness.report.plots import pareto_front
from harness.report.recommend import Candidate, recommend
from harness.stats import policy
from harness.tasks.classification import score_classification
from harness.tasks.metrics import parts

LABELS = ["contract", "tort", "property"]
SECTIONS = [
    "summary",
    "variants",
    "quality",
    "rank",
    "training",
    "forgetting",
    "changes",
    "failures",
    "confusion",
    "data",
    "manifest",
]
XSS = "<script>alert('pwned')</script>"

# name, kind, share right, share well-formed, train seconds, rank
VARIANTS = [
    ("zero-shot", "zero_shot", 0.40, 0.70, 0.0, None),
    ("few-shot", "few_shot", 0.55, 0.90, 0.0, None),
    ("lora-r4", "lora", 0.80, 0.99, 30.0, 4),
    ("lora-r16", "lora", 0.88, 1.00, 45.0, 16),
    ("lora-r64", "lora", 0.89, 1.00, 90.0, 64),
]


# ----------------------------------------------------------------------------- a synthetic run folder
def synthetic_run(
    path: Path,
    *,
    n: int = 120,
    variants=VARIANTS,
    labels=LABELS,
    probes: bool = True,
    failed: bool = True,
    seed: int = 0,
    input_text=None,
) -> Path:
    """Write manifest.json, results.json, samples.jsonl and the test file, as `bench run` would."""
    rng = random.Random(seed)
    gold = [labels[i % len(labels)] for i in range(n)]
    ids = [f"item-{i:03d}" for i in range(n)]
    texts = [input_text(i) if input_text else f"Case {i}: a dispute about {gold[i]} matters." for i in range(n)]
    test_file = path / "data" / "test.jsonl"
    write_jsonl(
        test_file,
        [
            {
                "id": ids[i],
                "messages": [
                    {"role": "user", "content": texts[i]},
                    {"role": "assistant", "content": f"label: {gold[i]}"},
                ],
            }
            for i in range(n)
        ],
    )
    difficulty = [rng.random() for _ in range(n)]  # shared across variants: better variants fix the easier items first
    records, samples = {}, []
    for index, (name, kind, right, formed, train_s, rank) in enumerate(variants):
        rows = []
        for i in range(n):
            correct = (difficulty[i] < right) != (rng.random() < 0.04)  # a little noise, so variants also break items
            ok_format = rng.random() < formed
            if correct:
                parsed, raw = gold[i], f"label: {gold[i]}" if ok_format else f"I think {gold[i]}."
            else:
                mode = rng.choice(["wrong", "wrong", "invalid", "empty", "overlong"])
                wrong = labels[(labels.index(gold[i]) + 1) % len(labels)]
                parsed, raw, ok_format = {
                    "wrong": (wrong, f"label: {wrong}", True),
                    "invalid": (None, "no idea", False),
                    "empty": (None, "\n\n", False),
                    "overlong": (None, "the answer depends on many things " * 3, False),
                }[mode]
            rows.append(
                {
                    "variant": name,
                    "item_id": ids[i],
                    "item_hash": hashlib.sha256(texts[i].encode()).hexdigest()[:16],
                    "prompt_hash": "p",
                    "raw_output": raw,
                    "parsed": parsed,
                    "gold": gold[i],
                    "correct": parsed == gold[i],
                    "format_ok": ok_format,
                    "prompt_tokens": 40,
                    "output_tokens": 16 if "many things" in raw else 3,
                    "latency_s": 0.01,
                }
            )
        with patch.object(policy, "RESAMPLES", 200):  # the real scorer, with fewer resamples: fast enough for tests
            metrics = score_classification(
                [r["gold"] for r in rows],
                [r["parsed"] for r in rows],
                [r["format_ok"] for r in rows],
                labels,
                seed=index,
            )
        trains = kind == "lora"
        records[name] = {
            "name": name,
            "kind": kind,
            "status": "ok",
            "reason": None,
            "config": {"name": name, "kind": kind, **({"r": rank} if rank else {})},
            "training_config": None,
            "seed": index,
            "n_items": n,
            "metrics": metrics,
            "cost": {
                "train_seconds": train_s,
                "prepare_seconds": train_s + 1,
                "infer_seconds": 5.0 + (3 if kind == "few_shot" else 0),
                "peak_rss_mb": 900.0 + 10 * (rank or 0),
                "peak_cuda_mb": None,
                "trainable_params": 1000 * (rank or 0),
                "total_params": 135_000_000,
                "trainable_share": 1000 * (rank or 0) / 135e6,
                "adapter_bytes": 4000 * (rank or 0),
            },
            "training": {
                "seconds": train_s,
                "steps": 20,
                "trained_tokens": 5000,
                "loss_curve": [{"step": s, "loss": 3.0 / s} for s in range(1, 21)],
                "eval_curve": [{"step": s, "eval_loss": 3.2 / s**0.8} for s in (5, 10, 15, 20)],
            }
            if trains
            else None,
            "key": f"k{index}",
            "reused": False,
        }
        samples += rows
    if failed:
        records["full"] = {
            "name": "full",
            "kind": "full",
            "status": "failed",
            "reason": "RuntimeError: out of memory",
            "config": {"name": "full", "kind": "full"},
            "metrics": None,
            "cost": {},
            "training": None,
            "key": "kfull",
            "reused": False,
        }
    results = {
        "schema_version": 1,
        "suite": {"name": "legal", "path": "suites/legal.yaml", "sha256": "ab" * 32},
        "task": {"type": "classification", "labels": labels, "n_test_items": n},
        "variants": records,
    }
    if probes:
        results["probes"] = {
            "arithmetic": {
                "metric": "acc",
                "base": {"value": 0.62},
                "variants": {
                    "lora-r4": {"delta": -0.01, "ci_low": -0.05, "ci_high": 0.03},
                    "lora-r16": {"delta": -0.02, "ci_low": -0.06, "ci_high": 0.02},
                    "lora-r64": {"delta": -0.12, "ci_low": -0.18, "ci_high": -0.06},
                },
            },
            "commonsense": {
                "metric": "acc",
                "base": 0.71,
                "variants": {
                    "lora-r4": {"delta": 0.0, "ci_low": -0.04, "ci_high": 0.04},
                    "lora-r16": {"delta": 0.01, "ci_low": -0.03, "ci_high": 0.05},
                    "lora-r64": {"delta": -0.05, "ci_low": -0.10, "ci_high": 0.0},
                },
            },
        }
    manifest = {
        "schema_version": 1,
        "bench_version": "0.1.0",
        "created": "2025-01-01T12:00:00+00:00",
        "suite": results["suite"],
        "resolved_config": {
            "name": "legal",
            "inference": {"max_new_tokens": 16},
            # 120 items cannot show two variants within the default 2 points; this suite states a wider margin,
            # so the recommendation has a tie to break (the cheapest, non-forgetting one).
            "report": {"practical_margin": 0.1},
            "base_model": {"name": "smollm2-135m-instruct"},
        },
        "data": {
            "test": {
                "path": str(test_file),
                "sha256": hashlib.sha256(test_file.read_bytes()).hexdigest(),
                "items": n,
                "labels": {label: gold.count(label) for label in labels},
            },
            "train": {
                "path": "data/train.jsonl",
                "sha256": "cd" * 32,
                "items": 300,
                "labels": {label: 100 for label in labels},
            },
        },
        "seeds": {"suite": 7, "variants": {name: i for i, (name, *_rest) in enumerate(variants)}},
        "packages": {"torch": "2.13.0", "transformers": "5.24.0"},
        "git_commit": "0123456789abcdef",
        "machine": {"cpu": "test cpu", "gpu": None},
        "status": "complete",
        "stages": {"total": 200.0},
    }
    write_json(path / "manifest.json", manifest)
    write_json(path / "results.json", results)
    write_jsonl(path / "samples.jsonl", samples)
    return path


class Page(HTMLParser):
    """Collects what the structure tests look at: ids, tags, attributes, scripts and visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self._table = attributes.get("id")
        elif tag == "tr":
            attributes["_table"] = getattr(self, "_table", None)  # which table the row belongs to
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def rows_of(self, table_attr: str) -> list[str]:
        return [
            a["data-variant"] for t, a in self.tags if t == "tr" and "data-variant" in a and a["_table"] == table_attr
        ]


def assert_self_contained(html: str) -> None:
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed", "img", "base"), (
            f"external-capable <{tag}> in the report"
        )
        for name, value in attrs.items():
            if name in ("src", "action", "poster", "data") or name.endswith("href"):
                assert (value or "").startswith("#"), f"<{tag} {name}={value!r}> points outside the page"
    assert "@import" not in html and "@font-face" not in html
    # url(...) may only point inside the document (SVG clip paths and markers).
    assert all(target.startswith("#") for target in re.findall(r"url\(\s*['\"]?([^)'\"]*)", html))
    # The only absolute URLs allowed are XML namespace names, which are identifiers, never fetched.
    for url in re.findall(r"https?://[^\s\"'<>)]+", html):
        assert url.startswith(("http://www.w3.org/", "http://purl.org/dc/", "http://creativecommons.org/ns#")), url
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    assert len(page.scripts) == 1
    import base64

    digest = base64.b64encode(hashlib.sha256("".join(page.scripts).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp, "the page's own script must be the one the policy allows"


@pytest.fixture(scope="session")
def synthetic_template(tmp_path_factory) -> Path:
    return synthetic_run(tmp_path_factory.mktemp("synthetic") / "run-b")


@pytest.fixture
def synthetic(synthetic_template, tmp_path) -> Path:
    """A fresh copy per test: tests write reports into it."""
    return Path(shutil.copytree(synthetic_template, tmp_path / "run-b"))


# ----------------------------------------------------------------------------- the report of a real run
def test_report_of_a_tiny_model_run_has_every_section_and_variant(tiny_suite, tmp_path):
    from harness.run.recipe import run_suite

    test_file = tiny_suite.parent / "data" / "test.jsonl"
    rows = [json.loads(line) for line in test_file.read_text().splitlines()]
    rows[0]["messages"][0]["content"] = f"{XSS} a note about apples"
    test_file.write_text("".join(json.dumps(r) + "\n" for r in rows))

    run = run_suite(tiny_suite, tmp_path / "run")
    path = write_report(run.run_dir)
    html = path.read_text()
    page = Page(html)

    assert path == run.run_dir / "report.html"
    assert set(SECTIONS) <= page.ids
    assert sorted(page.rows_of("variant-table")) == sorted(run.results["variants"])
    for name in run.results["variants"]:
        assert f'id="fig-confusion-{name}"' in html  # a confusion matrix per variant
    assert 'id="fig-loss"' in html and 'id="fig-intervals"' in html and 'id="fig-pareto"' in html
    assert_self_contained(html)
    # The tiny random model answers nothing valid, so every item fails and the <script> item is shown as an example.
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html
    assert XSS not in html
    summary = (run.run_dir / "summary.md").read_text()
    assert all(f"`{name}`" in summary for name in run.results["variants"])
    assert "**Recommendation (" in summary


# ----------------------------------------------------------------------------- structure and content
def test_synthetic_report_recommends_the_cheapest_of_the_tied_and_shows_all_evidence(synthetic):
    html = write_report(synthetic).read_text()
    page = Page(html)
    view = build_view(synthetic)

    assert set(SECTIONS) <= page.ids
    assert page.rows_of("variant-table")[0] == view.recommendation.pick  # recommended row first
    assert view.recommendation.pick == "lora-r16"  # lora-r64 is within noise, costs twice as much, and forgets
    assert view.recommendation.verdict == "tied"
    assert set(view.recommendation.contenders) >= {"lora-r16", "lora-r64"}
    assert "Ship lora-r16" in view.recommendation.headline
    assert 'id="fig-rank"' in html and 'id="fig-forgetting"' in html
    text = " ".join(" ".join(page.text).split())
    assert "failed: RuntimeError: out of memory" in text  # the failed variant is listed with its reason
    assert "Most confused" in text or "most confused" in text
    assert "contract → tort" in text
    assert "forgetting (worst probe Δ)" in text
    assert "−0.120" in text  # lora-r64's worst probe delta, with a real minus sign
    assert "Case 5: a dispute" in text or "Case " in text  # inputs from the (unchanged) test file appear in examples
    assert_self_contained(html)


def test_fixed_and_broken_counts_match_the_samples(synthetic):
    view = build_view(synthetic)
    rows = [json.loads(line) for line in (synthetic / "samples.jsonl").read_text().splitlines()]
    base = {r["item_id"]: r["correct"] for r in rows if r["variant"] == "zero-shot"}
    lora = {r["item_id"]: r["correct"] for r in rows if r["variant"] == "lora-r16"}
    paired = view.variant("lora-r16").vs_base
    assert len(paired.fixed) == sum(1 for i in base if lora[i] and not base[i])
    assert len(paired.broke) == sum(1 for i in base if base[i] and not lora[i])
    assert paired.verdict == "better"


def test_report_is_byte_identical_when_written_twice(synthetic):
    first = write_report(synthetic).read_text()
    second = write_report(synthetic).read_text()
    assert first == second


def test_untrusted_text_in_labels_outputs_and_inputs_is_shown_as_text(tmp_path):
    labels = ["safe", XSS, 'a"b&c']
    variants = [("zero-shot", "zero_shot", 0.3, 0.5, 0.0, None), ("lora", "lora", 0.9, 1.0, 10.0, 8)]
    run = synthetic_run(
        tmp_path / "run",
        n=30,
        labels=labels,
        variants=variants,
        probes=False,
        failed=False,
        input_text=lambda i: f"<img src=x onerror=alert({i})> item {i}",
    )
    html = write_report(run).read_text()
    page = Page(html)

    assert XSS not in html and "<img" not in html
    assert len([t for t, _ in page.tags if t == "script"]) == 1
    visible = "".join(page.text)
    assert XSS in visible  # the label reaches the reader intact, as text (table, confusion matrix ticks)
    assert "<img src=x onerror=alert(3)> item 3" in visible
    assert "&lt;script&gt;" in html
    assert_self_contained(html)
    summary = (run / "summary.md").read_text()
    assert "<script>" not in summary


def test_no_zero_shot_variant_no_probes_no_grid_each_section_says_why(tmp_path):
    run = synthetic_run(
        tmp_path / "run",
        variants=[("lora", "lora", 0.9, 1.0, 10.0, 8), ("few-shot", "few_shot", 0.5, 1.0, 0.0, None)],
        probes=False,
        failed=False,
    )
    html = write_report(run).read_text()
    text = " ".join(" ".join(Page(html).text).split())
    assert "no zero-shot variant" in text
    assert "No probes ran" in text
    assert "has no rank grid" in text
    assert "Forgetting of general skills was not measured" in text


def test_without_matplotlib_the_report_still_renders_and_says_what_to_install(synthetic, monkeypatch):
    from harness.report import plots

    monkeypatch.setattr(plots, "available", lambda: False)
    html = write_report(synthetic).read_text()
    assert "<svg" not in html
    assert "This figure needs matplotlib (pip install matplotlib)." in html
    assert set(SECTIONS) <= Page(html).ids


def test_markdown_summary_is_short_and_names_the_pick(synthetic):
    write_report(synthetic)
    summary = (synthetic / "summary.md").read_text()
    assert len(summary.splitlines()) <= 30
    assert "**Recommendation (tied, cheapest chosen):** Ship lora-r16" in summary
    assert "`full` (failed: RuntimeError: out of memory)" in summary
    assert summary.count("\n|") >= 6  # header, rule, five finished variants


def test_md_text_escapes_markup():
    assert md_text("a|b <script> *x*") == "a\\|b &lt;script&gt; \\*x\\*"


# ----------------------------------------------------------------------------- comparing two runs
def test_compare_two_runs_pairs_on_identical_items(tmp_path):
    before = synthetic_run(tmp_path / "before", seed=0)
    better = [(n, k, min(r + 0.05, 1.0) if k == "lora" else r, f, t, rank) for n, k, r, f, t, rank in VARIANTS]
    after = synthetic_run(tmp_path / "after", seed=0, variants=better)
    path = write_comparison(before, after)
    html = path.read_text()

    assert path == after / "compare-before.html"
    assert (after / "compare-before.md").exists()
    page = Page(html)
    assert {"summary", "variants", "what-changed", "items"} <= page.ids
    assert set(page.rows_of("compare-table")) == {v[0] for v in VARIANTS} | {"full"}
    assert 'id="fig-compare"' in html
    assert_self_contained(html)
    md = (after / "compare-before.md").read_text()
    assert "| `lora-r4` |" in md and "120 test items are identical" in md


def test_cli_report_and_errors(synthetic, tmp_path):
    from harness.cli.main import main

    assert main(["report", str(synthetic)]) == 0
    assert (synthetic / "report.html").exists() and (synthetic / "summary.md").exists()
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert main(["report"]) == 2
    other = synthetic_run(tmp_path / "other")
    out = tmp_path / "cmp" / "c.html"
    assert main(["report", "--compare", str(other), str(synthetic), "--out", str(out)]) == 0
    assert out.exists() and out.with_suffix(".md").exists()


# ----------------------------------------------------------------------------- the analysis, unit by unit
def _candidate(name, f1, low, high, *, cost, fmt=1.0, base=False, trains=True, forgetting=(), n=200):
    interval = {"value": f1, "ci_low": low, "ci_high": high, "n": n}
    return Candidate(
        name=name,
        score=interval,
        second=interval,
        accuracy=interval,
        format_compliance={"value": fmt},
        cost=cost,
        cost_unit="s",
        is_base=base,
        trains=trains,
        forgetting=list(forgetting),
    )


def no_pairs(a, b):
    return None  # forces the interval-overlap fallback


def test_recommend_clear_winner():
    rec = recommend(
        [
            _candidate("base", 0.4, 0.35, 0.45, cost=1, base=True, trains=False),
            _candidate("lora", 0.8, 0.75, 0.85, cost=50),
        ],
        no_pairs,
        base=None,
        n_test=200,
    )
    assert (rec.pick, rec.verdict) == ("lora", "clear")
    assert rec.caveats == [
        "Forgetting of general skills was not measured (the run has no probes); add probes to the suite to check it."
    ]


def test_recommend_prefers_the_cheaper_of_tied_variants():
    rec = recommend(
        [
            # Tied means shown within the practical margin: the leader's upper end minus small's lower end <= 2 points.
            _candidate("big", 0.82, 0.815, 0.825, cost=100),
            _candidate("small", 0.81, 0.807, 0.813, cost=10),
            _candidate("bad", 0.50, 0.45, 0.55, cost=1),
        ],
        no_pairs,
        base=None,
        n_test=200,
    )
    assert (rec.pick, rec.verdict) == ("small", "tied")
    assert rec.contenders == ["big", "small"]
    assert any("big scored higher" in line and "cheaper" in line for line in rec.evidence)


def test_recommend_ships_a_classical_baseline_within_the_practical_margin_even_when_clearly_worse():
    tfidf = dataclasses.replace(_candidate("tfidf", 0.89, 0.885, 0.895, cost=2, trains=False), classical=True)
    rec = recommend([_candidate("lora", 0.90, 0.897, 0.903, cost=400), tfidf], no_pairs, base=None, n_test=200)
    assert (rec.pick, rec.verdict) == ("tfidf", "tied")
    assert rec.headline.startswith(
        "Ship tfidf: macro-F1 0.890; within the practical margin (2 points) of the best (lora)"
    )
    assert (
        "The best LLM variant, lora, is 1.0 point above on macro-F1 (0.900 against 0.890); it would add those "
        "1.0 point and free-text answers from a chat model at 200× the compute"
    ) in rec.headline
    assert any("but by 1.0 point; tfidf is chosen because it is a classical baseline" in line for line in rec.evidence)
    assert not any("Forgetting" in c for c in rec.caveats)


def test_recommend_keeps_the_llm_beyond_the_margin_and_says_how_far_the_classical_baseline_fell_short():
    tfidf = dataclasses.replace(_candidate("tfidf", 0.80, 0.75, 0.85, cost=2, trains=False), classical=True)
    rec = recommend([_candidate("lora", 0.95, 0.92, 0.98, cost=400), tfidf], no_pairs, base=None, n_test=200)
    assert rec.pick == "lora"
    assert any(
        line.startswith(
            "The best classical baseline, tfidf, is 15.0 points below on macro-F1 (0.800), beyond "
            "the practical margin of 2 points; lora costs 200× the compute"
        )
        for line in rec.evidence
    )


def test_recommend_sets_aside_non_compliant_variants_while_a_compliant_one_is_tied():
    rec = recommend(
        [
            _candidate("sloppy", 0.82, 0.815, 0.825, cost=1, fmt=0.6),
            _candidate("tidy", 0.81, 0.807, 0.813, cost=10),
        ],
        no_pairs,
        base=None,
        n_test=200,
    )
    assert rec.pick == "tidy"
    assert any("format compliance below 95%: sloppy" in line for line in rec.evidence)
    assert rec.headline.endswith("within noise of the best (sloppy), and unlike it, format-compliant.")
    assert (
        "tidy is chosen because it meets the format-compliance threshold and sloppy does not (100% against 60%)."
        in rec.evidence[1]
    )


def test_recommend_prefers_a_tied_variant_that_does_not_forget():
    drop = {"task": "arithmetic", "delta": -0.1, "ci_low": -0.15, "ci_high": -0.05}
    rec = recommend(
        [
            _candidate("cheap-but-forgets", 0.82, 0.815, 0.825, cost=1, forgetting=[drop]),
            _candidate(
                "keeps-skills",
                0.81,
                0.807,
                0.813,
                cost=10,
                forgetting=[{**drop, "delta": 0.0, "ci_low": -0.04, "ci_high": 0.04}],
            ),
        ],
        no_pairs,
        base=None,
        n_test=200,
    )
    assert rec.pick == "keeps-skills"
    assert rec.headline.endswith("and unlike it, shows no clear forgetting.")
    assert any(
        "cheap-but-forgets clearly forgets on a probe task and keeps-skills does not" in line for line in rec.evidence
    )


def test_recommend_warns_when_the_pick_is_not_format_compliant():
    rec = recommend([_candidate("sloppy", 0.82, 0.77, 0.87, cost=1, fmt=0.6)], no_pairs, base=None, n_test=200)
    assert rec.pick == "sloppy"
    assert any("not format-compliant" in line for line in rec.caveats)


def test_recommend_keeps_the_base_when_a_variant_is_shown_within_the_margin_of_it():
    def pairs(a, b):
        return PairedComparison(a=a, b=b, n_items=2000, deltas={"macro_f1": Delta(0.005, -0.01, 0.015)}, mcnemar_p=0.3)

    rec = recommend(
        [
            _candidate("zero-shot", 0.60, 0.59, 0.61, cost=5, base=True, trains=False, n=2000),
            _candidate("lora", 0.605, 0.595, 0.615, cost=50, n=2000),
        ],
        pairs,
        base="zero-shot",
        n_test=2000,
    )
    # The paired gap lies within +-2 points, so the base is tied with lora, and it is cheaper: keep the base.
    assert (rec.pick, rec.verdict) == ("zero-shot", "tied")
    assert rec.headline.startswith("Keep the base model")


def test_recommend_does_not_call_a_merely_insignificant_gap_a_tie():
    def pairs(a, b):
        return PairedComparison(a=a, b=b, n_items=50, deltas={"macro_f1": Delta(0.05, -0.02, 0.12)}, mcnemar_p=0.3)

    rec = recommend(
        [
            _candidate("zero-shot", 0.60, 0.50, 0.70, cost=5, base=True, trains=False, n=50),
            _candidate("lora", 0.65, 0.55, 0.75, cost=50, n=50),
        ],
        pairs,
        base="zero-shot",
        n_test=50,
    )
    # 50 items cannot show the base within 2 points of lora, nor clearly worse: undecided, and no verdict.
    assert (rec.pick, rec.verdict) == ("lora", "inconclusive")
    assert "not clearly better than the base model zero-shot" in rec.headline
    assert any(
        line.startswith("Not shown to be within 2 points of lora") and "zero-shot" in line for line in rec.evidence
    )
    assert any(line.startswith("Small test set, only 50 items") for line in rec.caveats)


def test_recommend_is_inconclusive_when_the_cheaper_tied_pick_is_not_clearly_better_than_the_base():
    gaps = {
        ("zero-shot", "big"): (0.30, 0.20, 0.40),
        ("small", "big"): (0.01, -0.005, 0.015),  # shown within the 2-point margin: tied
        ("zero-shot", "small"): (0.20, -0.02, 0.42),
    }

    def pairs(a, b):
        delta, low, high = gaps[(a, b)]
        return PairedComparison(a=a, b=b, n_items=300, deltas={"macro_f1": Delta(delta, low, high)}, mcnemar_p=0.2)

    rec = recommend(
        [
            _candidate("zero-shot", 0.5, 0.4, 0.6, cost=1, base=True, trains=False),
            _candidate("big", 0.8, 0.75, 0.85, cost=100),
            _candidate("small", 0.7, 0.6, 0.8, cost=10),
        ],
        pairs,
        base="zero-shot",
        n_test=300,
    )
    assert (rec.pick, rec.verdict) == ("small", "inconclusive")
    assert "not clearly better than the base model zero-shot" in rec.headline


def test_recommend_reports_forgetting_and_missing_results():
    drop = {"task": "arithmetic", "delta": -0.1, "ci_low": -0.15, "ci_high": -0.05}
    rec = recommend(
        [_candidate("lora", 0.8, 0.75, 0.85, cost=5, forgetting=[drop])],
        no_pairs,
        base=None,
        n_test=500,
        not_run={"full": "failed: OOM"},
    )
    assert any(line.startswith("Forgetting: arithmetic drops by 0.100") for line in rec.caveats)
    assert any("full (failed: OOM)" in line for line in rec.caveats)


def test_recommend_nothing_to_ship():
    assert recommend([], no_pairs, base=None, n_test=10).verdict == "none"
    rec = recommend([_candidate("a", 0.0, 0.0, 0.0, cost=1)], no_pairs, base=None, n_test=10)
    assert rec.pick is None and rec.verdict == "inconclusive"


def test_paired_delta_matches_sklearn_and_fixed_broke_are_exact():
    gold = ["a", "b", "c", "a", "b", "c", "a", "b"]
    pred_a = ["a", "b", None, "b", "b", "a", "a", "c"]
    pred_b = ["a", "b", "c", "a", "c", "c", "a", "b"]

    def rows(pred):
        return {str(i): {"gold": g, "parsed": p, "correct": g == p} for i, (g, p) in enumerate(zip(gold, pred))}

    (parts_a, combine), (parts_b, _) = (
        parts("macro_f1", list(rows(pred).values()), ["a", "b", "c"]) for pred in (pred_a, pred_b)
    )
    delta, low, high = dataclasses.astuple(paired_delta(parts_a, parts_b, combine))

    def f1(pred):
        return f1_score(
            gold, [p or "<invalid>" for p in pred], labels=["a", "b", "c"], average="macro", zero_division=0
        )

    assert delta == pytest.approx(f1(pred_b) - f1(pred_a))
    assert low <= delta <= high
    result = compare("A", rows(pred_a), "B", rows(pred_b), ["a", "b", "c"])
    assert result.fixed == ["2", "3", "5", "7"] and result.broke == ["4"]
    assert result.mcnemar_p == pytest.approx(0.375)


def test_failure_modes_are_exclusive_and_ordered():
    base = {"item_id": "x", "gold": "a", "output_tokens": 3}
    assert failure_mode({**base, "raw_output": "kind: a", "parsed": "a", "correct": True, "format_ok": True}, 8) is None
    assert (
        failure_mode({**base, "raw_output": "  \n", "parsed": None, "correct": False, "format_ok": False}, 8) == "empty"
    )
    assert (
        failure_mode(
            {**base, "raw_output": "blah", "parsed": None, "correct": False, "format_ok": False, "output_tokens": 8}, 8
        )
        == "overlong"
    )
    assert (
        failure_mode({**base, "raw_output": "blah", "parsed": None, "correct": False, "format_ok": False}, 8)
        == "invalid"
    )
    assert (
        failure_mode({**base, "raw_output": "kind: b", "parsed": "b", "correct": False, "format_ok": True}, 8)
        == "wrong_label"
    )
    assert (
        failure_mode({**base, "raw_output": "A.", "parsed": "a", "correct": True, "format_ok": False}, 8)
        == "format_only"
    )
    rows = [
        {**base, "item_id": str(i), "raw_output": "kind: b", "parsed": "b", "correct": False, "format_ok": True}
        for i in range(5)
    ]
    modes = categorise("v", rows, 8, {"0": "the input"})
    assert modes.counts["wrong_label"] == 5 and modes.total == 5
    assert len(modes.examples["wrong_label"]) == 3 and modes.examples["wrong_label"][0].input == "the input"
    assert modes.confused_pairs == [("a", "b", 5)]


def test_pareto_front_keeps_only_undominated_points():
    assert pareto_front([(10, 0.5), (5, 0.6), (20, 0.9), (30, 0.85), (1, 0.2)]) == [(1, 0.2), (5, 0.6), (20, 0.9)]


def test_rank_groups_follow_grid_names(synthetic):
    view = build_view(synthetic)
    assert [(g.name, g.points) for g in rank_groups(view.variants)] == [
        ("lora", [(4, "lora-r4"), (16, "lora-r16"), (64, "lora-r64")])
    ]


def test_probe_shapes_are_read_or_shown_verbatim():
    probes, raw = read_probes([{"task": "t", "base": 0.5, "deltas": {"v": -0.1}}])
    assert raw is None and probes[0].deltas["v"]["delta"] == -0.1 and probes[0].base == 0.5
    probes, raw = read_probes({"something": "else"})
    assert probes == [] and '"something"' in raw


def test_failure_modes_of_an_extraction_show_records_and_pair_no_labels():
    gold = {"people": ["Ann Lee"], "amounts": ["$5"]}
    wrong = {"people": ["Ann"], "amounts": ["$5"]}
    rows = [
        {
            "item_id": str(i),
            "gold": gold,
            "parsed": wrong,
            "raw_output": json.dumps(wrong),
            "correct": False,
            "format_ok": True,
            "output_tokens": 12,
        }
        for i in range(2)
    ]
    modes = categorise("lora", rows, 96, {})
    assert modes.counts["wrong_label"] == 2 and modes.confused_pairs == []
    example = modes.examples["wrong_label"][0]
    assert (
        example.gold == '{"people": ["Ann Lee"], "amounts": ["$5"]}'
        and example.parsed == '{"people": ["Ann"], "amounts": ["$5"]}'
    )
