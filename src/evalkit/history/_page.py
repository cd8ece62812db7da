"""The run-history page: a self-contained HTML file with the per-segment trend table and a
chart (PNG, embedded). Every text that comes from a run (ids, prompt names, segments) is
HTML-escaped; the chart is an image, so nothing from a run reaches the page as markup."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

from evalkit.formatting import interval
from evalkit.history._trend import ALL, History, Rate, TrendPoint


def fmt_rate(r: Rate | None) -> str:
    """``82% [78%, 86%] n=300``: a rate with its 95% interval and n."""
    return interval(r, digits=0, unknown="n/a")


def fmt_cost(r: Rate | None) -> str:
    """``$0.0021 [$0.0019, $0.0023] n=300``: mean cost per case with its interval and n."""
    return interval(r, usd=True)


def segments_of(history: History) -> list[str]:
    seen = [ALL]
    for p in history.points:
        if p.segment not in seen:
            seen.append(p.segment)
    return seen


def grid(history: History) -> dict[tuple[str, str], TrendPoint]:
    """(segment, run folder) -> point: keyed by folder, which a copy of a run does not share with it."""
    return {(p.segment, p.folder): p for p in history.points}


def run_label(history: History, index: int) -> str:
    """``#2 RUN-ID · dataset upgrades@v2 · prompt upgrade-v1.j2 (sha256:…)``, then what sets the run apart
    (stopped early, a shard, another dataset than the newest run's)."""
    run = history.runs[index]
    point = next((p for p in history.points if p.folder == run.folder), None)
    prompt = point.prompt if point else None
    version = point.prompt_version if point else None
    name = Path(prompt).name if prompt else "?"
    note = history.note(run)
    return (f"#{index + 1} {run.run_id} · dataset {history.dataset(run) or 'not recorded'} · prompt {name} "
            f"({version or '?'})" + (f" · {note}" if note else ""))


def excluded_lines(history: History) -> list[str]:
    """One line per run left out of the trend (shards, copies), with why. Warnings about the trend itself
    (``History.warnings``) are not runs left out: callers show them on their own."""
    return [f"left out: {r.folder}: {why}" for r, why in history.excluded]


def chart_png(history: History, *, segments: Sequence[str]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = grid(history)
    runs = [r.folder for r in history.runs]
    x = list(range(1, len(runs) + 1))
    cols = 3
    rows = -(-len(segments) // cols)
    mixed = history.mixed_datasets  # each tick names its run's dataset
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, (3.1 if mixed else 2.8) * rows), squeeze=False,
                             sharey=True)
    for ax, segment in zip(axes.flat, segments):
        for metric, color in (("good", "#1b7837"), ("automation", "#2166ac")):
            vals, los, his = [], [], []
            for run_id in runs:
                p = cells.get((segment, run_id))
                r = getattr(p, metric) if p is not None else None
                ok = r is not None and r.value is not None
                vals.append(r.value if ok else float("nan"))
                los.append(r.lo if ok and r.lo is not None else float("nan"))
                his.append(r.hi if ok and r.hi is not None else float("nan"))
            ax.plot(x, vals, marker="o", color=color, label=metric)
            ax.fill_between(x, los, his, color=color, alpha=0.18, linewidth=0)
        ax.set_title(f"{segment} ({history.panel_n(segment)})", fontsize=9)
        ticks = [f"#{i}" + ("*" if history.note(r) else "") + (f"\n{history.dataset(r) or '?'}" if mixed else "")
                 for i, r in zip(x, history.runs)]
        ax.set_xticks(x, ticks, fontsize=7 if mixed else 8)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(segments):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="lower left")
    simulated = " (simulated)" if any(p.simulated for p in history.points) else ""
    marked = "; *: see the run's note" if history.notes else ""
    datasets = list(dict.fromkeys(history.dataset(r) or "dataset not recorded" for r in history.runs))
    on = (f"\nMIXED DATASETS, not comparable: {', '.join(datasets)}" if history.mixed_datasets
          else f" on {datasets[0]}" if datasets else "")
    fig.suptitle(f"{history.suite} / {history.config}{simulated}: good rate and automation per segment, "
                 f"95% intervals{marked}{on}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def history_html(history: History) -> str:
    e = html.escape
    segments = segments_of(history)
    cells = grid(history)
    simulated = any(p.simulated for p in history.points)
    head = "".join(f"<th>#{i + 1}<br><span class=ds>{e(history.dataset(r) or 'dataset not recorded')}</span></th>"
                   for i, r in enumerate(history.runs))
    body = []
    for segment in segments:
        tds = []
        for run in history.runs:
            p = cells.get((segment, run.folder))
            if p is None:
                tds.append("<td>–</td>")
                continue
            tds.append(f"<td>good {e(fmt_rate(p.good))}<br>automation {e(fmt_rate(p.automation))}"
                       f"<br>cost/case {e(fmt_cost(p.cost))}</td>")
        body.append(f"<tr><th>{e(segment)}</th>{''.join(tds)}</tr>")
    legend = "".join(f"<li>{e(run_label(history, i))}</li>" for i in range(len(history.runs)))
    left_out = "".join(f"<li>{e(line)}</li>" for line in excluded_lines(history))
    left_out = (f"<p>Not in the trend (<code>--all-runs</code> plots them):</p><ul class=out>{left_out}</ul>"
                if left_out else "")
    png = base64.b64encode(chart_png(history, segments=segments)).decode()
    title = f"Run history: {history.suite} / {history.config}"
    sim_note = ("<p class=sim><strong>simulated</strong>: these numbers come from a simulated model.</p>"
                if simulated else "")
    sim_note += "".join(f"<p class=warn><strong>warning</strong>: {e(w)}</p>" for w in history.warnings)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3rem .5rem;font-size:.85rem;vertical-align:top;text-align:left}}
.sim{{background:#fff3cd;padding:.4rem}} .warn{{background:#f8d7da;padding:.4rem}} .ds{{font-weight:normal}}
img{{max-width:100%}}
</style></head><body>
<h1>{e(title)}</h1>
{sim_note}
<p>Per segment across {len(history.runs)} complete runs, oldest first. Rates are over all of the segment's
cases (invalid and failed answers count as not good) with 95% Wilson intervals; automation uses each run's
calibrated thresholds (n/a: the run was not calibrated); cost is the mean nominal USD per case with a 95%
normal-approximation interval (unknown when any case's cost is unknown). A sequential run that stopped early
is marked: its numbers cover only the cases it sent before its gates' verdict settled. Shards of a sharded
run and copies of a run (a baseline blessed into the reports folder) are left out: the merged run stands for
its shards, and a copy repeats its run.</p>
<ol>{legend}</ol>
{left_out}
<img alt="good rate and automation per segment across runs" src="data:image/png;base64,{png}">
<table><thead><tr><th>segment</th>{head}</tr></thead><tbody>
{''.join(body)}
</tbody></table>
</body></html>
"""


def write_history_page(history: History, out: Path) -> Path:
    from evalkit import _io

    return _io.write_text(out, history_html(history))
