"""The suite file: which dataset, which candidate configurations, and how to score,
calibrate, project and gate. On-disk format: pydantic with ``extra="forbid"``; the
JSON Schema (``evalkit suite schema``) lets editors validate suites as you type."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.economics import EconomicsSpec
from evalkit.suite._calibration import CalibrationSpec
from evalkit.suite._gates import GateSpec
from evalkit.suite._judge import JudgeSpec
from evalkit.suite._params import check_params
from evalkit.suite._projection import ProjectionSpec
from evalkit.suite._seed import SEED_MAX
from evalkit.tasks import DEFAULT_TASK

_FORBID = ConfigDict(extra="forbid")
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class RetrievalPolicy(BaseModel):
    """Add the top-k passages of the dataset's retrieval corpus to the prompt (template variable ``retrieved``)."""

    model_config = _FORBID
    k: int = Field(4, ge=1, le=50, description="Passages retrieved per case.")
    sources: list[Literal["memos", "precedents"]] = Field(
        default_factory=lambda: ["memos", "precedents"], min_length=1,
        description="Policy memos and/or past decisions (precedents).")
    retriever: Literal["tfidf"] = Field("tfidf", description="TF-IDF (scikit-learn) over the corpus.")
    max_tokens: int | None = Field(None, ge=1, description="Stop adding passages beyond this many tokens.")


class ContextPolicy(BaseModel):
    model_config = _FORBID
    max_history_turns: int | None = Field(None, ge=0, description="Keep at most the N most recent history turns.")
    max_history_tokens: int | None = Field(None, ge=0, description="Keep the most recent turns within T tokens.")
    memory: Literal["raw", "summary"] = Field(
        "raw", description="raw: history turns verbatim (truncated as above); summary: older turns summarised to one "
                           "line each, the most recent kept verbatim.")
    recent_turns: int | None = Field(None, ge=0, description="With memory: summary, turns kept verbatim (default 5).")
    summary_tokens: int | None = Field(None, ge=1, description="With memory: summary, token budget of the summary.")
    retrieval: RetrievalPolicy | None = Field(None, description="Retrieve memos and precedents into the prompt.")

    @model_validator(mode="after")
    def _summary_options(self) -> ContextPolicy:
        if self.memory == "raw" and (self.recent_turns is not None or self.summary_tokens is not None):
            raise ValueError("recent_turns and summary_tokens apply only with memory: summary")
        if self.memory == "summary" and (self.max_history_turns is not None or self.max_history_tokens is not None):
            raise ValueError("memory: summary replaces max_history_turns/max_history_tokens; use recent_turns and "
                             "summary_tokens")
        return self


class PriceTier(BaseModel):
    """A long-context tier (USD per 1M tokens): once a request's input passes ``above`` tokens, every token
    of that request (input, output, cache reads and writes) bills at the tier's rates."""

    model_config = _FORBID
    above: int = Field(gt=0, description="Input tokens a request must exceed for this tier to apply.")
    input: float | None = Field(None, ge=0, allow_inf_nan=False,
                                description="Input price above the threshold (default: the base price).")
    output: float | None = Field(None, ge=0, allow_inf_nan=False,
                                 description="Output price above the threshold (default: the base price).")
    cache_read: float | None = Field(None, ge=0, allow_inf_nan=False,
                                     description="Cache-read price above the threshold (default: as below it).")
    cache_write: float | None = Field(None, ge=0, allow_inf_nan=False,
                                      description="Cache-write price above the threshold (default: as below it).")

    @model_validator(mode="after")
    def _some_rate(self) -> PriceTier:
        if all(getattr(self, k) is None for k in ("input", "output", "cache_read", "cache_write")):
            raise ValueError(f"the tier above {self.above} sets no price (input, output, cache_read, cache_write)")
        return self


class PriceOverride(BaseModel):
    """USD per 1M tokens; overrides litellm's bundled price map for this configuration."""

    model_config = _FORBID
    input: float = Field(ge=0, allow_inf_nan=False)
    output: float = Field(ge=0, allow_inf_nan=False)
    cache_read: float | None = Field(None, ge=0, allow_inf_nan=False)
    cache_write: float | None = Field(None, ge=0, allow_inf_nan=False)
    tiers: list[PriceTier] | None = Field(
        None, description="Long-context tiers, by ascending threshold, e.g. "
                          "[{above: 200000, input: 6.0, output: 22.5}].")

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, v: list[PriceTier] | None) -> list[PriceTier] | None:
        thresholds = [t.above for t in v or []]
        if any(b <= a for a, b in pairwise(thresholds)):
            raise ValueError(f"tiers must be in ascending order of 'above', each threshold once (got {thresholds})")
        return v


class RateLimits(BaseModel):
    """The provider's limits for this model (they differ per model); overrides `execution`."""

    model_config = _FORBID
    requests_per_minute: float | None = Field(None, gt=0, allow_inf_nan=False)
    tokens_per_minute: float | None = Field(None, gt=0, allow_inf_nan=False)


