"""Run records: the typed files a run leaves, their one reader and their one writer (schemas: docs/records.md).

    read_run(path) -> RunRecord      manifest, results, samples and the test items' inputs of one run folder
    write_manifest / write_results / write_samples / write_variant      what ``bench run`` writes

Record types, each read from and written to JSON exactly (harness.records.base):
Manifest, Results, VariantResult, Cost, SampleRow.
"""

from harness.records.cost import Cost
from harness.records.manifest import RECORDS_SCHEMA_VERSION, Manifest
from harness.records.probes import ProbeScores, forgetting_of, read_probes
from harness.records.read import RunRecord, read_manifest, read_run, read_samples, read_variant_result
from harness.records.rows import OUTCOME_FIELDS, SampleRow
from harness.records.variant import Results, VariantResult
from harness.records.write import write_manifest, write_results, write_samples, write_variant, write_variant_result

__all__ = [
    "Cost",
    "Manifest",
    "OUTCOME_FIELDS",
    "ProbeScores",
    "RECORDS_SCHEMA_VERSION",
    "Results",
    "RunRecord",
    "SampleRow",
    "VariantResult",
    "forgetting_of",
    "read_manifest",
    "read_probes",
    "read_run",
    "read_samples",
    "read_variant_result",
    "write_manifest",
    "write_results",
    "write_samples",
    "write_variant",
    "write_variant_result",
]
