"""Versioned, immutable case datasets: ``datasets/<name>/<version>/{cases.parquet,manifest.json}``.

Generic over any Task: rows are the task's case model as canonical JSON plus the
``case_id``/``segment``/``variant`` columns. Every load checks the content hash.
"""

from evalkit.dataset._diff import DatasetDiff, diff
from evalkit.dataset._import import import_file, read_cases
from evalkit.dataset._manifest import CASES_FILE, MANIFEST_FILE, Manifest, manifest_json_schema, read_manifest
from evalkit.dataset._mapping import ImportMapping, load_mapping, mapping_json_schema
from evalkit.dataset._publish import Generated
from evalkit.dataset._refs import (
    VersionInfo,
    list_versions,
    natural_key,
    next_version,
    resolve_ref,
    store_root,
)
from evalkit.dataset._store import Dataset, generate_dataset, load_dataset, validate_path, write_dataset

__all__ = [
    "CASES_FILE",
    "MANIFEST_FILE",
    "Dataset",
    "DatasetDiff",
    "Generated",
    "ImportMapping",
    "Manifest",
    "VersionInfo",
    "diff",
    "generate_dataset",
    "import_file",
    "list_versions",
    "load_dataset",
    "load_mapping",
    "manifest_json_schema",
    "mapping_json_schema",
    "natural_key",
    "next_version",
    "read_cases",
    "read_manifest",
    "resolve_ref",
    "store_root",
    "validate_path",
    "write_dataset",
]
