"""`bench serve`: the command line over ``AdapterRegistry`` + ``create_app`` (or ``vllm_command``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.core.errors import BenchError, require
from harness.serve.guard import API_KEY_ENV, is_loopback


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve a base model and packaged adapters over an OpenAI-compatible API",
        description="Load one base model and several adapters (folders from `bench package`) and answer "
        '/v1/chat/completions, /v1/models and /health. The request\'s "model" picks the adapter, '
        "or the base by its own name; decoding is greedy unless temperature > 0.",
        epilog="example: bench serve --adapter legal=pkg/legal --adapter support=pkg/support --port 8000",
    )
    parser.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME=DIR",
        type=_adapter_arg,
        help="an adapter, or a classical package (tfidf, embedding_classifier), to serve under NAME "
        "(repeat for several); serving only classical packages loads no base model",
    )
    parser.add_argument(
        "--base",
        metavar="MODEL",
        help="base model (alias, hub id or folder); default: the base the adapters' packages name",
    )
    parser.add_argument(
        "--base-name", metavar="NAME", help="model name of the plain base in requests (default: derived from --base)"
    )
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default="float32")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get(API_KEY_ENV) or None,
        help=f"require 'Authorization: Bearer KEY' on every request (default: ${API_KEY_ENV}, which keeps the key "
        "out of the process list); needed to listen on anything but loopback",
    )
    parser.add_argument(
        "--max-tokens-limit", type=int, default=2048, metavar="N", help="refuse requests asking for more new tokens"
    )
    parser.add_argument(
        "--max-prompt-tokens", type=_positive, default=4096, metavar="N", help="refuse longer prompts (default 4096)"
    )
    parser.add_argument(
        "--max-messages", type=_positive, default=64, metavar="N", help="refuse requests with more messages"
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=1_000_000,
        metavar="N",
        help="refuse larger request bodies with 413 (default 1000000)",
    )
    parser.add_argument("--print-vllm", action="store_true", help="print the equivalent `vllm serve` command and exit")
    parser.set_defaults(func=cmd_serve)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _adapter_arg(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, Path(path)


def cmd_serve(args) -> int:
    from harness.cli.console import EXIT_OK, console
    from harness.model.provision import base_reference
    from harness.serve.adapters import read_adapter
    from harness.serve.classical import base_of, is_classical, needs_base
    from harness.serve.vllm import format_command, vllm_command

    if not args.print_vllm:
        check_exposure(args.host, args.api_key)  # first: refuse before reading or loading anything
    names = [name for name, _ in args.adapter]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BenchError(f"adapter name(s) given twice: {', '.join(duplicates)}")
    classical = {name: path for name, path in args.adapter if is_classical(path)}
    infos = [read_adapter(name, path) for name, path in args.adapter if name not in classical]
    needs = [base_of(path) for path in classical.values() if needs_base(path)]
    # A base model is loaded only for peft adapters or a classical package that embeds with it.
    base = args.base or (infer_base([info.base_model for info in infos] + needs) if infos or needs else None)
    base_name = args.base_name or (default_base_name(base) if base else "")
    if args.print_vllm:
        if classical or not base:
            raise BenchError(
                "vLLM serves peft adapters only; classical packages have no vLLM form",
                hint="serve them with bench serve, without --print-vllm",
            )
        command = vllm_command(
            base_reference(base),
            infos,
            host=args.host,
            port=args.port,
            dtype=args.dtype,
            served_name=base_name,
            api_key_env=API_KEY_ENV if args.api_key else None,  # the variable's name; the key is never printed
        )
        print(format_command(command))
        if args.api_key and os.environ.get(API_KEY_ENV) != args.api_key:
            console.print(f"note: the command reads the API key from ${API_KEY_ENV}; set it before running it")
        return EXIT_OK

    uvicorn = require("uvicorn", feature="bench serve", package="bench-harness[serve]")
    from harness.model.loading import load_base
    from harness.serve.adapters import AdapterRegistry
    from harness.serve.app import create_app

    console.print(
        f"loading {base or 'no base model'}, {len(infos)} adapter(s) and {len(classical)} classical package(s)"
    )
    registry = AdapterRegistry.load(load_base(base, dtype=args.dtype) if base else None, base_name, dict(args.adapter))
    for warning in registry.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(
        f"serving {', '.join(registry.names())} on http://{args.host}:{args.port}/v1"
        + (" (API key required)" if args.api_key else " (no API key: this machine only)")
    )
    app = create_app(
        registry,
        max_tokens_limit=args.max_tokens_limit,
        api_key=args.api_key,
        max_body_bytes=args.max_body_bytes,
        max_messages=args.max_messages,
        max_prompt_tokens=args.max_prompt_tokens,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return EXIT_OK


def check_exposure(host: str, api_key: str | None) -> None:
    """Anyone who can reach the port can use the model: beyond this machine, only with a key."""
    if not api_key and not is_loopback(host):
        raise BenchError(
            f"--host {host} lets other machines reach the server, and no API key is set",
            hint=f"set {API_KEY_ENV} (or pass --api-key KEY), or listen on 127.0.0.1",
        )


def infer_base(bases: list[str | None]) -> str:
    """The one base every adapter names; without --base it must be unambiguous."""
    named = sorted({b for b in bases if b})
    if len(named) == 1:
        return named[0]
    if not named:
        raise BenchError("cannot tell which base model to load", hint="pass --base MODEL")
    raise BenchError(
        f"the adapters name different base models: {', '.join(named)}",
        hint="pass --base MODEL (adapters only fit the base they were trained on)",
    )


def default_base_name(base: str) -> str:
    """An alias or hub id is a fine model name; a local folder is named by its last part."""
    path = Path(base).expanduser()
    return path.name if path.exists() else base
