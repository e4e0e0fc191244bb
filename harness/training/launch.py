"""One variant's training over several processes: ``training.launcher: accelerate``.

The run stays in bench's process; only the training moves. The adapter as
``get_peft_model`` initialised it is saved, ``accelerate launch`` starts
``num_processes`` copies of this module (DDP: each loads the base, the saved
adapter and its share of every global batch, and trains with ``train_sft``), and
rank 0 saves the trained adapter and the training history. Those weights are then
loaded back into the caller's model, so prediction, probes and the record go on
exactly as after an in-process training.

``batch_size`` stays the global batch: each process takes ``batch_size / num_processes``
rows, so the loss curve of 2 processes follows the one of 1 process
(tests/test_accelerate_launch.py). On a machine without CUDA the processes train on
the CPU, over gloo. An FSDP or DeepSpeed setup comes in as an accelerate config file
(``training.accelerate_config``), passed to ``accelerate launch --config_file``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from harness.core.errors import BenchError
from harness.suite.schema import TrainingSpec
from harness.training.sft import TrainingRecord, train_sft

REQUEST, RECORD, TRAINED, LOG = "request.json", "training.json", "trained", "launch.log"


def train_launched(
    model,
    rows: list[dict],
    *,
    spec: TrainingSpec,
    seed: int,
    output_dir: Path,
    base_source: str,
    adapter_name: str,
    eval_rows: list[dict] | None = None,
    trust_remote_code: bool = False,
    config_file: Path | None = None,
) -> TrainingRecord:
    """Train the adapter ``adapter_name`` of ``model`` (a PeftModel on the base at ``base_source``) under
    ``accelerate launch``; its trained weights are loaded back into ``model``."""
    from peft.utils import load_peft_weights, set_peft_model_state_dict

    if not hasattr(model, "peft_config"):
        raise BenchError(
            "training.launcher: accelerate trains adapters (lora, dora, ia3, prompt tuning); "
            "a full fine-tune over several processes needs an FSDP config and is not supported yet",
            hint="set training.launcher: in_process for this variant",
        )
    if getattr(model.get_base_model().config, "quantization_config", None) is not None:
        raise BenchError(
            "training.launcher: accelerate loads the base in its own precision in every process, "
            "so it cannot train a QLoRA adapter on a 4-bit base",
            hint="set training.launcher: in_process for qlora variants",
        )
    folder = Path(output_dir) / "launch"
    folder.mkdir(parents=True, exist_ok=True)
    initial = folder / "initial"
    # The initialised adapter travels as files: every process starts from the very weights the
    # caller's seed drew, not from its own draw.
    model.save_pretrained(initial, selected_adapters=[adapter_name])
    per_process = spec.model_copy(
        update={
            "launcher": "in_process",
            "num_processes": 1,
            "accelerate_config": None,
            "batch_size": spec.batch_size // spec.num_processes,
        }
    )
    request = {
        "base_source": str(base_source),
        "dtype": str(model.get_base_model().dtype).removeprefix("torch."),
        "trust_remote_code": trust_remote_code,
        "adapter": str(_adapter_folder(initial, adapter_name)),
        "adapter_name": adapter_name,
        "rows": rows,
        "eval_rows": eval_rows,
        "spec": per_process.model_dump(mode="json"),
        "seed": seed,
        "output_dir": str(folder),
    }
    (folder / REQUEST).write_text(json.dumps(request))
    command = launch_command(spec.num_processes, folder / REQUEST, config_file=config_file)
    with open(folder / LOG, "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=_child_env())
    if done.returncode != 0 or not (folder / RECORD).exists():
        tail = (folder / LOG).read_text(errors="replace").strip().splitlines()[-15:]
        raise RuntimeError(f"accelerate launch exited with {done.returncode}; log {folder / LOG}:\n" + "\n".join(tail))
    trained = load_peft_weights(str(_adapter_folder(folder / TRAINED, adapter_name)))
    set_peft_model_state_dict(model, trained, adapter_name=adapter_name)
    model.eval()
    record = TrainingRecord(**json.loads((folder / RECORD).read_text()))
    # The caller saves the adapter itself; the copies and the rows sent along would only bloat the store.
    for copy in (initial, folder / TRAINED):
        shutil.rmtree(copy)
    (folder / REQUEST).unlink()
    return record


def launch_command(num_processes: int, request: Path, *, config_file: Path | None = None) -> list[str]:
    """``accelerate launch`` for this module. Without CUDA, ``--multi_gpu`` is accelerate's way to start
    ``num_processes`` local processes under torchrun (its ``--cpu`` flag starts one); the trainer then
    trains on the CPU and joins them over gloo."""
    import torch

    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if config_file is not None:
        command += ["--config_file", str(config_file)]
    else:
        command += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
        if num_processes > 1:
            command += ["--multi_gpu"]
        elif not torch.cuda.is_available():
            command += ["--cpu"]
    command += ["--num_processes", str(num_processes), "--main_process_port", str(_free_port())]
    return command + ["-m", "harness.training.launch", str(request)]


def _free_port() -> int:
    # Two variants (or two test runs) launching at once must not meet on one rendezvous port.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # The processes share the machine's cores instead of each taking them all.
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // 2)))
    return env


def _adapter_folder(saved: Path, adapter_name: str) -> Path:
    # peft saves a non-default adapter in a subfolder named after it.
    return saved / adapter_name if (saved / adapter_name).exists() else saved


def _train_in_this_process(request_file: Path) -> None:
    """One of the launched processes: load, train its share, and (rank 0) save what the caller reads back."""
    from peft import PeftModel
    from transformers.trainer_utils import set_seed

    from harness.model.loading import load_base

    request = json.loads(Path(request_file).read_text())
    folder = Path(request["output_dir"])
    base = load_base(request["base_source"], dtype=request["dtype"], trust_remote_code=request["trust_remote_code"])
    set_seed(request["seed"])
    model = PeftModel.from_pretrained(
        base.model, request["adapter"], adapter_name=request["adapter_name"], is_trainable=True
    )
    record = train_sft(
        model,
        base.tokenizer,
        request["rows"],
        spec=TrainingSpec.model_validate(request["spec"]),
        seed=request["seed"],
        output_dir=folder / "trainer",
        eval_rows=request["eval_rows"],
    )
    if int(os.environ.get("RANK", "0")) == 0:
        model.save_pretrained(folder / TRAINED, selected_adapters=[request["adapter_name"]])
        (folder / RECORD).write_text(json.dumps(record.to_json()))


if __name__ == "__main__":
    _train_in_this_process(Path(sys.argv[1]))
