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


SEED_MAX = 2**32 - 1
"""evalkit.calibrate.SEED_MAX, repeated so that this module stays light to import (a test holds them equal)."""


def seed_in_range(value: int | None) -> int | None:
    """Typer callback for ``--seed`` (calibrate and project): numpy takes seeds from 0 to 2**32 - 1."""
    if value is not None and not 0 <= value <= SEED_MAX:
        raise typer.BadParameter(f"must be an integer from 0 to {SEED_MAX}, got {value}")
    return value


def _fmt_rate(r) -> str:
    from evalkit.formatting import interval

    return interval(r, unknown="-")


def _table(title: str, columns: tuple[str, ...]):
    """A compact table that wraps its cells to the console width (80 columns when piped)."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in columns:
        if col in ("config", "segment"):  # names never fold; the numbers wrap at their spaces
            table.add_column(col, no_wrap=True)
        elif "95%" in col or "among" in col:  # "58.0% [55.1%, 60.8%] n=3000" wraps to two lines, not five
            table.add_column(col, overflow="fold", min_width=12)
        else:
            table.add_column(col, overflow="fold")
    return table


def _print(result, console, economics) -> None:
    doc = result.document
    _print_metrics(doc, console)
    if doc["alpha"] is not None:
        from evalkit.runs import Thresholds

        _print_thresholds(Thresholds.model_validate(doc), console)
    if _print_cost_optimal(doc, console):
        console.print(f"costs assume {economics.assumptions()}")
        from evalkit.calibrate import SUITE_SET

        named = "" if result.name == SUITE_SET else f" --threshold-set {result.name}"
        console.print(f"project at these decisions: evalkit project {result.run_dir}{named} --cost-optimal "
                      "(the default projects at the lowest certified thresholds)")
    _print_footer(result, console)


def _print_metrics(doc, console) -> None:
    metrics = _table(f"Calibration (outcome: {doc['outcome']}; recal. = recalibrated, out of fold)",
                     ("config", "n", "ECE width", "Brier", "AUROC", "ECE recal.", "map"))
    more = _table("More calibration metrics", ("config", "ECE mass", "MCE (bin n)", "log loss", "E-AURC"))
    for name, cfg in doc["configs"].items():
        m, mr = cfg["metrics"]["raw"], cfg["metrics"]["recalibrated_out_of_fold"]
        if m is None:
            metrics.add_row(name, "0", *["-"] * 4, cfg["recalibration"]["method"])
            more.add_row(name, *["-"] * 4)
            continue
        metrics.add_row(
            name, str(m["n"]), f"{m['ece_width']:.3f}",
            f"{m['brier']:.3f}", "-" if m["auroc"] is None else f"{m['auroc']:.3f}",
            "-" if mr is None else f"{mr['ece_width']:.3f}", cfg["recalibration"]["method"])
        more.add_row(name, f"{m['ece_mass']:.3f}", f"{m['mce']:.3f} ({m['mce_bin']['n']})", f"{m['log_loss']:.3f}",
                     f"{m['e_aurc']:.3f}")
    console.print(metrics)
    console.print(more)


def _print_thresholds(doc, console) -> None:
    """``doc``: the thresholds document just written, typed (evalkit.runs.Thresholds)."""
    console.print(f"[bold]Thresholds[/]: alpha={doc.alpha:g}, delta={doc.delta:g}, mode={doc.mode} "
                  "(automate iff valid, not deferred, confidence >= threshold; the calibrated-scale "
                  "thresholds are in --json)")
    for name, cfg in doc.configs.items():
        thr = _table(name, ("segment", "thr.", "automation [95% CI]",
                            "errors among automated", "risk", "cert."))
        if doc.mode != "per_segment":
            thr.add_row("(all)", _t(cfg.threshold), _fmt_rate(cfg.coverage), _fmt_rate(cfg.error_rate),
                        _t(cfg.risk_upper_bound), "yes" if cfg.certified else "NO")
        for seg, s in cfg.segments.items():
            cert = {True: "yes", False: "NO", None: "pooled"}[s.certified]
            thr.add_row(seg, _t(s.threshold), _fmt_rate(s.coverage), _fmt_rate(s.error_rate),
                        _t(s.risk_upper_bound), cert)
        console.print(thr)
    for name, cfg in doc.configs.items():
        if cfg.message:
            console.print(f"[bold]{name}[/bold]: {cfg.message}")
        if cfg.uncertified_segments:
            console.print(f"[bold]{name}[/bold]: escalated (uncertified) segments: "
                          + ", ".join(cfg.uncertified_segments))
    if doc.guarantee:
        console.print(f"Guarantee: {doc.guarantee['statement']}. Assumes: {doc.guarantee['assumptions']}")


def _print_cost_optimal(doc, console) -> bool:
    """Each configuration's cost-optimal decision; whether any was printed."""
    printed = False
    for name, cfg in doc["configs"].items():
        co = cfg.get("cost_optimal")
        if co:
            printed = True
            items = co["segments"].items() if "segments" in co else [("(all)", co)]
            for seg, c in items:
                b = c["bayes_rule"]
                # `cheaper` (written since the decision compares held-out costs) says which choice wins, in $
                cheaper = c.get("cheaper") or (f"held-out cost/case ${c['expected_cost_per_case_held_out']:.2f} vs "
                                               f"escalate-all ${c['escalate_all_cost_per_case']:.2f}")
                tried = (c.get("cheapest_candidate") or {}).get("threshold") is not None
                if c["threshold"] is not None:
                    decision = f"automate at confidence >= {_t(c['threshold'])} ({c['candidates']}): {cheaper}"
                else:
                    decision = f"escalate everything: {cheaper}" if tried else f"escalate everything ({c['candidates']})"
                console.print(
                    f"[bold]{name}[/bold] {seg}: cost-optimal decision: {decision}; "
                    f"Bayes rule on calibrated scores: automation {_fmt_rate(b['automation'])}, held-out cost/case "
                    f"${b['expected_cost_per_case_held_out']:.2f}")
        for w in cfg.get("warnings", []):
            console.print(f"[yellow]warning[/yellow] {name}: {w}")
    return printed


