"""What every run-folder file model shares: strict parsing, the format version, the rate block.

Each file model carries its format version (``schema``) and forbids unknown keys: a writer
that adds a key must add it to its model first, so the JSON Schemas (``evalkit.runs.json_schemas``)
always describe what is on disk. Blocks that are one stage's detailed diagnostics (calibration
metrics, recalibration maps, cost curves) are typed as JSON objects and owned by that stage.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from evalkit.stats import Estimate

Json = dict[str, Any]
"""A stage-owned diagnostic block (free-form JSON object)."""


SIMULATED_CONFIG = ("True when this configuration's numbers come from a simulated provider, not a real model "
                    "(the run's manifest says which: RunFolder.simulated). False in files written before it existed.")
SIMULATED_ANY = ("True when some configuration's numbers come from a simulated provider; each configuration's "
                 "`simulated` says which. False in files written before it existed.")


class _Format(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())


class RunFile(_Format):
    """A top-level run-folder file: ``FILE`` is its name; ``format_version`` is stored as ``schema``.

    Identity fields a stage always writes (run id, creation time) are optional so that folders
    assembled by hand (tests, imported results) still load; unknown keys are always refused.
    """

    FILE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    format_version: int = Field(1, alias="schema", description="Format version of this file.")

    def dump(self) -> Json:
        """The JSON document as written to disk."""
        return self.model_dump(mode="json", by_alias=True)


class Rate(_Format):
    """An estimate with its 95% interval; ``k`` is the count behind a proportion."""

    value: float | None
    lo: float | None = None
    hi: float | None = None
    n: int | None = 0
    k: int | None = None

    def estimate(self) -> Estimate:
        return Estimate(value=self.value, lo=self.lo, hi=self.hi, n=int(self.n or 0), k=self.k)

