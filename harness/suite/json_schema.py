"""The suite's JSON Schema, for editors (YAML language servers read it).

Variants are a union over the registered kinds, discriminated by ``kind``, so an
editor completes each kind's own parameters.
"""

from __future__ import annotations

from typing import Annotated, Mapping, Union

from pydantic import BaseModel, Field, TypeAdapter

from harness.suite.schema import Suite


def suite_json_schema(variant_configs: Mapping[str, type[BaseModel]]) -> dict:
    """``variant_configs``: each variant kind's config class (``harness.variants.variant_configs()``)."""
    configs = tuple(variant_configs.values())
    variant = Annotated[Union[configs], Field(discriminator="kind")]  # type: ignore[valid-type]
    schema = Suite.model_json_schema()
    variant_schema = TypeAdapter(variant).json_schema(ref_template="#/$defs/{model}")
    schema.setdefault("$defs", {}).update(variant_schema.pop("$defs", {}))
    schema["properties"]["variants"] = {
        "type": "array",
        "minItems": 1,
        "items": variant_schema,
        "description": "variants to compare; each may carry grid: {param: [values]}",
    }
    schema["$id"] = "https://bench.invalid/schema/suite-v1.json"
    schema["title"] = "bench suite (schema_version 1)"
    return schema
