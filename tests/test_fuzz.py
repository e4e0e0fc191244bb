"""Property tests: any input to the suite and data loaders yields a valid spec or a clean BenchError."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.errors import BenchError
from harness.data.splits import read_split
from harness.suite import load_suite
from harness.tasks import ClassificationTaskRules
from harness.variants.base import variant_configs

TASK = ClassificationTaskRules(labels=("a", "b"), answer_format="x: {label}")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 100), st.floats(allow_nan=False, width=32), st.text(max_size=12)
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
suite_keys = st.sampled_from(
    ["name", "task", "base_model", "variants", "training", "seed", "probes", "gate", "labels", "kind"]
)
suites = st.dictionaries(suite_keys, json_like, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=suites)
def test_any_suite_mapping_loads_or_fails_cleanly(tmp_path, document):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(document))
    try:
        suite = load_suite(path, variant_configs())
    except BenchError as exc:
        assert exc.problems or exc.message
        for problem in exc.problems:
            assert problem.file == str(path)
    else:
        assert suite.spec.variants


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.text(max_size=300))
def test_any_suite_text_loads_or_fails_cleanly(tmp_path, raw):
    path = tmp_path / "suite.yaml"
    path.write_text(raw)
    try:
        load_suite(path, variant_configs())
    except BenchError:
        pass


messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": st.sampled_from(["system", "user", "assistant", "bot"]),
            "content": st.sampled_from(["x: a", "x: b", "hello", "", "x: c"]),
        }
    ),
    max_size=5,
)
lines = st.one_of(st.text(max_size=40), messages.map(lambda m: json.dumps({"messages": m})), json_like.map(json.dumps))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(lines, max_size=6))
def test_any_jsonl_reads_or_fails_with_located_problems(tmp_path, rows):
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(rows))
    try:
        split = read_split("train", path, TASK)
    except BenchError as exc:
        assert exc.problems
        assert all(p.file == str(path) for p in exc.problems)
    else:
        assert all(item.label in ("a", "b") for item in split.items)