def _print_footer(result, console) -> None:
    from evalkit.calibrate import describe_set, read_threshold_set, threshold_sets

    console.print(f"threshold set: {describe_set(result.name, read_threshold_set(result.run_dir, result.name))}")
    others = [n for n in threshold_sets(result.run_dir) if n != result.name]
    if others:
        console.print("other threshold sets kept: " + ", ".join(others))
    from evalkit.cli._common import simulated_configs, simulated_line

    sims = simulated_configs(result.run_dir, result.document["configs"])
    if sims:
        console.print(simulated_line(sims))
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
        seed: Annotated[int | None, typer.Option(callback=seed_in_range, help="Seed for folds and bootstrap "
                                                 "(0 to 4294967295).")] = None,
        json_: Annotated[bool, typer.Option("--json", help="Print the result (thresholds.json) on stdout.")] = False,
        name: Annotated[str | None, typer.Option(
            "--name", help="Threshold set to write (default: 'suite' = thresholds.json when the settings are the "
            "suite's, else a name made of them, e.g. alpha0.2-delta0.05-per_segment).")] = None,
    ) -> None:
        """Measure calibration, recalibrate out of fold, certify escalation thresholds into a named threshold set.

        Defaults come from the run's suite (its `calibration` and `economics` sections); options override them.
        With the suite's settings the set is 'suite' (RUN/thresholds.json); other settings write
        RUN/thresholds/<name>.json. Sets are never clobbered: other configurations and other sets stay.
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
            result = calibrate_run(run_dir, spec=spec, economics=economics, configs=config or None, name=name)
            if json_:
                from evalkit.cli._conventions import echo_json

                echo_json(result.document)
            else:
                _print(result, Console(highlight=False), economics or EconomicsSpec())
