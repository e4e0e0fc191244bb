"""The `vllm serve` command that serves the same base and adapters in production.

bench's own server takes one request at a time; vLLM batches requests across
adapters on a GPU. The command line it needs is derived from the packages:
``--lora-modules NAME=PATH`` per adapter, and ``--max-lora-rank`` rounded up to
a rank vLLM accepts. Adapters vLLM cannot serve as LoRA (other peft methods,
DoRA, extra trained modules) are refused here, with the way out: merge them.
An API key is passed on as a reference to the environment variable that holds it
(``--api-key "$BENCH_API_KEY"``), never as the key itself.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from harness.core.errors import BenchError, Problem
from harness.serve.adapters import AdapterInfo

# vLLM's accepted values for --max-lora-rank (vllm/config/lora.py); its default is 16.
VLLM_LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


class EnvReference(str):
    """A word of the command that the shell fills in from an environment variable when the command runs
    (printed as ``"$NAME"``): a secret reaches vLLM without appearing in the printed line or the shell history."""

    def __new__(cls, variable: str) -> "EnvReference":
        return super().__new__(cls, f"${variable}")


def vllm_problems(info: AdapterInfo) -> list[Problem]:
    config, where = info.config, str(info.path)
    problems = []
    if info.peft_type != "LORA":
        problems.append(
            Problem(where, None, "peft_type", f"{info.peft_type} adapters are not served by vLLM (LoRA only)")
        )
    if config.get("use_dora"):
        problems.append(Problem(where, None, "use_dora", "vLLM does not serve DoRA adapters"))
    if config.get("modules_to_save"):
        problems.append(Problem(where, None, "modules_to_save", "vLLM LoRA cannot load fully trained extra modules"))
    if (info.rank or 0) > VLLM_LORA_RANKS[-1]:
        problems.append(Problem(where, None, "r", f"rank {info.rank} is above vLLM's maximum {VLLM_LORA_RANKS[-1]}"))
    return problems


def vllm_command(
    base: str,
    adapters: list[AdapterInfo],
    *,
    host: str,
    port: int,
    dtype: str,
    served_name: str | None = None,
    api_key_env: str | None = None,
) -> list[str]:
    """``api_key_env``: the environment variable holding the API key, when one is configured; vLLM then
    requires ``Authorization: Bearer <key>`` on its /v1 endpoints, as bench serve does."""
    problems = [p for info in adapters for p in vllm_problems(info)]
    if problems:
        raise BenchError(
            "some adapters cannot be served by vLLM as LoRA",
            problems=problems,
            hint="package them with `bench package --merged` and serve each merged model on its own",
        )
    command = ["vllm", "serve", base, "--host", host, "--port", str(port), "--dtype", dtype]
    if served_name and served_name != base:
        command += ["--served-model-name", served_name]
    if api_key_env:
        command += ["--api-key", EnvReference(api_key_env)]
    if adapters:
        rank = max(info.rank or 1 for info in adapters)
        command += [
            "--enable-lora",
            "--max-loras",
            str(len(adapters)),
            "--max-lora-rank",
            str(next(r for r in VLLM_LORA_RANKS if r >= rank)),
            "--lora-modules",
            *[f"{info.name}={Path(info.path).resolve()}" for info in adapters],
        ]
    return command


def format_command(command: list[str]) -> str:
    """One shell line, each adapter on its own continuation line for reading."""
    return " \\\n    ".join(" ".join(_quote(word) for word in part) for part in _groups(command))


def _quote(word: str) -> str:
    # Double quotes let the shell expand the variable; shlex would single-quote it into a literal "$NAME".
    return f'"{word}"' if isinstance(word, EnvReference) else shlex.quote(word)


def _groups(command: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for word in command:
        if word.startswith("--"):
            groups.append([])
        groups[-1].append(word)
    return [g for g in groups if g]
