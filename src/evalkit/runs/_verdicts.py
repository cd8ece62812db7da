"""gates.json (evalkit.gate) and judge.json (the LLM judge's agreement): the verdict files of a run."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from evalkit.runs._base import Json, Rate, RunFile, _Format


class GateOutcome(_Format):
    name: str
    kind: str
    config: str
    status: Literal["pass", "fail", "skip"]
    passed: bool
    observed: Rate | None = None
    limit: float
    message: str
    segments: list[str] = Field(default_factory=list)
    details: list[Json] = Field(default_factory=list)
    seconds: float = 0.0
    unit: Literal["rate", "points", "relative", "usd", "score"] = "score"
    settled: bool = Field(True, description="False for a sequential run's gate left open when the run "
                          "stopped early (status skip): neither passed nor skipped.")


class Gates(RunFile):
    FILE: ClassVar[str] = "gates.json"
    run_id: str | None = None
    baseline_run_id: str | None = None
    created: str | None = None
    passed: bool = Field(description="No gate failed (the exit code is 0); see verdict for whether any was checked.")
    verdict: Literal["passed", "failed", "nothing checked"] | None = Field(
        None, description="What the run's gates say: 'nothing checked' when every gate was skipped or not "
        "settled (passed is then true, but nothing passed). Absent in files written before it existed.")
    simulated: bool = False
    n_gates: int
    n_failed: int
    counts: dict[str, int] = Field(default_factory=dict, description="Gate x configuration results by "
                                   "outcome: passed, failed, skipped, not settled.")
    headline: dict[str, Json] = Field(default_factory=dict)
    sequential: Json | None = None
    results: list[GateOutcome]


# ---- judge.json ------------------------------------------------------------------------------------------


class Agreement(_Format):
    n: int
    n_dropped: int = 0
    agreement: Rate | None = None
    kappa: float | None = None
    kappa_interval: list[float | None] | None = None
    confusion: list[list[int]] = Field(default_factory=list)
    confusion_axes: str | None = None


class Judge(RunFile):
    FILE: ClassVar[str] = "judge.json"
    judge_decides: bool = True
    judge_vs_human: Agreement | None = None
    judge_vs_rubric: Agreement | None = None
    n_model_decisions_judged: int | None = None
    n_rejected_by_judge: int | None = None
    note: str | None = None
    simulated: bool = Field(False, description="True when some number here comes from a simulated provider: the "
                            "judge's (judge_simulated) or a judged configuration's (simulated_configs). False in "
                            "files written before it existed.")
    judge_simulated: bool = Field(False, description="The judge is a simulated provider, not a real model: its "
                                  "verdicts, so both agreements, are simulated.")
    simulated_configs: list[str] = Field(default_factory=list, description="The configurations whose decisions "
                                         "the judge graded that are simulated (judge_vs_rubric and the counts pool "
                                         "every configuration's decisions); empty when none is.")

