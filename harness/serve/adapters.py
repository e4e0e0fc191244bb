"""Several peft adapters on ONE base model, one of them active per request.

The base weights are loaded once. The first adapter wraps the base in a
``PeftModel``; every further adapter is added to it with ``load_adapter``, which
injects only its small matrices. A request picks its adapter with
``set_adapter`` (a pointer swap inside each LoRA layer, no reload), or runs the
plain base inside ``disable_adapter()``. Since the active adapter is state of the
one shared model, requests take turns behind a lock: this server is for checks
and demos; for throughput, serve the same packages with vLLM (see vllm.py).

Classical packages (tfidf, embedding_classifier) are served from the same
registry (serve/classical.py): no adapter, no base model unless one embeds with
it; ``base`` is None when only classical packages are served.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.core.errors import BenchError, Problem
from harness.core.files import read_json

PACKAGE_METADATA = "bench_package.json"  # written by harness/package/build.py
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")


@dataclass(frozen=True)
class AdapterInfo:
    name: str  # what clients put in "model"
    path: Path  # folder with adapter_config.json
    peft_name: str  # the name inside peft (an attribute name, so sanitised)
    config: dict  # adapter_config.json
    package: dict | None = None  # bench_package.json, when the folder is a bench package

    @property
    def peft_type(self) -> str:
        return self.config.get("peft_type", "?")

    @property
    def rank(self) -> int | None:
        return self.config.get("r")

    @property
    def base_model(self) -> str | None:
        """The base this adapter was trained on, as its package (or peft config) names it."""
        if self.package:
            return self.package["base_model"]["name"]
        return self.config.get("base_model_name_or_path")


def adapter_folder(path: Path) -> Path:
    """A folder with adapter_config.json, or one whose only such subfolder has it (a run's variants/<name>/adapter)."""
    if (path / "adapter_config.json").is_file():
        return path
    found = sorted(p.parent for p in path.glob("*/adapter_config.json")) if path.is_dir() else []
    if len(found) == 1:
        return found[0]
    raise BenchError(
        f"no peft adapter in {path}: expected adapter_config.json and adapter_model.safetensors",
        hint="pass a folder written by `bench package`, or any peft save_pretrained output",
    )


def read_adapter(name: str, path: str | Path) -> AdapterInfo:
    folder = adapter_folder(Path(path))
    if not (folder / "adapter_model.safetensors").is_file():
        # peft would fall back to adapter_model.bin, and unpickling a file someone else wrote can run code.
        raise BenchError(
            f"no adapter_model.safetensors in {folder}",
            hint="bench loads adapter weights only from safetensors; save with save_pretrained(..., "
            "safe_serialization=True)",
        )
    package = folder / PACKAGE_METADATA
    return AdapterInfo(
        name=name,
        path=folder,
        peft_name="bench_" + re.sub(r"\W", "_", name),
        config=read_json(folder / "adapter_config.json"),
        package=read_json(package) if package.is_file() else None,
    )


def check_adapters(base_name: str, adapters: list) -> None:
    """Every name served must be unique and usable in a URL-free JSON field; peft must be able to hold them together."""
    problems = []
    seen = {base_name}
    for info in adapters:
        if not NAME_PATTERN.match(info.name):
            problems.append(
                Problem(
                    str(info.path),
                    None,
                    "name",
                    f"'{info.name}' is not a valid model name "
                    "(letters, digits and _ . : / - ; starting with a letter or digit)",
                )
            )
        if info.name in seen:
            problems.append(
                Problem(str(info.path), None, "name", f"'{info.name}' is served twice (the base is '{base_name}')")
            )
        seen.add(info.name)
    types = sorted({info.peft_type for info in adapters if isinstance(info, AdapterInfo)})
    if len(types) > 1:
        problems.append(
            Problem(None, None, "peft_type", f"adapters of different kinds cannot share one base model here: {types}")
        )
    if problems:
        raise BenchError(
            f"{len(problems)} problem(s) with the adapters to serve",
            problems=problems,
            hint="use --adapter NAME=DIR with distinct names",
        )


@dataclass
class AdapterRegistry:
    base: Any  # harness.model.loading.BaseModel, loaded once; None when only classical packages are served
    base_name: str
    adapters: dict[str, AdapterInfo] = field(default_factory=dict)
    classical: dict[str, Any] = field(default_factory=dict)  # name -> serve.classical.ClassicalServed
    model: Any = None  # the PeftModel around base.model once an adapter is loaded
    switches: int = 0  # how often set_adapter changed the active adapter
    warnings: list[str] = field(default_factory=list)
    _active: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, base, base_name: str, adapters: dict[str, str | Path]) -> "AdapterRegistry":
        from harness.serve.classical import is_classical, load_classical

        infos = [read_adapter(name, path) for name, path in adapters.items() if not is_classical(path)]
        if infos and base is None:
            raise BenchError("peft adapters need a base model to load onto", hint="pass --base MODEL")
        classical = [load_classical(name, path, base) for name, path in adapters.items() if is_classical(path)]
        check_adapters(base_name, infos + classical)
        registry = cls(base=base, base_name=base_name)
        for info in infos:
            registry._attach(info)
        registry.classical = {c.name: c for c in classical}
        return registry

    def _attach(self, info: AdapterInfo) -> None:
        from peft import PeftModel

        if info.base_model and info.base_model not in (self.base_name, self.base.source):
            self.warnings.append(
                f"adapter '{info.name}' was trained on '{info.base_model}', served on '{self.base_name}'"
            )
        try:
            if self.model is None:
                self.model = PeftModel.from_pretrained(self.base.model, info.path, adapter_name=info.peft_name)
            else:
                self.model.load_adapter(info.path, adapter_name=info.peft_name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            raise BenchError(
                f"cannot load adapter '{info.name}' from {info.path} onto {self.base_name}: {exc}",
                hint="an adapter only fits the base model it was trained on",
            ) from None
        self.model.eval()
        self._active = self.model.active_adapter
        self.adapters[info.name] = info

    def names(self) -> list[str]:
        return [*([self.base_name] if self.base is not None else []), *self.adapters, *self.classical]

    @contextlib.contextmanager
    def use(self, name: str) -> Iterator[Any]:
        """The model to generate with for ``name``; holds the lock so no other request switches it meanwhile."""
        with self._lock:
            if name == self.base_name:
                if self.model is None:
                    yield self.base.model
                else:
                    with self.model.disable_adapter():
                        yield self.model
                return
            info = self.adapters[name]
            if self._active != info.peft_name:
                self.model.set_adapter(info.peft_name, inference_mode=True)
                self._active = info.peft_name
                self.switches += 1
            yield self.model