class ConfigSpec(BaseModel):
    """One candidate configuration: prompt template + provider/model + parameters + context policy."""

    model_config = _FORBID
    name: str = Field(pattern=NAME_PATTERN)
    provider: str
    model: str
    prompt: str = Field(description="Jinja2 template path, relative to the suite file.")
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict, description="temperature, max_tokens, seed, ...")
    context: ContextPolicy = Field(default_factory=ContextPolicy)
    confidence: Literal["stated", "logprob", "consistency"] = "stated"
    samples: int = Field(1, ge=1, le=20, description="k answers per case (self-consistency uses k >= 2).")
    structured_output: bool = True
    price: PriceOverride | None = None
    rate_limits: RateLimits | None = None
    options: dict[str, Any] = Field(default_factory=dict, description="Provider options (base_url, api_key_env...).")

    _sensible_params = field_validator("params")(check_params)

    @field_validator("options")
    @classmethod
    def _no_inline_secrets(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if key.lower() in ("api_key", "key", "token", "secret"):
                raise ValueError(f"put secrets in the environment and name the variable with {key}_env, "
                                 f"not in the suite file ({key!r})")
        return v

    @model_validator(mode="after")
    def _consistency_needs_samples(self) -> ConfigSpec:
        if self.confidence == "consistency" and self.samples < 2:
            raise ValueError("confidence: consistency needs samples >= 2")
        return self


class ExecutionSpec(BaseModel):
    model_config = _FORBID
    concurrency: int = Field(16, ge=1, le=1024)
    requests_per_minute: float | None = Field(None, gt=0, allow_inf_nan=False)
    tokens_per_minute: float | None = Field(None, gt=0, allow_inf_nan=False)
    timeout_s: float = Field(60.0, gt=0, allow_inf_nan=False)
    max_attempts: int = Field(6, ge=1, le=20)
    max_error_share: float = Field(0.2, gt=0, le=1, allow_inf_nan=False)
    mode: Literal["direct", "batch"] = Field(
        "direct", description="batch: send calls through the provider's batch API (OpenAI, Anthropic) at batch "
                              "prices; answers arrive within the provider's window (up to 24 h).")
    batch_poll_s: float = Field(30.0, gt=0, allow_inf_nan=False,
                                description="Seconds between polls of pending batches.")
    batch_max_requests: int | None = Field(
        None, ge=1, description="At most this many requests per batch (default: the provider's limit).")
    batch_max_poll_errors: int = Field(
        20, ge=1, le=10_000, description="Failed polls of one batch in a row before it is abandoned: cancelled, and "
                                         "its calls sent directly at the standard price.")


class SampleSpec(BaseModel):
    model_config = _FORBID
    limit: int | None = Field(None, ge=1, description="At most N cases, stratified by segment.")
    fraction: float | None = Field(None, gt=0, le=1, description="A stratified fraction of the cases.")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Which cases limit/fraction pick.")


class ScoringSpec(BaseModel):
    model_config = _FORBID
    outcome: Literal["good", "correct"] = "good"
    judge: JudgeSpec | None = Field(None, description="Optional LLM judge grading the customer message.")
    judge_decides: bool = Field(
        True, description="The judge's 'not good' overrides the rubric. Set false to record the judge only "
                          "(advisory) while its agreement with human labels is being established.")


class ReportSpec(BaseModel):
    model_config = _FORBID
    objective: Literal["good_rate", "net_value"] = "good_rate"
    title: str | None = None


class Suite(BaseModel):
    model_config = _FORBID
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    task: str = DEFAULT_TASK
    dataset: str = Field(description="Dataset reference: name@version, name@latest, or a path.")
    catalogue: str | None = Field(None, description=(
        "A task's catalogue and policy file (YAML, beside the suite), e.g. a team's plans, prices and clauses. "
        "It wins over the catalogue the dataset ships, which wins over the task's own (docs/catalogue.md)."))
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Recorded in the run; seeds simulated providers and sampling.")
    configs: list[ConfigSpec] = Field(min_length=1)
    baseline_config: str | None = Field(None, description="Config the others are compared against within a run.")
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)
    sample: SampleSpec = Field(default_factory=SampleSpec)
    scoring: ScoringSpec = Field(default_factory=ScoringSpec)
    calibration: CalibrationSpec | None = None
    economics: EconomicsSpec = Field(default_factory=EconomicsSpec)
    projection: ProjectionSpec | None = None
    gates: list[GateSpec] | None = None
    report: ReportSpec = Field(default_factory=ReportSpec)

    @model_validator(mode="after")
    def _unique_names(self) -> Suite:
        names = [c.name for c in self.configs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"configuration names must be unique; repeated: {', '.join(dupes)}")
        if self.baseline_config and self.baseline_config not in names:
            raise ValueError(f"baseline_config {self.baseline_config!r} is not one of the configs: {', '.join(names)}")
        return self

    def config(self, name: str) -> ConfigSpec:
        for c in self.configs:
            if c.name == name:
                return c
        raise KeyError(name)
