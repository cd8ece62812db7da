"""The report's verdict: the best configuration by the suite's objective (with what the data say about
its lead), the largest significant regressions, and each run's stored gate result, labelled as its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.formatting import p_value, signed_parts
from evalkit.report._assemble import Change, Column, LeaderRow, Matrix, dataset_of, suite_spec
from evalkit.runs import RunFolder as RunData
from evalkit.stats import ALL, Estimate


def objective_of(runs: Sequence[RunData]) -> str:
    """The suite's objective ('good_rate' or 'net_value') as recorded in the manifest."""
    for run in runs:
        obj = (suite_spec(run).get("report") or {}).get("objective")
        if obj in ("good_rate", "net_value"):
            return obj
    return "good_rate"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    objective: str
    best: LeaderRow | None
    best_reason: str
    regressions: list[tuple[Column, str, Change]]
    gates: list[GateVerdict]
    """Every run that has been gated."""


@dataclass(frozen=True, kw_only=True)
class GateVerdict:
    run_id: str
    report: Any
    """The run's stored gate report (``evalkit.gate.stored_report``: gates.json read back)."""
    marks: list[str]
    """Per result: PASS, FAIL, SKIP or NOT SETTLED."""
    page_baseline: str | None = None
    """The baseline run this page compares the run with, None without one: the stored result is not this
    page's verdict unless the two are the same run."""
    simulated_configs: frozenset[str] = frozenset()
    """The gated configurations whose numbers are simulated (``RunFolder.simulated``, the question's one
    owner): their results are labelled so."""

    @property
    def verdict(self) -> str:
        """PASSED, FAILED or NOTHING CHECKED (every gate skipped or not settled), as the console says it."""
        return str(self.report.verdict)

    @property
    def tally(self) -> str:
        """'5 passed, 0 failed, 6 skipped' (evalkit.gate's count: a skipped or unsettled gate is not a pass)."""
        return str(self.report.tally())

    @property
    def baseline_run_id(self) -> str | None:
        """The baseline the gates ran against (gates.json), None: gated without one."""
        return self.report.baseline_run_id

    @property
    def created(self) -> str | None:
        """When the gates ran (gates.json)."""
        return self.report.created or None

    @property
    def same_comparison(self) -> bool:
        """The stored gates compared the run with the baseline this page compares it with."""
        return self.page_baseline is not None and self.baseline_run_id == self.page_baseline

    @property
    def gated_against(self) -> str:
        return f"against baseline {self.baseline_run_id}" if self.baseline_run_id else "without a baseline"


def gate_verdict(run: RunData, page_baseline: RunData | None = None) -> GateVerdict | None:
    """The run's stored gate result, read by evalkit.gate (``stored_report``), so the report counts and
    states it as the console does; None when the run has not been gated."""
    from evalkit.gate import stored_report

    report = stored_report(run)
    if report is None:
        return None
    marks = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "not settled": "NOT SETTLED"}
    configs = list(dict.fromkeys(r.config for r in report.results))
    return GateVerdict(run_id=run.run_id, report=report, marks=[marks[r.outcome] for r in report.results],
                       page_baseline=page_baseline.run_id if page_baseline is not None else None,
                       simulated_configs=frozenset(run.simulated_configs(configs)))


def _direct_change(best: Column, runner: Column, matrix: Matrix) -> tuple[Change, int] | None:
    """The matrix's overall comparison of the two configurations when one is the other's reference, with
    the sign that turns its difference into best minus runner-up (+1: the best against the runner-up,
    -1: the runner-up against the best); None when the matrix does not compare the two."""
    if best.ref is runner and (ALL, best.key) in matrix.changes:
        return matrix.changes[(ALL, best.key)], 1
    if runner.ref is best and (ALL, runner.key) in matrix.changes:
        return matrix.changes[(ALL, runner.key)], -1
    return None


def _comparison_terms(change: Change, sign: int, best: LeaderRow, runner: LeaderRow) -> str:
    """'+1.2 pts [-3.0, +5.4], p=0.62, paired on the 300 cases both evaluated': the matrix's change read as
    best minus runner-up, in that comparison's own terms."""
    diff, lo, hi = (100 * change.diff, 100 * change.lo, 100 * change.hi) if sign > 0 else \
        (-100 * change.diff, -100 * change.hi, -100 * change.lo)
    d, lo_s, hi_s = signed_parts(diff, lo, hi)
    p = f"{'adj. ' if change.adjusted else ''}p={p_value(change.p_adjusted, change.alpha)}"
    if change.paired:
        how = f"paired on the {change.n} cases both evaluated"
    else:
        n_best, n_runner = (change.n, change.n_ref) if sign > 0 else (change.n_ref, change.n)
        how = (f"unpaired: measured on different case samples ({best.column.label}: n={n_best}, "
               f"{runner.column.label}: n={n_runner})")
    return f"{d} pts [{lo_s}, {hi_s}], {p}, {how}"


