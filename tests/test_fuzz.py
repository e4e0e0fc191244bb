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


# ----------------------------------------------------------------------------- hostile input through the CLI
# A suite and its data may come from a pull request (docs/security.md). Whatever is written into a valid suite's
# slots or data lines, `bench validate` answers 0 (valid) or 2 (a located error): never a traceback, never 70.
VALID_SUITE = """\
name: {name}
seed: {seed}
task:
  type: classification
  labels: [alpha, beta, gamma]
  answer_format: "kind: {{label}}"
  data:
    train: data/train.jsonl
    test: data/test.jsonl
base_model:
  name: smollm2-135m-instruct
training: {{max_steps: {steps}, epochs: {epochs}}}
inference: {{max_new_tokens: {tokens}}}
variants:
  - name: zs
    kind: zero_shot
  - name: lora
    kind: lora
    grid: {{r: {grid}}}
{extra}"""
GOOD_LINE = json.dumps(
    {"messages": [{"role": "user", "content": "a note"}, {"role": "assistant", "content": "kind: alpha"}]}
)

yaml_values = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["9" * 5000, "0b" + "1" * 5000, "1e99999", "-.inf", ".nan", "0x7f", "2020-13-45", "~", "null"]),
    st.sampled_from(["&a [1, 2]", "*a", "[*a, *a]", "{<<: *a}", "!!binary QQ==", "!!python/object:os.system ls"]),
    st.integers(1, 60).map(lambda n: "[" * n + "1" + "]" * n),
    st.integers(1, 60).map(lambda n: "{a: " * n + "1" + "}" * n),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20).map(json.dumps),
    st.sampled_from(["..", "a/b", ".x", "'..'", "x" * 300]),
)
extras = st.one_of(
    st.just(""),
    st.sampled_from(
        ["seed: 1\n", "null: 1\n", "? [a]\n: 1\n", "allow_paths_outside_suite: true\n", "\x00\n", "\ufeff"]
    ),
    yaml_values.map(lambda v: f"description: {v}\n"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=yaml_values,
    seed=yaml_values,
    steps=yaml_values,
    epochs=yaml_values,
    tokens=yaml_values,
    grid=yaml_values,
    extra=extras,
)
def test_any_value_in_a_suite_exits_0_or_2(tmp_path, capsys, name, seed, steps, epochs, tokens, grid, extra):
    from harness.cli.main import main

    _data(tmp_path, [GOOD_LINE] * 3)
    path = tmp_path / "suite.yaml"
    text = VALID_SUITE.format(name=name, seed=seed, steps=steps, epochs=epochs, tokens=tokens, grid=grid, extra=extra)
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    assert main(["validate", str(path)]) in (0, 2)
    assert "Traceback" not in capsys.readouterr().err


json_lines = st.one_of(
    st.just(GOOD_LINE),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 200).map(lambda n: '{"messages": ' + "[" * n + "]" * n + "}"),
    st.integers(-(2**70), 2**70).map(lambda n: f'{{"id": {n}, "messages": []}}'),
    st.sampled_from(['{"id": 1e999}', '{"id": NaN}', '{"id": true}', '{"id": null}', "9" * 5000, '"\\ud800"']),
    json_like.map(json.dumps),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(json_lines, min_size=1, max_size=5))
def test_any_data_line_exits_0_or_2(tmp_path, capsys, rows):
    from harness.cli.main import main

    _data(tmp_path, rows)
    path = tmp_path / "suite.yaml"
    path.write_text(VALID_SUITE.format(name="s", seed=1, steps=5, epochs=1, tokens=8, grid="[4]", extra=""))
    assert main(["validate", str(path)]) in (0, 2)
    assert "Traceback" not in capsys.readouterr().err


def _data(folder, test_rows: list[str]) -> None:
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "train.jsonl").write_text("\n".join([GOOD_LINE] * 3) + "\n")
    (folder / "data" / "test.jsonl").write_bytes("\n".join(test_rows).encode("utf-8", errors="surrogatepass"))
