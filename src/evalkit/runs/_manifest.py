"""manifest.json: what a run was asked to do, with what, and how it went (written by evalkit.run)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from evalkit.runs._base import Json, RunFile, _Format

RunStatus = Literal["running", "evaluating", "complete", "stopped", "failed"]
"""``evaluating``: every call answered and scored, the later stages (calibration, projection, gates,
report) not yet all written; re-running the suite (or ``--resume``) finishes them. ``complete``:
every artifact is written."""


class Price(_Format):
    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None
    source: str | None = None
    model: str | None = None


class ConfigEntry(_Format):
    name: str
    provider: str | None = None
    model: str | None = None
    params: Json = Field(default_factory=dict)
    prompt: str | None = None
    prompt_version: str | None = None
    context: Json = Field(default_factory=dict)
    confidence: str | None = None
    samples: int = 1
    simulated: bool = False
    price: Price | None = Field(None, description="null: the run found no price (cost unknown).")
    options: Json = Field(default_factory=dict)
    description: str | None = None
    model_versions: list[str] = Field(default_factory=list)
    execution: str | None = Field(None, description="direct or batch (provider batch API).")
    batch_price: Price | None = Field(None, description="Batch-API price when the config ran in batch mode.")


class SuiteEntry(_Format):
    name: str | None = None
    path: str | None = None
    sha256: str | None = None
    spec: Json = Field(default_factory=dict, description="The parsed suite (evalkit.suite.Suite) the run used.")


class DatasetEntry(_Format):
    ref: str | None = None
    name: str | None = None
    version: str | None = None
    sha256: str | None = None
    rows: int | None = None
    sampled_rows: int | None = None


class RequestEntry(_Format):
    configs: list[str] = Field(default_factory=list)
    limit: int | None = None
    fraction: float | None = None
    sample_seed: int | None = None
    overrides: dict[str, str] = Field(default_factory=dict)
    batch: bool = False
    shard: list[int] | None = Field(None, description="[i, n]: the run holds shard i of n (evalkit run --shard).")
    max_cost_usd: float | None = Field(None, description="The run's budget (per run: kept on resume).")
    cache_mode: Literal["read-write", "replay", "off"] | None = Field(
        None, description="The response cache mode (kept on resume unless the resuming command sets another).")


class Counts(_Format):
    calls: int
    failed_calls: int
    cache_hits: int
    cases: int
    spent_usd: float | None = None
    nominal_usd: float | None = None
    recorded_usd: float | None = Field(None, description="Spend from reported usage: a lower bound when "
                                                         "possibly_billed_attempts > 0.")
    possibly_billed_attempts: int = 0
    possibly_billed_usd: float | None = Field(None, description="Worst case of attempts that may have been billed "
                                                                "without reporting usage (null: no price).")
    unpriced_attempts: int = 0
    judge_calls: int = Field(0, description="The LLM judge's calls (not rows of results.parquet).")
    judge_spent_usd: float | None = Field(None, description="Their part of spent_usd (null: unknown, or no judge).")


class ErrorGroup(_Format):
    """Failed calls of one error class in one configuration (evalkit.run)."""

    error_class: str
    config: str
    count: int
    first_message: str
    first_case: str


class Manifest(RunFile):
    """Fields a run always writes are optional only so that folders made by hand (tests, imports) load."""

    FILE: ClassVar[str] = "manifest.json"
    run_id: str
    created: str | None = None
    status: RunStatus | None = None
    finished: str | None = None
    evaluated: str | None = Field(None, description="When the stages after scoring (calibration, projection, gates, "
                                                   "report) had all written their files and the run became complete.")
    message: str | None = None
    evalkit_version: str | None = None
    seed: int | None = None
    fingerprint: str | None = None
    suite: SuiteEntry = Field(default_factory=SuiteEntry)
    dataset: DatasetEntry = Field(default_factory=DatasetEntry)
    request: RequestEntry = Field(default_factory=RequestEntry)
    tokenizer: str | None = None
    baseline: str | None = None
    execution: Json | None = Field(None, description="How calls were sent: {mode: direct|batch, ...} (evalkit.run).")
    configs: list[ConfigEntry] = Field(default_factory=list)
    counts: Counts | None = None
    sequential: Json | None = Field(None, description="A sequential run's looks, calls and dollars saved.")
    merged: str | None = Field(None, description="When `evalkit merge` joined shard runs into this one.")
    merged_from: list[Json] | None = Field(None, description="The shard runs merged: [{run_id, shard, created}].")
    partial: Json | None = Field(None, description="Merged from only some shards: {shards, of}.")
    errors: list[ErrorGroup] = Field(default_factory=list)
    checksums: dict[str, str] | None = Field(
        None, description="sha256 of each file the run stage wrote (path in the run folder -> hex), written with "
                          "status complete and checked when the files are read back (evalkit._checksums).")

    def config(self, name: str) -> ConfigEntry | None:
        return next((c for c in self.configs if c.name == name), None)

