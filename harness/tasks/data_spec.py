"""The suite's ``task.data`` section: where each split comes from, and how a table's row becomes an item.

It lives beside the task specs (every task type's ``task:`` section holds it, and
tasks/ sits below data/); ``harness.data`` reads what it describes. A split is
either chat JSONL (a plain path, exactly as before tables existed) or a table:

    train: {path: data/train.csv, columns: {text: text, label: category}}
    test:  {path: data/b77, split: test, columns: {text: text, label: label}}   # a datasets folder
    test:  {hub: PolyAI/banking77, revision: <sha>, columns: {...}}              # online only

``columns`` maps the names bench reads to the table's column names: ``label``
(classification) or ``target`` (the gold answer of other task types), optionally
``id``, and one or more input fields that ``template`` names (``{text}``).
"""

from __future__ import annotations

import string
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import Field, model_serializer, model_validator

from harness.core.config import Strict

ANSWER_KEYS = ("label", "target")  # the gold answer's column: label for classification, target otherwise
RESERVED_KEYS = (*ANSWER_KEYS, "id")
TABLE_FORMATS = ("csv", "tsv", "parquet", "jsonl", "datasets")
# A file's suffix names its format; a folder is a datasets folder (save_to_disk), read when the data is read.
SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
DEFAULT_VALIDATION_SHARE = 0.1  # carved from a table's train split when no validation split is named


class DataSource(Strict):
    """One split: chat JSONL (a plain path) or a table with a column mapping."""

    path: str | None = Field(
        default=None,
        description="chat JSONL, a CSV/TSV/Parquet/JSONL table, or a datasets folder (save_to_disk); "
        "relative to the suite file",
    )
    hub: str | None = Field(
        default=None, description="a Hugging Face Hub dataset id (owner/name), read online; needs revision"
    )
    revision: str | None = Field(
        default=None, description="the hub dataset's commit or tag, pinned so the data cannot change between runs"
    )
    split: str | None = Field(
        default=None, description="the split inside a datasets folder or hub dataset (default: this entry's name)"
    )
    format: Literal["chat", "csv", "tsv", "parquet", "jsonl", "datasets"] | None = Field(
        default=None,
        description="default: chat for a path without columns; else from the suffix (.csv, .tsv, .parquet, "
        ".jsonl), and a folder or hub id is a datasets dataset",
    )
    columns: dict[str, str] | None = Field(
        default=None,
        description="what bench reads -> the table's column: label (classification) or target (other task "
        "types), optionally id, and the input fields the template names, e.g. {text: text, label: category}",
    )
    template: str | None = Field(
        default=None,
        description="the user turn built from a row, each input field as {name} (default: the one input field)",
    )
    encoding: str = Field(default="utf-8", description="text encoding of a CSV, TSV or JSONL table")

    @model_validator(mode="before")
    @classmethod
    def plain_path_is_chat(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def as_written(self, handler):
        # A plain path is written back as a plain path: a chat-JSONL suite's resolved config and
        # variant keys stay what they were before tables existed.
        if self.is_chat and self.model_fields_set <= {"path"}:
            return self.path
        return {key: value for key, value in handler(self).items() if value is not None}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        # Editors should accept the plain path the before-validator accepts.
        chat = {"type": "string", "description": "a chat JSONL file, relative to the suite file"}
        return {"anyOf": [chat, handler(core_schema)]}

    @property
    def is_chat(self) -> bool:
        return self.format == "chat" or (self.format is None and self.columns is None and self.hub is None)

    @property
    def answer_key(self) -> str:
        return next(key for key in ANSWER_KEYS if key in (self.columns or {}))

    @property
    def input_keys(self) -> list[str]:
        return [key for key in self.columns or {} if key not in RESERVED_KEYS]

    @property
    def user_template(self) -> str:
        return self.template if self.template is not None else "{" + self.input_keys[0] + "}"

    @model_validator(mode="after")
    def one_source_and_a_mapping(self):
        if (self.path is None) == (self.hub is None):
            raise ValueError("give exactly one of path (a file or folder) and hub (a dataset id)")
        if self.hub is not None and not self.revision:
            raise ValueError(
                "a hub dataset needs revision: a commit sha or tag, so the data cannot change between runs"
            )
        if self.revision is not None and self.hub is None:
            raise ValueError("revision pins a hub dataset; a path has none")
        if self.is_chat:
            suffix = PurePosixPath(self.path or "").suffix.lower()
            if self.format is None and suffix in SUFFIX_FORMATS:
                raise ValueError(
                    f"a {suffix} table needs columns: which column holds the input and which the label, "
                    "e.g. {path: ..., columns: {text: text, label: category}}"
                )
            extra = [k for k in ("columns", "template", "split") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"chat JSONL has no {extra[0]}; set a table format or drop it")
            return self
        if self.columns is None:
            raise ValueError("a table needs columns: e.g. {text: text, label: category}")
        answers = [key for key in ANSWER_KEYS if key in self.columns]
        if len(answers) != 1:
            raise ValueError(
                "columns must name the gold answer's column once: label (classification) or target "
                f"(other task types); got {sorted(self.columns)}"
            )
        inputs = self.input_keys
        if not inputs:
            raise ValueError("columns must name at least one input field besides label/target and id, e.g. text: text")
        if self.template is None and len(inputs) > 1:
            raise ValueError(f"{len(inputs)} input fields ({', '.join(inputs)}): a template must say how they join")
        if self.template is not None:
            named = _template_fields(self.template)
            unknown = [name for name in named if name not in inputs]
            if unknown or not named:
                raise ValueError(
                    f"template fields must be input fields of columns ({', '.join(inputs)}); "
                    + (f"got {{{unknown[0]}}}" if unknown else "it names none")
                )
        return self


def _template_fields(template: str) -> list[str]:
    """The ``{name}`` fields of a template; anything but a plain name (``{a.b}``, ``{a[0]}``) is refused."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template is not valid: {exc} (write a literal brace as {{{{ or }}}})") from None
    names = [name for _, name, _, _ in parsed if name is not None]
    bad = [name for name in names if not name.isidentifier()]
    if bad:
        raise ValueError(f"template field {{{bad[0]}}} must be a plain input-field name")
    return names


class DataFiles(Strict):
    """The splits: paths relative to the suite file. Chat JSONL, or tables mapped by columns."""

    train: DataSource | None = None
    validation: DataSource | None = None
    test: DataSource = Field(description="held-out items every variant is scored on")
    validation_share: float | None = Field(
        default=None,
        ge=0,
        le=0.5,
        description="share of train carved (stratified by label, seeded by the suite seed) as the validation "
        f"split when none is named; default {DEFAULT_VALIDATION_SHARE} when train is a table, none for "
        "chat JSONL; 0 turns it off",
    )

    @model_serializer(mode="wrap")
    def as_written(self, handler):
        # Left out when unset, so the resolved config of a suite that does not use it is unchanged.
        dumped = handler(self)
        if self.validation_share is None:
            dumped.pop("validation_share", None)
        return dumped

    @model_validator(mode="after")
    def share_needs_no_validation_file(self):
        if self.validation_share and self.validation is not None:
            raise ValueError("validation_share carves a validation split from train; this suite names one already")
        if self.validation_share and self.train is None:
            raise ValueError("validation_share carves the validation split from train, and there is no train split")
        return self

    def carve_share(self) -> float:
        """The share of train to carve as validation (0: none)."""
        if self.validation is not None or self.train is None:
            return 0.0
        if self.validation_share is not None:
            return self.validation_share
        return DEFAULT_VALIDATION_SHARE if not self.train.is_chat else 0.0
