"""A suite from a pull request is hostile input: it cannot grant itself trust, escape its folders, exhaust
the machine, or make a crash look like a regression (issue 18; docs/security.md)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from test_gate import BASE, write_run

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.core.names import inside
from harness.data.splits import read_split
from harness.gate import gate_run
from harness.gate.baseline import load_baseline, save_baseline
from harness.retrieval.corpus import read_folder
from harness.run.store import VariantStore
from harness.suite import load_suite
from harness.tasks import ClassificationTaskRules
from harness.variants.base import variant_configs

TASK = """\
task:
  type: classification
  labels: [alpha, beta, gamma]
  answer_format: "kind: {label}"
  data:
    train: data/train.jsonl
    test: data/test.jsonl
"""


def suite_text(model: str | Path, extra: str = "", variants: str = "  - {name: zero-shot, kind: zero_shot}\n") -> str:
    return f"name: tiny\n{TASK}base_model:\n  name: {model}\n{extra}variants:\n{variants}"


def write_suite(folder: Path, text: str) -> Path:
    from conftest import make_items, write_jsonl

    write_jsonl(folder / "data" / "train.jsonl", make_items("train", 6))
    write_jsonl(folder / "data" / "test.jsonl", make_items("test", 3, start=200))
    path = folder / "suite.yaml"
    path.write_text(text)
    return path


def bench(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


@pytest.fixture
def ungranted(monkeypatch):
    """No folder granted by the environment (conftest grants the tiny model's folder to every other test)."""
    monkeypatch.delenv("BENCH_ALLOW_PATHS", raising=False)
    monkeypatch.delenv("BENCH_TRUST_REMOTE_CODE", raising=False)


# ------------------------------------------------------------------ 1. trust comes from the command line
def custom_code_model(folder: Path, marker: Path, model_type: str = "evil-model") -> Path:
    """A model folder whose config.json maps AutoConfig to its own .py, which writes ``marker`` when imported."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": model_type,
                "architectures": ["EvilModel"],
                "auto_map": {"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilModel"},
            }
        )
    )
    (folder / "evil.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('code ran')\n"
        "from transformers import PretrainedConfig\n\n"
        f"class EvilConfig(PretrainedConfig):\n    model_type = {model_type!r}\n"
    )
    return folder


def test_a_suite_cannot_turn_on_remote_code_itself(tmp_path, capsys, ungranted):
    marker = tmp_path / "marker.txt"
    model = custom_code_model(tmp_path / "suite" / "model", marker)
    suite = write_suite(
        tmp_path / "suite",
        suite_text(model, variants="  - {name: zs, kind: zero_shot}\n").replace(
            f"  name: {model}\n", f"  name: {model}\n  trust_remote_code: true\n"
        ),
    )
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:11: base_model.trust_remote_code" in err and "--trust-remote-code" in err
    code, err = bench(capsys, "run", suite, "--out", tmp_path / "runs" / "r1")
    assert code == 2 and "--trust-remote-code" in err
    assert not marker.exists()  # the model's code never ran
    assert not (tmp_path / "runs").exists()  # refused before anything was written


def test_a_custom_code_model_is_refused_with_the_flag_to_allow_it(tmp_path, capsys, ungranted):
    marker = tmp_path / "marker.txt"
    model = custom_code_model(tmp_path / "suite" / "model", marker)
    suite = write_suite(tmp_path / "suite", suite_text(model))
    code, err = bench(capsys, "run", suite, "--out", tmp_path / "run")
    assert code == 2 and "cannot load the model" in err and "--trust-remote-code" in err
    assert not marker.exists()


def test_paths_outside_the_suite_need_allow_path_not_a_suite_key(tmp_path, capsys, ungranted, tiny_model_dir):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tiny_model_dir, elsewhere / "model")
    (elsewhere / "secret.jsonl").write_text((tmp_path / "x").as_posix())
    suite = write_suite(tmp_path / "suite", suite_text(elsewhere / "model", "allow_paths_outside_suite: true\n"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "allow_paths_outside_suite: a suite cannot open its own path fence" in err
    assert "--allow-path DIR" in err
    # The model folder lies outside the suite's folder and the model cache.
    suite.write_text(suite_text(elsewhere / "model"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:10: base_model.name" in err and "--allow-path" in err
    assert bench(capsys, "validate", suite, "--allow-path", elsewhere)[0] == 0
    # A data file outside: refused, then granted by the environment.
    suite.write_text(suite_text(tiny_model_dir).replace("data/train.jsonl", "../elsewhere/secret.jsonl"))
    code, err = bench(capsys, "validate", suite, "--allow-path", tiny_model_dir)
    assert code == 2 and "task.data.train" in err and "resolves to" in err
    capsys.readouterr()


# ------------------------------------------------------------------ 2. names and paths
@pytest.mark.parametrize(
    "extra, variants",
    [
        ("", "  - {name: '..', kind: zero_shot}\n"),
        ("", "  - {name: a/b, kind: zero_shot}\n"),
        ("", "  - {name: .hidden, kind: zero_shot}\n"),
        ("", "  - {name: zs, kind: zero_shot, grid: {system_prompt: ['/../../x']}}\n"),
    ],
)
def test_unsafe_variant_names_are_refused(tmp_path, capsys, tiny_model_dir, extra, variants):
    suite = write_suite(tmp_path, suite_text(tiny_model_dir, extra, variants))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "cannot name a folder" in err


def test_a_suite_named_dot_dot_is_refused(tmp_path, capsys, tiny_model_dir):
    suite = write_suite(tmp_path, suite_text(tiny_model_dir).replace("name: tiny", "name: '..'"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:1: name:" in err and "cannot name a folder" in err


def test_linking_a_variant_never_removes_outside_its_folder(tmp_path):
    run = tmp_path / "run"
    (run / "variants").mkdir(parents=True)
    (run / "manifest.json").write_text("{}")
    store = VariantStore(tmp_path / "store", secret=b"k")
    (store.root / "abc123").mkdir(parents=True)
    with pytest.raises(BenchError, match="refusing to use '..'"):
        store.link_into("abc123", run / "variants" / "..")
    assert (run / "manifest.json").exists()
    # A symlink planted where the variant's folder goes is replaced, not followed.
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "keep.txt").write_text("keep")
    (run / "variants" / "lora").symlink_to(tmp_path / "precious")
    with pytest.raises(BenchError):
        store.link_into("abc123", run / "variants" / "lora")
    assert (tmp_path / "precious" / "keep.txt").exists()
    assert inside(run / "variants", "lora-r4") == (run / "variants" / "lora-r4").resolve()


def test_a_retrieval_corpus_symlink_out_of_the_suite_is_refused(tmp_path, tiny_model_dir):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("the password is hunter2")
    suite_dir = tmp_path / "suite"
    (suite_dir / "docs").mkdir(parents=True)
    (suite_dir / "docs" / "manual.txt").write_text("alpha means apples")
    (suite_dir / "docs" / "leak.txt").symlink_to(secret)
    suite = load_suite(write_suite(suite_dir, suite_text(tiny_model_dir)), variant_configs())
    fence = lambda path: suite.resolve_path(str(path), field="corpus.path")  # noqa: E731 (as augment.py fences)
    with pytest.raises(BenchError, match="outside the suite's folder") as err:
        read_folder(suite_dir / "docs", chunk_words=50, fence=fence)
    assert "secret.txt" in str(err.value)
    (suite_dir / "docs" / "leak.txt").unlink()
    assert [e.text for e in read_folder(suite_dir / "docs", chunk_words=50, fence=fence).entries] == [
        "alpha means apples"
    ]


# ------------------------------------------------------------------ 4. limits, fast and located
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (BILLION_LAUGHS, "suite.yaml:2: alias '*a': aliases are not allowed"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "suite.yaml:1: "),  # libyaml's own depth limit, or bench's
        ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)), "levels of nested"),
    ],
)
def test_hostile_yaml_fails_in_well_under_a_second(tmp_path, capsys, text, expected):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    configs = variant_configs()  # imported before the clock starts: the check is of reading the suite
    started = time.perf_counter()
    with pytest.raises(BenchError):
        load_suite(path, configs)
    assert time.perf_counter() - started < 1.0
    code, err = bench(capsys, "validate", path)
    assert code == 2 and expected in err


@pytest.mark.parametrize(
    "extra, variants, expected",
    [
        (
            "",
            "  - {name: l, kind: lora, grid: {r: [%s], alpha: [%s]}}\n"
            % (",".join(["4"] * 1000), ",".join(["8"] * 1000)),
            "the grid expands to 1,000,000 variants; the limit is 1,000",
        ),
        (
            "",
            "  - {name: l, kind: lora, training: 5, grid: {training.max_steps: [1, 2]}}\n",
            "'training.max_steps' reaches into 'training', which is 5, not a mapping",
        ),
        ("training: {max_steps: 1000000000000}\n", "  - {name: zs, kind: zero_shot}\n", "training.max_steps"),
        ("training: {epochs: .inf}\n", "  - {name: zs, kind: zero_shot}\n", "training.epochs"),
        ("", "  - {name: l, kind: lora, training: {epochs: .inf}}\n", "variants[0].training.epochs"),
        ("inference: {max_new_tokens: 1000000000}\n", "  - {name: zs, kind: zero_shot}\n", "inference.max_new_tokens"),
    ],
)
def test_unbounded_settings_are_errors_with_a_line(tmp_path, capsys, tiny_model_dir, extra, variants, expected):
    suite = write_suite(tmp_path, suite_text(tiny_model_dir, extra, variants))
    configs = variant_configs()  # imported before the clock starts: the check is of reading the suite
    started = time.perf_counter()
    with pytest.raises(BenchError):
        load_suite(suite, configs)
    assert time.perf_counter() - started < 1.0
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and expected in err and "suite.yaml:" in err


def test_an_error_never_quotes_a_huge_input(tmp_path, capsys, tiny_model_dir):
    huge = f"seed: {'9' * 100_000!r}\ndescription: [{'x, ' * 5_000}]\nnote: {'n' * 10_000}\n"
    suite = write_suite(tmp_path, suite_text(tiny_model_dir, huge))
    configs = variant_configs()  # imported before the clock starts: the check is of reading the suite
    with pytest.raises(BenchError):
        load_suite(suite, configs)  # once, so the clock below measures reading, not first-use imports
    started = time.perf_counter()
    with pytest.raises(BenchError):
        load_suite(suite, configs)
    assert time.perf_counter() - started < 1.0
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:11: seed: " in err and "(100,000 characters)" in err and len(err) < 3000
    suite.write_text(suite_text(tiny_model_dir, f"description: {'x' * 300_000}\n"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "the suite is 300,2" in err and "the limit is 256,000" in err
    suite.write_text(suite_text(tiny_model_dir, f"description: [{'x, ' * 20_000}]\n"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:11: more than 10,000 keys and values" in err


@pytest.mark.parametrize(
    "line, expected",
    [
        ("[" * 100_000 + "]" * 100_000, "nested more than 32 levels"),
        ('{"messages": ' + "[" * 40 + "]" * 40 + "}", "nested more than 32 levels"),
        ('{"text": "' + "x" * 1_100_000 + '"}', "the line is 1,100,012 characters"),
        (
            '{"id": true, "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "kind: alpha"}]}',
            "id: expected a string or integer, got True",
        ),
    ],
)
def test_hostile_jsonl_lines_are_located_problems(tmp_path, line, expected):
    path = tmp_path / "d.jsonl"
    path.write_text(line + "\n")
    task = ClassificationTaskRules(labels=("alpha", "beta"), answer_format="kind: {label}")
    with pytest.raises(BenchError) as err:
        read_split("train", path, task)
    assert f"{path}:1:" in str(err.value) and expected in str(err.value) and len(str(err.value)) < 2000


def test_a_deep_json_line_in_the_data_exits_2(tmp_path, capsys, tiny_model_dir):
    suite = write_suite(tmp_path, suite_text(tiny_model_dir))
    (tmp_path / "data" / "test.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "test.jsonl:1: nested more than" in err


# ------------------------------------------------------------------ smaller: keys, ids, baselines
def test_duplicate_keys_name_both_lines_and_a_null_key_its_own(tmp_path, capsys, tiny_model_dir):
    suite = write_suite(tmp_path, suite_text(tiny_model_dir, "seed: 1\nseed: 2\n"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:12: seed: duplicate key (first on line 11)" in err
    suite.write_text(suite_text(tiny_model_dir, "seed: 1\nnull: 3\n"))
    code, err = bench(capsys, "validate", suite)
    assert code == 2 and "suite.yaml:12: None: Keys should be strings (got None)" in err


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda b: b["items"][0].pop("item_id"), "items[0].item_id: expected a string or integer, got None"),
        (lambda b: b.update(items={"t-0": {}}), "items: expected a non-empty list"),
        (lambda b: b["items"][3].update(correct="false"), "items[3].correct: expected true or false, got 'false'"),
    ],
)
def test_a_malformed_baseline_is_refused(tmp_path, change, expected):
    path, baseline = save_baseline(write_run(tmp_path / "run", BASE[:10]), "lora", tmp_path / "b.json")
    change(baseline)
    path.write_text(json.dumps(baseline))
    with pytest.raises(BenchError) as err:
        load_baseline(path)
    assert expected in str(err.value)


def test_a_gate_on_part_of_the_items_fails_unless_allowed(tmp_path, capsys):
    baseline, _ = save_baseline(write_run(tmp_path / "base", BASE[:150]), "lora", tmp_path / "b.json")
    run = write_run(tmp_path / "run", BASE)  # same test file, twice the items: half lack a partner
    code, err = bench(capsys, "gate", run, "--baseline", baseline)
    assert code == 2 and "do not cover the same items (150 items unchanged, 0 changed, 150 new, 0 gone)" in err
    outcome = gate_run(run, baseline, allow_changed_data=True)
    assert outcome.comparison["shared_items"] == 150 and "compared only the 150 shared items" in outcome.notes[0]


# ------------------------------------------------------------------ 5. exit codes that cannot be confused
def test_a_bug_exits_70_with_one_line_and_a_log(tmp_path, capsys, monkeypatch):
    import harness.suite

    def broken(*args, **kwargs):
        raise RuntimeError("something inside bench broke\nsecond line")

    monkeypatch.setattr(harness.suite, "load_suite", broken)
    code, err = bench(capsys, "validate", tmp_path / "any.yaml")
    assert code == 70
    assert err.count("\n") == 1 and "internal error" in err and "RuntimeError: something inside bench broke" in err
    log = Path(err.split("traceback in ")[1].strip())
    assert "Traceback" in log.read_text() and "def broken" not in err
    log.unlink()


def test_a_crash_during_a_run_leaves_its_traceback_in_the_run_folder(tiny_suite, tmp_path, capsys, monkeypatch):
    import harness.run.recipe

    def broken(*args, **kwargs):
        raise RuntimeError("loader exploded")

    monkeypatch.setattr(harness.run.recipe, "load_base", broken)
    code, err = bench(capsys, "run", tiny_suite, "--out", tmp_path / "run", "--only", "zero-shot")
    assert code == 70 and "loader exploded" in err
    assert "RuntimeError: loader exploded" in (tmp_path / "run" / "crash.log").read_text()


def test_a_pickle_only_model_folder_exits_2(tmp_path, capsys, tiny_model_dir):
    import torch
    from safetensors.torch import load_file

    model = tmp_path / "suite" / "model"
    shutil.copytree(tiny_model_dir, model)
    torch.save(load_file(model / "model.safetensors"), model / "pytorch_model.bin")
    (model / "model.safetensors").unlink()
    suite = write_suite(tmp_path / "suite", suite_text(model))
    code, err = bench(capsys, "run", suite, "--out", tmp_path / "run")
    assert code == 2 and "cannot load the model" in err and "only from .safetensors" in err


def test_a_hub_id_while_offline_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    suite = write_suite(tmp_path, suite_text("nobody-here/no-such-model"))
    code, err = bench(capsys, "run", suite, "--out", tmp_path / "run")
    assert code == 2 and "cannot load the model 'nobody-here/no-such-model'" in err and "HF_HUB_OFFLINE" in err
    # The error and its hint, briefly (a busy-cores warning about the machine may come before them).
    assert len(err[err.index("cannot load the model") :].splitlines()) <= 3


def test_suite_text_helper_is_valid_yaml(tiny_model_dir):
    assert yaml.safe_load(suite_text(tiny_model_dir))["variants"][0]["kind"] == "zero_shot"


def test_a_pickle_only_adapter_folder_exits_2(tmp_path, capsys):
    from harness.serve.adapters import read_adapter

    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (tmp_path / "adapter" / "adapter_model.bin").write_bytes(b"\x80\x04pickled")
    with pytest.raises(BenchError, match="no adapter_model.safetensors") as err:
        read_adapter("one", tmp_path / "adapter")
    assert "only from safetensors" in err.value.hint


def test_package_merged_needs_the_flag_not_the_manifests_trust_remote_code(tmp_path, capsys, ungranted):
    """A run folder saying its model needed remote code is no grant: merging loads the model again, here."""
    marker = tmp_path / "marker.txt"
    model = custom_code_model(tmp_path / "model", marker)
    run = write_run(tmp_path / "run", [True, False, True])
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["resolved_config"]["base_model"] = {"name": str(model), "trust_remote_code": True}
    (run / "manifest.json").write_text(json.dumps(manifest, indent=2))
    adapter = run / "variants" / "lora" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (adapter / "adapter_model.safetensors").write_bytes(b"")

    code, err = bench(capsys, "package", run, "--variant", "lora", "--out", tmp_path / "pkg", "--merged")
    assert code == 2 and "manifest.json:" in err and "base_model.trust_remote_code is true" in err
    assert "--trust-remote-code" in err and len(err.strip().splitlines()) <= 3
    assert not marker.exists() and not (tmp_path / "pkg").exists()
    # Granted on the command line, the model's own code is what runs next (this fake model then fails to load).
    code, err = bench(
        capsys, "package", run, "--variant", "lora", "--out", tmp_path / "pkg", "--merged", "--trust-remote-code"
    )
    assert marker.exists() and code == 2 and "cannot load the model" in err


def test_print_vllm_passes_the_api_key_by_its_variable_never_the_key(tiny_model_dir, tmp_path, capsys, monkeypatch):
    import subprocess

    from test_serve import make_adapter

    adapter = make_adapter(tiny_model_dir, tmp_path / "one", seed=1)
    args = ["serve", "--adapter", f"one={adapter}", "--print-vllm", "--host", "0.0.0.0"]
    key = "k3y-that-must-never-be-printed"
    monkeypatch.setenv("BENCH_API_KEY", key)
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert '--api-key "$BENCH_API_KEY"' in out and key not in out + err and "note:" not in err
    # Run as printed, the shell hands vLLM the key (printf stands in for vllm serve).
    words = subprocess.run(
        ["sh", "-c", out.replace("vllm serve", "printf '%s\\n'", 1)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert words[words.index("--api-key") + 1] == key
    # A key given on the command line only: the same reference, and a note to set the variable.
    monkeypatch.delenv("BENCH_API_KEY")
    assert main([*args, "--api-key", key]) == 0
    out, err = capsys.readouterr()
    assert '--api-key "$BENCH_API_KEY"' in out and key not in out + err and "set it before running" in err
    # No key configured: no --api-key.
    assert main(args) == 0
    assert "--api-key" not in capsys.readouterr().out


def test_retrieval_corpus_bytes_that_are_not_utf8_are_an_error_never_replaced(tmp_path):
    from harness.retrieval.corpus import read_jsonl

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_bytes(b"apples are fruit\nbricks \xff are built\n")
    with pytest.raises(BenchError) as caught:
        read_folder(tmp_path / "docs", chunk_words=50)
    (problem,) = caught.value.problems
    assert problem.line == 2 and "byte 0xff at byte offset 24 of the file" in str(problem)
    # A JSONL corpus: the bad line is a problem with its number, beside every other line's problems.
    good = json.dumps({"id": "d1", "text": "apples \u2028 and pears"}, ensure_ascii=False).encode()
    (tmp_path / "corpus.jsonl").write_bytes(good + b"\n" + b'{"id": "d2", "text": "cl\xe9ouds"}\n')
    task = ClassificationTaskRules(labels=("alpha", "beta"), answer_format="kind: {label}")
    with pytest.raises(BenchError) as caught:
        read_jsonl(tmp_path / "corpus.jsonl", task)
    (problem,) = caught.value.problems
    assert problem.line == 2 and "not valid UTF-8: byte 0xe9" in str(problem)  # U+2028 did not split line 1
