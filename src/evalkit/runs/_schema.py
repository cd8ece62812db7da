"""JSON Schema of every run-folder file, generated from the typed owners (docs/schemas/*.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.runs._base import RunFile
from evalkit.runs._manifest import Manifest
from evalkit.runs._projection import Projection
from evalkit.runs._summary import Summary
from evalkit.runs._thresholds import Thresholds
from evalkit.runs._verdicts import Gates, Judge

RUN_FILES: tuple[type[RunFile], ...] = (Manifest, Summary, Thresholds, Projection, Gates, Judge)
"""Every JSON file a run writes, with its typed owner."""


def json_schemas() -> dict[str, dict[str, Any]]:
    """``{file name: JSON Schema}`` for manifest, summary, thresholds, projection, gates and judge."""
    out = {}
    for model in RUN_FILES:
        schema = model.model_json_schema(by_alias=True, mode="serialization")
        schema["$id"] = f"evalkit/runs/{model.FILE.replace('.json', '.schema.json')}"
        schema["description"] = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.FILE
        out[model.FILE] = schema
    return out


def write_schemas(folder: Path) -> list[Path]:
    """Write ``<file>.schema.json`` for every run file into ``folder`` (docs/schemas in the repo)."""
    from evalkit import _io

    paths = []
    for name, schema in json_schemas().items():
        paths.append(_io.write_text(Path(folder) / name.replace(".json", ".schema.json"),
                                    json.dumps(schema, indent=2, sort_keys=True) + "\n"))
    return paths
