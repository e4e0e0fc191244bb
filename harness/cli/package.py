"""`bench package RUN_DIR --variant NAME --out DIR`: the command line over ``package_variant``."""

from __future__ import annotations

from harness.cli.console import EXIT_OK, console
from harness.core.trust import TRUST_REMOTE_CODE_ENV, Trust
from harness.package.build import METADATA_FILE, package_variant


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "package",
        help="package a trained variant: adapter, model card, metadata",
        description="Write one trained variant of a run as a package: the adapter in peft's standard layout, a "
        "Hub-compatible model card (README.md) with the run's evaluation, cost and known risks, and "
        f"{METADATA_FILE}. Load it with PeftModel.from_pretrained(base, OUT).",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a finished run folder (holds manifest.json, results.json)")
    parser.add_argument("--variant", required=True, metavar="NAME", help="the trained variant to package")
    parser.add_argument("--out", required=True, metavar="DIR", help="package folder to write")
    parser.add_argument(
        "--merged", action="store_true", help="fold the adapter into the base and save the full model instead"
    )
    parser.add_argument("--force", action="store_true", help="replace DIR if it already exists")
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="with --merged, let a base model that the run loaded with trust_remote_code run its own code again "
        f"(or {TRUST_REMOTE_CODE_ENV}=1); the run's manifest alone never grants it",
    )
    parser.set_defaults(func=cmd_package)


def cmd_package(args) -> int:
    trust = Trust.granted(remote_code=args.trust_remote_code)
    out = package_variant(args.run_dir, args.variant, args.out, merged=args.merged, force=args.force, trust=trust)
    kind = "merged model" if args.merged else "adapter"
    console.print(f"[green]packaged[/] {args.variant} ({kind}) -> [bold]{out}[/] (README.md, {METADATA_FILE})")
    return EXIT_OK
