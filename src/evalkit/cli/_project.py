"""CLI: ``evalkit project RUN`` -- production projection of a scored run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from evalkit.cli._calibrate import seed_in_range
from evalkit.cli._common import cli_errors


def _pct(r: dict[str, Any] | None) -> str:
    from evalkit.formatting import interval

    return interval(r)


def _usd(x: float | None, digits: int = 0) -> str:
    from evalkit.formatting import money

    return money(x, digits)


def _num(r: dict[str, Any] | None, fmt: Any = "{:,.0f}".format) -> str:
    """A count or amount with its interval and n, in ``fmt`` (evalkit.formatting.interval)."""
    from evalkit.formatting import interval

    return interval(r, unit=fmt)


def _thr(t: float | None) -> str:
    return "escalate all" if t is None else f"{t:.3g}"


def _policy(b: dict[str, Any]) -> str:
    if b.get("threshold_mode") == "per_segment":
        segs = ", ".join(f"{s} {_thr(v['threshold'])}" for s, v in b["segments"].items())
        return f"per segment ({b['threshold_source']}): {segs}"
    return f"{_thr(b['threshold'])} ({b['threshold_source']})"


def _risk(b: dict[str, Any]) -> str:
    if b.get("risk_target_segments"):
        return "per segment: " + ", ".join(f"{s} {_thr(t)}" for s, t in b["risk_target_segments"].items())
    return _thr(b["risk_target_threshold"])


def _cost_case(b: dict[str, Any]) -> str:
    c = b["cost_per_case"]
    if not c["known"]:
        return f"unknown ({c['n_unknown']} rows)"
    return " / ".join(_usd(c[k], 4) for k in ("mean", "p95", "p99"))


def _naive(b: dict[str, Any]) -> str:
    m = b["monthly_cost"]
    if m.get("naive") is not None:
        return _usd(m["naive"])
    if m.get("naive_known_rows_only") is not None:  # some costs unknown: the figure covers the known ones only
        return f"unknown ({_usd(m['naive_known_rows_only'])} over known-cost calls; {m['n_unknown']} unknown)"
    return "unknown"


def _tail(b: dict[str, Any]) -> str:
    m = b["monthly_cost"]
    ratio = m["tail_to_naive_ratio"]
    if ratio is None and m.get("known") and m.get("naive") == 0:
        return "—"  # a ratio to a naive spend of $0 is not applicable (as in the report's context table)
    return "unknown" if ratio is None else f"{ratio:.2f}x"


# One table per theme, one row per configuration: columns wrap to the console (80 when piped).
_TABLES: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = (
    ("automation and review", (
        ("naive auto", lambda b: _pct(b["naive_automation_rate"])),
        ("projected auto [95% CI]", lambda b: _pct(b["automation_rate"])),
        ("escalated", lambda b: _pct(b["escalated_rate"])),
        ("errors among automated", lambda b: _pct(b["automated_error_rate"])),
        ("review h/month", lambda b: _num(b["review_hours_per_month"])),
    )),
    ("tokens and value", (
        ("$/case mean / p95 / p99", _cost_case),
        ("$/month naive", _naive),
        ("$/month p50 / p95", lambda b: f"{_usd(b['monthly_cost']['p50'])} / {_usd(b['monthly_cost']['p95'])}"),
        ("tail / naive", _tail),
        ("net value / month", lambda b: _num(b["net_value_per_month"], _usd)),
    )),
    ("thresholds and sample", (
        ("threshold (source)", lambda b: f"per segment ({b['threshold_source']})"
         if b.get("threshold_mode") == "per_segment" else _policy(b)),
        ("value-optimal", lambda b: _thr(b["value_optimal_threshold"])),
        ("risk-target", lambda b: "per segment" if b.get("risk_target_segments") else _risk(b)),
        ("effective n", lambda b: f"{b['effective_sample_size']:,.0f} of {b['n']:,}"),
        ("flagged segments", lambda b: ", ".join(b["flagged_segments"]) or "-"),
    )),
)


def _print(projection: dict[str, Any], result: Any, simulated: list[str]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    console.print(f"[bold]Projection at {projection['volume_per_month']:,} cases/month[/] "
                  f"(95% intervals: Wilson/Clopper-Pearson, stratified MOVER; Monte Carlo seed "
                  f"{projection['monte_carlo']['seed']})")
    names = list(projection["configs"])
    blocks = [projection["configs"][n] for n in names]
    shown = [n + ("*" if n in simulated else "") for n in names]
    for title, columns in _TABLES:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("config", no_wrap=True, min_width=max(map(len, shown), default=6))
        for label, _ in columns:
            table.add_column(label, overflow="fold")
        for name, block in zip(shown, blocks):
            table.add_row(name, *(fn(block) for _, fn in columns))
        console.print(table)
    for name, block in zip(names, blocks):
        if block.get("threshold_mode") == "per_segment":
            console.print(f"[bold]{name}[/] thresholds: {_policy(block)}")
        if block.get("risk_target_segments"):
            console.print(f"[bold]{name}[/] risk-target thresholds: {_risk(block)}")
    for name, block in zip(names, blocks):
        for cap in block["context_caps"]:
            console.print(f"[bold]{name}[/] cap {cap['label']}: saves {_usd(cap['saved_per_month'])}/month, "
                          f"truncates {_pct(cap['truncated_rate'])}, good-rate lost {_pct(cap['good_rate_lost'])}")
    for warning in projection.get("warnings") or []:
        console.print(f"[yellow]warning:[/] {warning}")
    from evalkit.economics import EconomicsSpec

    console.print(f"review load, value and error costs assume "
                  f"{EconomicsSpec.model_validate(projection['economics']).assumptions()}")
    used = projection.get("threshold_set") or {}
    if used.get("description"):
        console.print(f"threshold set: {used['description']}")
    if simulated:
        from evalkit.cli._common import simulated_line

        console.print(f"* {simulated_line(simulated)}")
    if result.path is None:
        console.print(_not_written(result.what_if))
        return
    if result.what_if:
        console.print(f"what-if saved ({'; '.join(result.what_if)}): projection.json records it (`what_if`)")
    if result.kept:
        console.print(f"kept from the earlier projection (same settings): {', '.join(result.kept)}")
    if result.replaced:
        console.print(f"[yellow]replaced:[/] projection.json held {', '.join(result.replaced)} projected with other "
                      "settings; project them again with these options to show them beside")
    console.print(f"wrote {result.path}")


def project_command(
    run: Annotated[str, typer.Argument(help="Run id under the reports folder, or a path to a run folder.")],
    config: Annotated[list[str] | None, typer.Option("--config", help="Only these configurations (repeatable).")] = None,
    volume: Annotated[int | None, typer.Option("--volume", min=1, help="Cases per month in production.")] = None,
    mix: Annotated[Path | None, typer.Option("--mix", help="YAML/JSON production mix {segment: share}.")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="One threshold for every configuration.")] = None,
    thresholds: Annotated[Path | None, typer.Option(
        "--thresholds", help="A thresholds.json, or a list of thresholds to sweep.")] = None,
    threshold_set: Annotated[str | None, typer.Option(
        "--threshold-set", help="Threshold set of the run to apply (default: suite = thresholds.json; "
        "see `evalkit calibrate --name`).")] = None,
    cost_optimal: Annotated[bool, typer.Option(
        "--cost-optimal", help="Apply the threshold set's cost-optimal thresholds (what `evalkit calibrate` "
        "recommends: lowest held-out cost per case, or escalate everything) instead of its lowest certified "
        "ones.")] = False,
    cap_turns: Annotated[int | None, typer.Option(
        "--cap-turns", min=0, help="What-if: keep at most N history turns.")] = None,
    cap_tokens: Annotated[int | None, typer.Option(
        "--cap-tokens", min=0, help="What-if: keep at most T history tokens.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", callback=seed_in_range, help="Seed, 0 to 4294967295 "
                                             "(default: the suite's, else the run's).")] = None,
    save: Annotated[bool, typer.Option(
        "--save", help="Write a what-if (--threshold, --thresholds, --cap-turns/--cap-tokens, or a --volume/--mix "
        "other than the suite's) to "
        "projection.json, which the report shows, recording what it changed; without it a what-if is only "
        "printed.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the projection (projection.json) on stdout.")] = False,
) -> None:
    """Project a run to production volume and mix: automation, review load, cost tail, net value."""
    with cli_errors():
        from evalkit.errors import ConfigError
        from evalkit.project import economics_for_run, project_run, spec_for_run, what_if_settings
        from evalkit.runs import open_run

        if threshold is not None and thresholds is not None:
            raise ConfigError("give --threshold T or --thresholds FILE, not both")
        if cost_optimal and threshold is not None:
            raise ConfigError("give --threshold T or --cost-optimal, not both")
        found = open_run(run)
        run_dir, manifest = found.path, found.manifest
        spec = spec_for_run(manifest, volume=volume, mix_file=mix, seed=seed,
                            cap_turns=cap_turns, cap_tokens=cap_tokens)
        # A what-if never silently becomes the projection the report shows: it is written only with --save
        # (and then records what it changed, `what_if`).
        what_if = what_if_settings(manifest, spec, threshold=threshold, thresholds_file=thresholds)
        result = project_run(run_dir, spec=spec, economics=economics_for_run(manifest), configs=config or None,
                             threshold=threshold, thresholds_file=thresholds, threshold_set=threshold_set,
                             choice="cost_optimal" if cost_optimal else "certified", write=save or not what_if)
        if json_:
            from evalkit.cli._conventions import echo_json

            echo_json(result.projection)
            if result.path is None:
                typer.echo(_not_written(result.what_if), err=True)
        else:
            from evalkit.cli._common import simulated_configs

            _print(result.projection, result, simulated_configs(run_dir, result.configs))


def _not_written(what_if: tuple[str, ...]) -> str:
    return (f"what-if ({'; '.join(what_if)}): not written, projection.json (what the report shows) is unchanged; "
            "--save writes this projection instead")


def register(app: typer.Typer) -> None:
    """Add the ``project`` command to the app."""
    app.command("project")(project_command)
