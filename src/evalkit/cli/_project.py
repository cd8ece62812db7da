"""CLI: ``evalkit project RUN`` -- production projection of a scored run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from evalkit.cli._common import cli_errors


def _pct(r: Any) -> str:  # evalkit.runs.Rate | None
    if r is None or r.value is None:
        return "unknown"
    if r.lo is None:
        return f"{r.value:.1%}"
    return f"{r.value:.1%} [{r.lo:.1%}, {r.hi:.1%}]"


def _usd(x: float | None, digits: int = 0) -> str:
    return "unknown" if x is None else f"{'-' if x < 0 else ''}${abs(x):,.{digits}f}"


def _num(r: Any, fmt: Any = "{:,.0f}".format) -> str:
    if r is None or r.value is None:
        return "unknown"
    if r.lo is None:
        return fmt(r.value)
    return f"{fmt(r.value)} [{fmt(r.lo)}, {fmt(r.hi)}]"


def _thr(t: float | None) -> str:
    return "escalate all" if t is None else f"{t:.3g}"


def _policy(b: Any) -> str:
    if b.threshold_mode == "per_segment":
        segs = ", ".join(f"{s} {_thr(v.get('threshold'))}" for s, v in b.segments.items())
        return f"per segment ({b.threshold_source}): {segs}"
    return f"{_thr(b.threshold)} ({b.threshold_source})"


def _risk(b: Any) -> str:
    if b.risk_target_segments:
        return "per segment: " + ", ".join(f"{s} {_thr(t)}" for s, t in b.risk_target_segments.items())
    return _thr(b.risk_target_threshold)


def _cost(b: Any) -> str:
    c = b.cost_per_case  # evalkit.project's cost block
    if not c.get("known"):
        return "unknown ({} rows)".format(c.get("n_unknown"))
    return ", ".join(_usd(c.get(k), 4) for k in ("mean", "p95", "p99"))


def _print(doc: dict[str, Any], path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from evalkit.runs import Projection, Rate

    projection = Projection.model_validate(doc)
    console = Console()
    table = Table(title=f"Projection at {projection.volume_per_month:,} cases/month "
                        f"(bootstrap {projection.bootstrap['resamples']}, seed {projection.bootstrap['seed']})")
    table.add_column("")
    names = list(projection.configs)
    for name in names:
        table.add_column(name)
    blocks = [projection.configs[n] for n in names]

    def month(b: Any, key: str) -> float | None:
        return getattr(b.monthly_cost, key) if b.monthly_cost is not None else None

    rows = [
        ("threshold (source)", _policy),
        ("automation, naive expectation", lambda b: _pct(b.naive_automation_rate)),
        ("automation, projected", lambda b: _pct(b.automation_rate)),
        ("escalated", lambda b: _pct(b.escalated_rate)),
        ("errors among automated", lambda b: _pct(b.automated_error_rate)),
        ("review hours / month", lambda b: _num(b.review_hours_per_month)),
        ("effective sample size", lambda b: f"{b.effective_sample_size or 0:,.0f} of {b.n:,}"),
        ("flagged segments", lambda b: ", ".join(b.flagged_segments) or "-"),
        ("cost / case mean, p95, p99", _cost),
        ("monthly tokens $, naive", lambda b: _usd(month(b, "naive"))),
        ("monthly tokens $, p50 / p95", lambda b: f"{_usd(month(b, 'p50'))} / {_usd(month(b, 'p95'))}"),
        ("tail / naive", lambda b: "unknown" if month(b, "tail_to_naive_ratio") is None
         else f"{month(b, 'tail_to_naive_ratio'):.2f}x"),
        ("net value / month", lambda b: _num(b.net_value_per_month, _usd)),
        ("value-optimal vs risk-target threshold", lambda b: f"{_thr(b.value_optimal_threshold)} vs {_risk(b)}"),
    ]
    for label, fn in rows:
        table.add_row(label, *(fn(b) for b in blocks))
    console.print(table)
    for name, block in zip(names, blocks):
        for cap in block.context_caps:  # evalkit.project's what-if blocks
            console.print(f"[bold]{name}[/] cap {cap['label']}: saves {_usd(cap['saved_per_month'])}/month, "
                          f"truncates {_pct(Rate.model_validate(cap['truncated_rate']))}, "
                          f"good-rate lost {_pct(Rate.model_validate(cap['good_rate_lost']))}")
    for warning in projection.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"wrote {path}")


def project_command(
    run: Annotated[str, typer.Argument(help="Run id under the reports folder, or a path to a run folder.")],
    config: Annotated[list[str] | None, typer.Option("--config", help="Only these configurations (repeatable).")] = None,
    volume: Annotated[int | None, typer.Option("--volume", min=1, help="Cases per month in production.")] = None,
    mix: Annotated[Path | None, typer.Option("--mix", help="YAML/JSON production mix {segment: share}.")] = None,
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0, help="One threshold for every configuration.")] = None,
    thresholds: Annotated[Path | None, typer.Option(
        "--thresholds", help="A thresholds.json, or a list of thresholds to sweep.")] = None,
    cap_turns: Annotated[int | None, typer.Option(
        "--cap-turns", min=0, help="What-if: keep at most N history turns.")] = None,
    cap_tokens: Annotated[int | None, typer.Option(
        "--cap-tokens", min=0, help="What-if: keep at most T history tokens.")] = None,
    resamples: Annotated[int | None, typer.Option(
        "--resamples", min=50, help="Bootstrap resamples (default 1000).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed (default: the suite's, else the run's).")] = None,
) -> None:
    """Project a run to production volume and mix: automation, review load, cost tail, net value."""
    with cli_errors():
        from evalkit.errors import ConfigError
        from evalkit.project import economics_for_run, project_run, spec_for_run
        from evalkit.runs import open_run

        if threshold is not None and thresholds is not None:
            raise ConfigError("give --threshold T or --thresholds FILE, not both")
        found = open_run(run)
        run_dir, manifest = found.path, found.manifest
        spec = spec_for_run(manifest, volume=volume, mix_file=mix, resamples=resamples, seed=seed,
                            cap_turns=cap_turns, cap_tokens=cap_tokens)
        result = project_run(run_dir, spec=spec, economics=economics_for_run(manifest), configs=config or None,
                             threshold=threshold, thresholds_file=thresholds)
        _print(result.projection, result.path)


def register(app: typer.Typer) -> None:
    """Add the ``project`` command to the app."""
    app.command("project")(project_command)
