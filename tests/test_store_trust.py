"""Reused results must be bench's own: a sealed store outside the repository, keyed by the model's files.

The attack this answers: finished results were trusted by their (printed,
deterministic) key alone, so a pull request that committed a store entry with
every item correct turned a failing gate into a pass.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from harness.cli.main import main
from harness.core.errors import BenchError
from harness.core.files import read_json, read_jsonl, write_json
from harness.gate.baseline import save_baseline
from harness.run.store import SEAL, UntrustedEntry, VariantStore, default_store_root, store_secret

SECRET = b"0123456789abcdef0123456789abcdef"


def bench(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())  # rich folds long lines


# ----------------------------------------------------------------------------- the attack, end to end
def test_a_planted_store_entry_is_recomputed_and_the_gate_still_fails(tiny_suite, tmp_path, capsys):
    store = tmp_path / "store"
    code, _ = bench(capsys, "run", tiny_suite, "--only", "lora", "--out", tmp_path / "honest", "--store", store)
    assert code == 0
    honest = read_json(tmp_path / "honest" / "results.json")["variants"]["lora"]
    key = honest["key"]
    assert (store / key / SEAL).is_file()

    # A strict baseline: the same items, every one answered right. The honest run fails against it.
    path, _ = save_baseline(tmp_path / "honest", "lora", tmp_path / "baselines" / "tiny.json")
    strict = json.loads(path.read_text())
    for row in strict["items"]:
        row.update(correct=True, parsed=row["gold"], format_ok=True)
    path.write_text(json.dumps(strict))
    code, out = bench(capsys, "gate", tmp_path / "honest", "--baseline", path)
    assert code == 1 and "the gated variant lora was computed in this run" in out

    # What a pull request could commit: the entry under the printed key, every item correct.
    entry = store / key
    shutil.rmtree(entry)
    entry.mkdir()
    rows = read_jsonl(tmp_path / "honest" / "variants" / "lora" / "samples.jsonl")
    for row in rows:
        row.update(correct=True, parsed=row["gold"], format_ok=True)
    (entry / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    forged = {**honest, "metrics": {**honest["metrics"], "accuracy": {**honest["metrics"]["accuracy"], "value": 1.0}}}
    forged.pop("reused")
    (entry / "result.json").write_text(json.dumps(forged))

    run = ["run", tiny_suite, "--only", "lora", "--out", tmp_path / "again", "--store", store]
    code, out = bench(capsys, *run, "--gate", "--baseline", path)
    assert f"lora: stored result {key} in {store} failed verification (it has no seal.json" in out
    assert "not trusted, recomputing" in out and "finished earlier" not in out
    assert code == 1, out
    again = read_json(tmp_path / "again" / "results.json")["variants"]["lora"]
    assert again["reused"] is False and again["metrics"]["accuracy"]["value"] == honest["metrics"]["accuracy"]["value"]

    # The recomputed entry is sealed again; the next run reuses it, and the gate says so and where from.
    code, out = bench(capsys, *run, "--gate", "--baseline", path)
    assert code == 1 and "finished earlier" in out
    assert f"1 of 1 variant result(s) reused from the store {store}" in out
    assert "the gated variant lora was reused" in out
    outcome = read_json(tmp_path / "again" / "gate" / "outcome.json")
    assert outcome["comparison"]["reused"]["variants"] == ["lora"]
    assert read_json(tmp_path / "again" / "manifest.json")["store"] == str(store)
    # Records are readable by the group (0644 under umask 022), not 0600 as mkstemp makes them.
    mode = stat.S_IMODE((tmp_path / "again" / "results.json").stat().st_mode)
    assert mode == 0o666 & ~_umask()


def test_changing_the_model_safetensors_changes_the_key(tiny_suite, tiny_model_dir, tmp_path, capsys):
    import torch
    from safetensors.torch import load_file, save_file

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    tiny_suite.write_text(tiny_suite.read_text().replace(str(tiny_model_dir), str(model)))
    run = ["run", tiny_suite, "--only", "zero-shot", "--store", tmp_path / "store"]
    assert bench(capsys, *run, "--out", tmp_path / "a")[0] == 0
    before = read_json(tmp_path / "a" / "results.json")["variants"]["zero-shot"]["key"]
    assert bench(capsys, *run, "--out", tmp_path / "b")[0] == 0  # unchanged files: the same key, reused
    assert read_json(tmp_path / "b" / "results.json")["variants"]["zero-shot"]["reused"] is True

    # New weights under the same name, the same size and the same mtime: the model's name is unchanged.
    weights = model / "model.safetensors"
    stat_before = weights.stat()
    tensors = load_file(weights)
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + torch.ones_like(tensors[name]) * 1e-3
    save_file(tensors, weights, metadata={"format": "pt"})
    os.utime(weights, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert weights.stat().st_size == stat_before.st_size

    code, out = bench(capsys, *run, "--out", tmp_path / "c")
    after = read_json(tmp_path / "c" / "results.json")["variants"]["zero-shot"]
    assert code == 0 and after["key"] != before and after["reused"] is False
    assert (tmp_path / "store" / "fingerprints.json").is_file(), "file hashes are cached beside the store"


# ----------------------------------------------------------------------------- the store API, no model
def saved(store: VariantStore, key: str = "k1") -> Path:
    store.fresh(key)
    (store.entry(key) / "adapter").mkdir()
    (store.entry(key) / "adapter" / "weights.bin").write_bytes(b"\x00\x01")
    store.save(key, {"name": "lora", "status": "ok", "samples": [{"item_id": "a", "correct": False}]})
    return store.entry(key)


def test_a_sealed_entry_is_reused_and_any_change_to_it_is_refused(tmp_path):
    store = VariantStore(tmp_path, secret=SECRET)
    entry = saved(store)
    assert store.finished("k1")["name"] == "lora"
    assert store.finished("absent") is None

    (entry / "samples.jsonl").write_text('{"item_id": "a", "correct": true}\n')
    with pytest.raises(UntrustedEntry, match="samples.jsonl changed after it was stored"):
        store.finished("k1")

    entry = saved(VariantStore(tmp_path, secret=SECRET), "k2")
    (entry / "adapter" / "extra.safetensors").write_bytes(b"x")
    with pytest.raises(UntrustedEntry, match="adapter/extra.safetensors was added"):
        store.finished("k2")

    entry = saved(store, "k3")
    (entry / "adapter" / "weights.bin").unlink()
    with pytest.raises(UntrustedEntry, match="adapter/weights.bin is missing"):
        store.finished("k3")

    # Every file right and a seal present, but made with a key the attacker guessed.
    saved(VariantStore(tmp_path, secret=b"guessed-guessed-guessed"), "k4")
    with pytest.raises(UntrustedEntry, match="not signed with this store's key"):
        store.finished("k4")

    with pytest.raises(BenchError, match="not a store key"):
        store.entry("../outside")


def test_only_checkpoints_of_an_attempt_this_store_began_are_kept(tmp_path):
    store = VariantStore(tmp_path, secret=SECRET)
    folder = store.fresh("k1")
    (folder / "trainer" / "checkpoint-1").mkdir(parents=True)
    (folder / "partial.jsonl").write_text("{}\n")
    store.fresh("k1")  # a rerun of a killed attempt: resume from its checkpoint, drop the rest
    assert (folder / "trainer" / "checkpoint-1").is_dir() and not (folder / "partial.jsonl").exists()

    planted = store.entry("k2")
    (planted / "trainer" / "checkpoint-1").mkdir(parents=True)  # no attempt.json signed by this store
    store.fresh("k2")
    assert not (planted / "trainer").exists()


def test_an_attempt_killed_between_its_result_and_its_seal_is_unfinished_not_untrusted(tmp_path):
    # CI once killed a run at exactly this point; the entry was then reported as "not written by bench".
    store = VariantStore(tmp_path, secret=SECRET)
    folder = store.fresh("k1")
    (folder / "samples.jsonl").write_text('{"item_id": "a", "correct": true}\n')
    write_json(folder / "result.json", {"name": "lora", "key": "k1"})  # save() got this far, then the kill
    assert store.finished("k1") is None

    # Without this store's attempt marker the same files are someone else's: refused, as before.
    (folder / "attempt.json").unlink()
    with pytest.raises(UntrustedEntry, match="it has no seal.json"):
        store.finished("k1")

    # The seal goes down before the marker is removed, so a finished save leaves no marker behind.
    store.fresh("k2")
    store.save("k2", {"name": "lora", "samples": []})
    assert (store.entry("k2") / SEAL).is_file() and not (store.entry("k2") / "attempt.json").exists()
    assert store.finished("k2")["name"] == "lora"


def test_the_store_key_is_created_private_and_a_readable_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_STORE_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    secret = store_secret()
    key = tmp_path / "config" / "bench" / "store.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(secret) == 64
    assert store_secret() == secret  # created once, then read

    key.chmod(0o644)
    with pytest.raises(BenchError, match="can be read or changed by other users"):
        store_secret()
    monkeypatch.setenv("BENCH_STORE_KEY", "short")
    with pytest.raises(BenchError, match="at least 16"):
        store_secret()
    monkeypatch.setenv("BENCH_STORE_KEY", "a-ci-secret-of-enough-length")
    assert store_secret() == b"a-ci-secret-of-enough-length"


def test_the_default_store_is_a_cache_folder_outside_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_STORE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_store_root() == tmp_path / "cache" / "bench" / "store"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_store_root() == Path.home() / ".cache" / "bench" / "store"
    monkeypatch.setenv("BENCH_STORE", str(tmp_path / "mine"))
    assert default_store_root() == tmp_path / "mine"


def _compute_once(root: str, log: str) -> None:
    """One bench run's share of a store: compute the entry unless it is finished, under the key's lock."""
    store = VariantStore(Path(root), secret=SECRET)
    with store.lock("k1"):
        if store.finished("k1"):
            outcome = "reused"
        else:
            folder = store.fresh("k1")
            (folder / "part.txt").write_text("half")
            time.sleep(0.5)  # a slow evaluation: without the lock the other run would empty this folder now
            store.save("k1", {"name": "lora", "status": "ok", "samples": []})
            outcome = "computed"
    with open(log, "a") as handle:
        handle.write(outcome + "\n")


def test_two_runs_sharing_a_store_compute_an_entry_once(tmp_path):
    context = multiprocessing.get_context("fork")
    log = tmp_path / "log.txt"
    runs = [context.Process(target=_compute_once, args=(str(tmp_path / "store"), str(log))) for _ in range(2)]
    for process in runs:
        process.start()
    for process in runs:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(log.read_text().split()) == ["computed", "reused"]
    store = VariantStore(tmp_path / "store", secret=SECRET)
    assert store.finished("k1")["name"] == "lora"
    assert (store.entry("k1") / "part.txt").read_text() == "half"


# ----------------------------------------------------------------------------- file modes
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_written_files_follow_the_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", {})
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        os.umask(0o027)
        write_json(tmp_path / "b.json", {})
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_base_probe_scores_are_sealed_too(tiny_suite, tiny_model_dir, tmp_path, monkeypatch):
    """The forgetting gate compares with the base's cached probe scores: a planted score is recomputed."""
    from rich.console import Console

    import harness.probes.run as probe_runner
    from harness.core.progress import Progress
    from harness.model.loading import BaseModel
    from harness.run.forgetting import base_probe_scores
    from harness.suite import load_suite
    from harness.variants.base import variant_configs

    text = tiny_suite.read_text().replace(
        "variants:\n", "probes:\n  tasks: [bench_arithmetic]\n  limit: 6\nvariants:\n"
    )
    tiny_suite.write_text(text)
    spec = load_suite(tiny_suite, variant_configs()).spec
    calls = []

    def scored(*args, label, out_dir, **kwargs):  # lm-eval itself is tested in test_forgetting.py
        calls.append(label)
        return {"bench_arithmetic": {"status": "ok", "score": 0.5, "metric": "acc"}}

    monkeypatch.setattr(probe_runner, "run_probes", scored)
    base = BaseModel(model=None, tokenizer=None, source=str(tiny_model_dir), load_seconds=0.0)
    store, warnings = VariantStore(tmp_path / "store", secret=SECRET), []
    with Progress(Console(file=io.StringIO())) as progress:

        def score() -> dict:
            return base_probe_scores(base, spec, progress, store, tmp_path / "run", warn=warnings.append)

        assert score()["bench_arithmetic"]["score"] == 0.5
        assert score()["bench_arithmetic"]["score"] == 0.5 and calls == ["base"]
        [scores_file] = (tmp_path / "store").glob("probes-*/scores.json")
        scores_file.write_text(json.dumps({"bench_arithmetic": {"status": "ok", "score": 0.0, "metric": "acc"}}))
        assert score()["bench_arithmetic"]["score"] == 0.5 and calls == ["base", "base"]
    assert "scores.json changed after it was stored" in warnings[0]


def test_a_planted_link_in_the_store_is_removed_never_followed(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    store = VariantStore(tmp_path / "store", secret=SECRET)
    store.root.mkdir()
    store.entry("k1").symlink_to(outside, target_is_directory=True)
    (outside / "result.json").write_text('{"key": "k1"}')
    with pytest.raises(UntrustedEntry, match="symbolic link"):
        store.finished("k1")
    store.fresh("k1")
    assert (outside / "keep.txt").read_text() == "mine" and not store.entry("k1").is_symlink()
