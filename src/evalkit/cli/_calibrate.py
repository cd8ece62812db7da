"""CLI: ``evalkit calibrate RUN`` - metrics, out-of-fold recalibration, certified thresholds."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from evalkit.cli._common import cli_errors, open_unit


class _Outcome(str, Enum):
    good = "good"
    correct = "correct"


class _Mode(str, Enum):
    global_ = "global"
    per_segment = "per_segment"
    all_segments = "all_segments"


def _fmt_rate(r) -> str:  # evalkit.runs.Rate | None
    if r is None or r.value is None:
        return "-"
    return f"{r.value:.1%} [{r.lo:.1%}, {r.hi:.1%}] n={r.n}"


def _print(result, console) -> None:
    from rich.table import Table

    from evalkit.runs import Rate, Thresholds

    doc = Thresholds.model_validate(result.document)
    metrics = Table(title=f"Calibration metrics (outcome: {doc.outcome}; recalibrated = out of fold)")
    for col in ("config", "n", "ECE width [95% CI]", "ECE mass", "MCE (bin n)", "Brier", "log loss", "AUROC",
                "E-AURC", "ECE recal. (out of fold)", "map"):
        metrics.add_column(col)
    for name, cfg in doc.configs.items():
        m, mr = cfg.metrics.get("raw"), cfg.metrics.get("recalibrated_out_of_fold")
        method = (cfg.recalibration or {}).get("method", "-")
        if m is None:
            metrics.add_row(name, "0", *["-"] * 8, method)
            continue
        ci = m["ece_width_ci"]
        metrics.add_row(
            name, str(m["n"]), f"{m['ece_width']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""),
            f"{m['ece_mass']:.3f}", f"{m['mce']:.3f} ({m['mce_bin']['n']})", f"{m['brier']:.3f}",
            f"{m['log_loss']:.3f}", "-" if m["auroc"] is None else f"{m['auroc']:.3f}", f"{m['e_aurc']:.3f}",
            "-" if mr is None else f"{mr['ece_width']:.3f}", method)
    console.print(metrics)
    if doc.alpha is not None:
        thr = Table(title=f"Thresholds: alpha={doc.alpha:g}, delta={doc.delta:g}, mode={doc.mode} "
                          "(automate iff valid, not deferred, confidence >= threshold)")
        for col in ("config", "segment", "threshold", "calibrated", "automation [95% CI]", "errors among automated",
                    "risk upper bound", "certified"):
            thr.add_column(col)
        for name, cfg in doc.configs.items():
            if doc.mode != "per_segment":
                thr.add_row(name, "(all)", _t(cfg.threshold), _t(cfg.threshold_calibrated), _fmt_rate(cfg.coverage),
                            _fmt_rate(cfg.error_rate), _t(cfg.risk_upper_bound), "yes" if cfg.certified else "NO")
            for seg, st in cfg.segments.items():
                cert = {True: "yes", False: "NO", None: "pooled"}[st.certified]
                thr.add_row(name, seg, _t(st.threshold), _t(st.threshold_calibrated), _fmt_rate(st.coverage),
                            _fmt_rate(st.error_rate), _t(st.risk_upper_bound), cert)
        console.print(thr)
        for name, cfg in doc.configs.items():
            if cfg.message:
                console.print(f"[bold]{name}[/bold]: {cfg.message}")
            if cfg.uncertified_segments:
                console.print(f"[bold]{name}[/bold]: escalated (uncertified) segments: "
                              + ", ".join(cfg.uncertified_segments))
        if doc.guarantee:
            console.print(f"Guarantee: {doc.guarantee['statement']}. Assumes: {doc.guarantee['assumptions']}")
    for name, cfg in doc.configs.items():
        co = cfg.cost_optimal  # evalkit.calibrate's own diagnostic block
        if co:
            items = co["segments"].items() if "segments" in co else [("(all)", co)]
            for seg, c in items:
                b = c["bayes_rule"]
                auto = Rate.model_validate(b["automation"]) if b.get("automation") else None
                console.print(
                    f"[bold]{name}[/bold] {seg}: cost-optimal threshold {_t(c['threshold'])} "
                    f"({c['candidates']}), held-out cost/case {c['expected_cost_per_case_held_out']:.2f} "
                    f"vs escalate-all {c['escalate_all_cost_per_case']:.2f}; Bayes rule on calibrated scores: "
                    f"automation {_fmt_rate(auto)}, held-out cost/case {b['expected_cost_per_case_held_out']:.2f}")
        for w in cfg.warnings:
            console.print(f"[yellow]warning[/yellow] {name}: {w}")
    console.print(f"wrote {result.path}")


def _t(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def register(app: typer.Typer) -> None:
    """Add the calibrate command to the app."""

    @app.command("calibrate")
    def calibrate(
        run: Annotated[str, typer.Argument(help="Run id under reports/ (EVALKIT_REPORTS) or a path to a run folder.")],
        config: Annotated[list[str] | None, typer.Option("--config", help="Configuration(s) to calibrate.")] = None,
        outcome: Annotated[_Outcome | None, typer.Option(help="Outcome to predict: good or correct "
                                                         "(default: the suite's, else good).")] = None,
        alpha: Annotated[float | None, typer.Option(
            callback=open_unit, help="Target error rate among automated (default 0.05).")] = None,
        delta: Annotated[float | None, typer.Option(
            callback=open_unit, help="Risk that the guarantee fails (default 0.05).")] = None,
        per_segment: Annotated[bool, typer.Option("--per-segment", help="A certified threshold per segment "
                                                  "(Bonferroni).")] = False,
        mode: Annotated[_Mode | None, typer.Option(help="global | per_segment | all_segments.")] = None,
        review_cost: Annotated[float | None, typer.Option(min=0.0, help="USD per escalated case.")] = None,
        error_cost: Annotated[float | None, typer.Option(min=0.0, help="USD per automated case that is not good.")] = None,
        method: Annotated[str | None, typer.Option(help="auto | platt | isotonic | multi | none.")] = None,
        seed: Annotated[int | None, typer.Option(help="Seed for folds and bootstrap.")] = None,
    ) -> None:
        """Measure calibration, recalibrate out of fold, certify escalation thresholds; writes thresholds.json.

        Defaults come from the run's suite (its `calibration` and `economics` sections); options override them.
        """
        with cli_errors():
            from pydantic import ValidationError
            from rich.console import Console

            from evalkit.calibrate import CalibrationSpec, calibrate_run
            from evalkit.economics import EconomicsSpec
            from evalkit.errors import ConfigError

            if per_segment and mode not in (None, _Mode.per_segment):
                raise ConfigError("--per-segment conflicts with --mode " + mode.value)
            from evalkit.runs import open_run

            found = open_run(run)
            run_dir, suite = found.path, found.suite_spec
            fields: dict = dict(suite.get("calibration") or {})
            for key, val in (("outcome", outcome.value if outcome else None), ("alpha", alpha), ("delta", delta),
                             ("method", method), ("seed", seed)):
                if val is not None:
                    fields[key] = val
            if per_segment or mode is not None:
                fields["mode"] = "per_segment" if per_segment else mode.value  # type: ignore[union-attr]
            eco_fields = dict(suite.get("economics") or {})
            eco_fields.update({k: v for k, v in (("review_cost", review_cost), ("error_cost", error_cost))
                               if v is not None})
            try:
                spec = CalibrationSpec(**fields)
                economics = EconomicsSpec(**eco_fields) if eco_fields else None
            except ValidationError as exc:
                raise ConfigError(f"calibrate options: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
            result = calibrate_run(run_dir, spec=spec, economics=economics, configs=config or None)
            _print(result, Console(width=200))
