"""``bench run --executor ray``: each variant a Ray task on a cluster; the driver keeps the store and the run folder.

The driver (``bench run``) does what it does locally up to the variants: checks the
suite and data, writes the manifest, loads the base once for its fingerprint and
probes it once. Then every variant that the store has not finished becomes one
task with the suite's ``execution:`` resources. The task gets only names and
numbers (``VariantRequest``: the suite's path, the grants, the variant's name, the
base probe scores) and rebuilds the rest where it runs: it loads the suite, fits its
precision as the driver did and refuses to go on if the suite, its data or the
resolved settings differ from the driver's; then it loads the base, evaluates the
one variant in a scratch folder and returns its record with that folder's files
(the adapter, the index) packed. The driver unpacks them into the store entry and
seals it, exactly as a local evaluation is saved; a rerun reuses it. What workers
must share with the driver (the suite folder, the model) is in docs/scale.md.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from harness.core.errors import BenchError, require
from harness.core.progress import Progress
from harness.core.trust import Trust
from harness.run.executor import VariantJobs
from harness.suite.schema import ExecutionSpec
from harness.variants.base import Variant


@dataclass(frozen=True)
class VariantRequest:
    """What a worker needs to evaluate one variant as the driver would: plain, picklable values."""

    suite_path: str
    trust: Trust
    kind: str
    config: dict  # the variant's config as the driver planned it (a seeded member included)
    slow_bf16: bool  # the driver's precision decision, applied as is (the key was computed with it)
    spec: dict  # the suite as the driver resolved it, to compare with the worker's own reading
    data_sha256: dict[str, str]
    settings: dict  # EvaluationSettings but its environment: inference, probes, base probe scores, cost...


def request_for(
    suite, spec, precision_changes: dict, data_sha256: dict, settings
) -> Callable[[Variant], VariantRequest]:
    """How the driver asks for one variant: its config and the run's settings, as plain values."""
    from dataclasses import fields

    shared = {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "env"}
    return lambda variant: VariantRequest(
        suite_path=str(suite.path),
        trust=suite.trust,
        kind=variant.kind,
        config=variant.config.model_dump(mode="json"),
        slow_bf16=bool(precision_changes),
        spec=spec.model_dump(mode="json"),
        data_sha256=data_sha256,
        settings=shared,
    )


@dataclass(frozen=True)
class VariantOutcome:
    status: str  # ok, skipped, failed, or refused (a BenchError: bad input, raised again on the driver)
    record: dict | None = None
    files: bytes = b""  # the scratch folder, as a tar archive
    reason: str = ""
    hint: str | None = None
    traceback: str | None = None
    node: str = ""
    seconds: float = 0.0


class RayExecutor:
    """Variants as Ray tasks: ``address`` an existing cluster (``ray://``, ``host:port``, ``auto``), or None for
    the cluster ``RAY_ADDRESS`` names, else a local one started here."""

    def __init__(
        self,
        *,
        request_for: Callable[[Variant], VariantRequest],
        execution: ExecutionSpec,
        progress: Progress,
        say: Callable[[str], None],
        address: str | None = None,
    ):
        self.request_for, self.execution, self.progress, self.say = request_for, execution, progress, say
        self.address = address

    def run(self, variants: list[Variant], jobs: VariantJobs) -> Iterator[dict]:
        import contextlib

        ray = _import_ray()
        started_here = not ray.is_initialized()
        if started_here:
            # The workers' own output (libraries' warnings, progress bars) stays in Ray's log folder.
            ray.init(address=self.address, log_to_driver=False, include_dashboard=False)
        remote = ray.remote(max_retries=0)(evaluate_in_worker)  # a crash is reported as the variant's failure
        pending: dict = {}  # task -> variant, until its record is saved
        try:
            with contextlib.ExitStack() as held:
                for variant in variants:
                    held.enter_context(jobs.lock(variant))  # released once every variant is saved
                    done = jobs.reusable(variant)
                    if done is not None:
                        yield done
                        continue
                    resources = self.execution.resources_for(variant.name).ray_options()
                    pending[remote.options(**resources).remote(self.request_for(variant))] = variant
                    self.say(f"→ {variant.name}: sent to the cluster ({_describe(resources)})")
                yield from self._gather(ray, pending, jobs)
        except BaseException:  # Ctrl-C, or a refused variant: the tasks stop too; the variants saved stay in the store
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            if started_here:
                ray.shutdown()

    def _gather(self, ray, pending: dict, jobs: VariantJobs) -> Iterator[dict]:
        with self.progress.task(f"variants on ray ({len(pending)})", total=len(pending)) as advance:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                variant = pending.pop(ready[0])
                yield self._save(ray, variant, ready[0], jobs)
                advance(advance=1)

    def _save(self, ray, variant: Variant, ref, jobs: VariantJobs) -> dict:
        try:
            outcome: VariantOutcome = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the worker process died (out of memory, killed)
            outcome = VariantOutcome(status="failed", reason=f"{type(exc).__name__}: {exc}".splitlines()[0])
        if outcome.status == "refused":
            raise BenchError(f"{variant.name} (on a Ray worker): {outcome.reason}", hint=outcome.hint)
        workdir = jobs.workdir(variant)
        if outcome.status == "ok":
            with tarfile.open(fileobj=io.BytesIO(outcome.files)) as archive:
                archive.extractall(workdir, filter="data")  # refuses links and paths out of the entry
            record = outcome.record
            self.say(f"[green]✓[/] {variant.name}: done on {outcome.node} in {outcome.seconds:.0f} s")
        else:
            record = jobs.not_run(variant, outcome.status, outcome.reason)
            if outcome.traceback:
                record["traceback"] = outcome.traceback
            colour = "red" if outcome.status == "failed" else "yellow"
            self.say(f"[{colour}]✗[/] {variant.name} {outcome.status}: {outcome.reason}")
        return jobs.save(variant, record)


