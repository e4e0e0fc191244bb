"""What a variant may read: the run's data, task, shared base model and defaults, frozen.

The run (``harness.run``) builds one ``VariantEnvironment`` and hands it to every
variant. A variant reads from it and never writes to it, and it never reaches
back into the run: training is a call to ``harness.training``, prediction a call
to ``harness.model``. That keeps the flow one way (run -> variants -> engines).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from harness.core.errors import BenchError
from harness.core.progress import Progress
from harness.data.chat import Item
from harness.data.prompts import PromptTemplate
from harness.data.splits import Split
from harness.model.loading import BaseModel
from harness.suite.load import LoadedSuite
from harness.suite.schema import BaseModelSpec, InferenceSpec, Suite, TrainingSpec
from harness.tasks import Task


@dataclass(frozen=True)
class VariantEnvironment:
    task: Task
    splits: Mapping[str, Split]
    test_limit: int | None  # score only the first N test items (task.test_limit)
    base: BaseModel  # the shared base model and tokenizer; variants never change its weights
    base_model_spec: BaseModelSpec
    prompt_template: PromptTemplate  # the suite's; a variant may use its own (Variant.prompt_template)
    training_defaults: TrainingSpec  # the suite's training: section; a variant's own overrides go on top
    inference: InferenceSpec  # the suite's; a variant's overrides go on top (Variant.inference_spec)
    suite_seed: int
    resolve_path: Callable[..., Path]  # a path the suite names, resolved and fenced like the suite's data paths
    progress: Progress
    suite_file: Path  # named in errors and hints
    prompts: Mapping[str, str] = field(default_factory=dict)  # the suite's prompts: block, name -> system prompt

    @classmethod
    def of_suite(
        cls, spec: Suite, suite: LoadedSuite, *, task: Task, splits, base: BaseModel, progress
    ) -> "VariantEnvironment":
        """The environment a run of ``spec`` (the suite as it will run) gives its variants;
        ``suite`` is the loaded file, for its path fence and its name in hints."""
        return cls(
            task=task,
            splits=splits,
            test_limit=spec.task.test_limit,
            base=base,
            base_model_spec=spec.base_model,
            prompt_template=PromptTemplate(spec.task.system_prompt),
            training_defaults=spec.training,
            inference=spec.inference,
            suite_seed=spec.seed,
            resolve_path=suite.resolve_path,
            progress=progress,
            suite_file=suite.path,
            prompts=spec.prompts,
        )

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise BenchError(f"this variant needs a '{name}' split", hint=f"add task.data.{name} to {self.suite_file}")
        return self.splits[name]

    def test_items(self) -> tuple[Item, ...] | list[Item]:
        items = self.splits["test"].items
        return items[: self.test_limit] if self.test_limit else items

    def seed_for(self, name: str) -> int:
        """One suite seed; each variant derives its own, stable under reordering."""
        digest = hashlib.sha256(f"{self.suite_seed}:{name}".encode()).hexdigest()
        return int(digest[:8], 16) % 2**31
