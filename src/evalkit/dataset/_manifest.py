"""The manifest that describes one published dataset version (``manifest.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from evalkit.errors import DataError

MANIFEST_FILE = "manifest.json"
CASES_FILE = "cases.parquet"
SCHEMA_VERSION = 1

# Names and versions become folder names and appear in refs (``name@version``),
# so they must not contain path separators, '@' or start with a dot (hidden temp folders).
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Manifest(BaseModel):
    """Facts about one immutable dataset version; ``sha256`` pins the exact parquet bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = Field(description="Manifest format version.")
    name: str = Field(pattern=NAME_PATTERN, description="Dataset name (folder under the store).")
    version: str = Field(pattern=NAME_PATTERN, description="Version label, e.g. 'v1'; ordered naturally.")
    task: str = Field(min_length=1, description="Task (decision domain) whose case model the rows follow.")
    row_count: int = Field(ge=0, description="Number of cases.")
    segment_counts: dict[str, int] = Field(description="Cases per segment (edge-case family).")
    variant_counts: dict[str, int] = Field(description="Cases per variant.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the cases.parquet bytes.")
    parent: str | None = Field(default=None, description="Version this one was derived from, if any.")
    created: AwareDatetime = Field(description="When the version was published (UTC).")
    description: str = Field(default="", description="What the dataset holds and how it was made.")
    generator: dict[str, Any] | None = Field(
        default=None, description="How the cases were generated, e.g. {'task', 'n', 'seed'}; null if imported."
    )
    evalkit_version: str = Field(description="evalkit version that published the dataset.")
    attachments: dict[str, str] = Field(
        default_factory=dict, description="Extra files shipped with the version (file name -> SHA-256), e.g. the "
                                          "retrieval corpus a task's context policies read.")

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of ``manifest.json`` (for docs and external tooling)."""
    return Manifest.model_json_schema()


def manifest_text(manifest: Manifest) -> str:
    return json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def read_manifest(folder: Path) -> Manifest:
    """Read and validate ``folder/manifest.json``; errors name the file and the field."""
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        raise DataError(f"{path}: missing manifest: {folder} is not a published dataset version")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: unreadable manifest: {exc}") from exc
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        from evalkit.dataset._problems import pydantic_problems

        problems = pydantic_problems(exc, where=str(path))
        raise DataError(f"{path}: invalid manifest ({len(problems)} problem(s))", problems=problems) from exc