def evaluate_in_worker(request: VariantRequest) -> VariantOutcome:
    """The Ray task: rebuild the run's environment here, evaluate one variant, return its record and files."""
    import platform

    from rich.console import Console

    from harness.core.allocator import on_jemalloc
    from harness.core.heap import keep_heap_small
    from harness.data.splits import load_suite_data
    from harness.model.loading import load_base
    from harness.model.precision import fit_precision
    from harness.run.evaluate import EvaluationSettings, evaluate_variant
    from harness.suite import load_suite
    from harness.tasks import task_from_spec
    from harness.variants.base import VariantSkipped, variant_configs, variant_kinds
    from harness.variants.environment import VariantEnvironment

    started, node = time.perf_counter(), platform.node()
    if not on_jemalloc():  # a worker started by a bench on jemalloc inherits it (core/allocator.py)
        keep_heap_small()  # as in a local run (core/heap.py)
    try:
        suite = load_suite(request.suite_path, variant_configs(), request.trust)
        spec, _ = fit_precision(suite.spec, slow_bf16=request.slow_bf16)
        if spec.model_dump(mode="json") != request.spec:
            raise BenchError(
                f"the suite at {request.suite_path} reads differently here than on the driver",
                hint="workers must see the same suite file and bench version as the driver (docs/scale.md)",
            )
        task = task_from_spec(spec.task)
        splits = load_suite_data(suite, task, warn=lambda *_: None)
        if {name: split.sha256 for name, split in splits.items()} != request.data_sha256:
            raise BenchError(
                f"the data of {request.suite_path} differs here from the driver's",
                hint="workers must see the same data files as the driver (docs/scale.md)",
            )
        base = load_base(
            spec.base_model.name, dtype=spec.base_model.dtype, trust_remote_code=spec.base_model.trust_remote_code
        )
        # Progress bars are the driver's; a worker's would only reach Ray's log files.
        progress = Progress(Console(file=io.StringIO()))
        env = VariantEnvironment.of_suite(spec, suite, task=task, splits=splits, base=base, progress=progress)
        settings = EvaluationSettings(env=env, **request.settings)
        config = variant_configs()[request.kind].model_validate(request.config)
        variant = variant_kinds()[request.kind](config, env)
    except BenchError as exc:
        return VariantOutcome(status="refused", reason=exc.message, hint=exc.hint, node=node)
    with tempfile.TemporaryDirectory(prefix="bench-variant-") as scratch:
        try:
            record = evaluate_variant(variant, settings, Path(scratch))
        except VariantSkipped as exc:
            return VariantOutcome(status="skipped", reason=str(exc), node=node)
        except BenchError as exc:
            return VariantOutcome(status="refused", reason=exc.message, hint=exc.hint, node=node)
        except Exception as exc:  # one broken variant must not lose the others, here as locally
            return VariantOutcome(
                status="failed",
                reason=f"{type(exc).__name__}: {exc}",
                traceback=traceback.format_exc(),
                node=node,
            )
        return VariantOutcome(
            status="ok", record=record, files=_pack(Path(scratch)), node=node, seconds=time.perf_counter() - started
        )


def _pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for child in sorted(folder.iterdir()):
            archive.add(child, arcname=child.name)
    return buffer.getvalue()


def _describe(resources: dict) -> str:
    return ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in resources.items())


def _import_ray():
    return require("ray", package="ray", feature="bench run --executor ray")