def _case_ids(col: Column) -> set[str]:
    return set(col.df["case_id"].astype(str)) if "case_id" in col.df else set()


def _separation(best: LeaderRow, rows: Sequence[LeaderRow], matrix: Matrix | None = None, *, net: bool) -> str:
    """What the data say about the best configuration's lead over the runner-up.

    When the segment matrix compares the two (one is the other's reference), its overall test decides, on
    the good rate: significant in the best's favour, no caveat; otherwise the line says the best is not
    significantly better, in that comparison's terms (paired on the shared cases, or unpaired). Marginal
    intervals that overlap say nothing about a paired difference, so they are the caveat only when the
    matrix holds no such comparison, or for the net value (the matrix tests the good rate). "Different case
    samples" only when the two are not compared paired."""
    from evalkit.report._compare import dataset_match

    def measure(row: LeaderRow) -> Estimate | None:
        return row.net_value if net else row.good

    others = [r for r in rows if r is not best and measure(r) is not None and measure(r).value is not None]
    chosen = measure(best)
    if not others or chosen is None or chosen.value is None:
        return ""
    runner = max(others, key=lambda r: measure(r).value)  # type: ignore[union-attr]
    second = measure(runner)
    direct = _direct_change(best.column, runner.column, matrix) if matrix is not None else None
    name = best.column.other_label(runner.column)
    if direct is not None and not net:
        change, sign = direct
        if change.significant and sign * change.diff > 0:
            if change.paired:
                return ""
            return f"; significantly better than {name} ({_comparison_terms(change, sign, best, runner)})"
        worse = change.significant  # significant, in the runner-up's favour
        word = "significantly worse than" if worse else "not significantly better than"
        return f"; {word} {name} ({_comparison_terms(change, sign, best, runner)})"

    ids, runner_ids = _case_ids(best.column), _case_ids(runner.column)
    if direct is not None:
        paired, shared = direct[0].paired, direct[0].n
    elif best.column.run.run_id == runner.column.run.run_id:
        paired, shared = ids == runner_ids, len(ids & runner_ids)
    else:
        same_version = dataset_match(dataset_of(best.column.run), dataset_of(runner.column.run)) == "same"
        paired, shared = False, len(ids & runner_ids) if same_version else 0
    notes = []
    if None not in (chosen.lo, second.hi) and second.hi >= chosen.lo:  # type: ignore[union-attr,operator]
        if paired:
            cases = "on the same cases" if ids == runner_ids else f"paired on the {shared} cases both evaluated"
            notes.append(f"its 95% interval overlaps that of {name} (`evalkit compare` tests the two {cases})")
        else:
            notes.append(f"its 95% interval overlaps that of {name}, so the data do not single it out")
    if not paired:
        note = (f"measured on different case samples ({best.column.label}: n={best.n}, {name}: n={runner.n}), "
                "not a paired comparison")
        if direct is None and shared:
            note += f" (`evalkit compare` pairs the two on the {shared} cases both evaluated)"
        notes.append(note)
    return "".join(f"; {n}" for n in notes)


def verdict(runs: Sequence[RunData], rows: Sequence[LeaderRow], matrix: Matrix, *, top: int = 5,
            baseline: RunData | None = None) -> Verdict:
    objective = objective_of(runs)
    # The baseline competes too: when the change is worse, the verdict should say so.
    candidates = list(rows)
    best, reason = None, "no configuration scored"
    if objective == "net_value" and candidates and all(r.net_value is not None for r in candidates):
        best = max(candidates, key=lambda r: r.net_value.value)  # type: ignore[union-attr]
        reason = "highest projected net value per month"
    elif candidates:
        best = max(candidates, key=lambda r: (r.good.value or 0.0))
        reason = "highest good rate" + (" (net value unavailable: projection not run for every configuration)"
                                        if objective == "net_value" else "")
    if best is not None:
        reason += _separation(best, candidates, matrix, net=reason.startswith("highest projected net value"))
    by_key = {r.column.key: r.column for r in rows}
    regs = [(by_key[k], s, ch) for (s, k), ch in matrix.changes.items() if ch.significant and ch.diff < 0]
    regs.sort(key=lambda t: t[2].diff)
    return Verdict(objective=objective, best=best, best_reason=reason, regressions=regs[:top],
                   gates=[g for g in (gate_verdict(r, baseline) for r in runs) if g is not None])
