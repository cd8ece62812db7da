"""Charts as inline SVG strings (matplotlib, Agg backend, imported lazily).

Importing matplotlib costs about half a second. A run that will write a report starts a chart
worker first (``chart_worker``): a forked process that imports matplotlib on the other core while
the run plans, sends and scores, then draws each chart it is handed (``draw``). Without one (one
core, no fork, a report of stored runs) the charts are drawn here; the SVG is the same.

Every chart is a function of this module taking plain data (str, float, bool, numpy arrays): the
worker was forked before the report's modules (and pandas) were imported, and unpickling a
chart defined elsewhere, or a DataFrame, would import them there while the report waits.

Readable in print and without colour: every series also differs by line style and
marker, axes are labelled, legends present. Text stays text (svg.fonttype none),
which keeps files small; each chart gets its own hash salt so clip-path ids never
collide between charts inlined into one HTML document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"), ((0, (1, 1)), "P")]
COLOURS = ["#1b6ca8", "#d1495b", "#2e8b57", "#8e44ad", "#e07b00", "#555555"]


def _style(i: int) -> dict[str, Any]:
    ls, marker = STYLES[i % len(STYLES)]
    return {"linestyle": ls, "marker": marker, "color": COLOURS[i % len(COLOURS)]}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


_WORKER: ContextVar[Any] = ContextVar("evalkit_chart_worker", default=None)
"""Inside ``chart_worker``: the chart process (None: charts are drawn here)."""


def _serve_charts(conn: Any, runs_end: Any, parent: int) -> None:
    """The chart process: import matplotlib, then draw each chart it is sent, in order, until the
    run says stop (None) or hangs up."""
    import os

    from evalkit._forked import become_helper

    become_helper(parent)
    runs_end.close()  # only the run may hold its end: EOF then means the run is gone
    try:
        os.nice(10)  # the import uses the cores the run leaves idle, never the run's own time
    except OSError:
        pass
    _plt()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        chart, args, kwargs = job
        try:
            answer = ("ok", chart(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the run draws it itself and sees the real error
            answer = ("error", repr(exc))
        try:
            conn.send(answer)
        except OSError:  # the run stopped reading (it is done, or gone)
            break
        except Exception:  # noqa: BLE001 - an answer that cannot be pickled: the run draws it itself
            conn.send(("error", "the chart could not be sent back"))
    os._exit(0)  # nothing of the run's process (atexit handlers, buffers) runs here


class _ChartProcess:
    """The run's end of the chart process: charts are sent as they are asked for and their SVGs
    read back in the same order, when a ``PendingChart`` is first rendered."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.sent = 0
        self.answers: list[tuple[str, Any]] = []

    def submit(self, chart: Callable[..., str], args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        self.conn.send((chart, args, kwargs))
        self.sent += 1
        return self.sent - 1

    def answer(self, index: int) -> tuple[str, Any]:
        while len(self.answers) <= index:
            self.answers.append(self.conn.recv())
        return self.answers[index]


class PendingChart:
    """A chart the chart process is drawing while the report goes on: rendering it (``__html__``,
    which markupsafe's ``Markup`` and the template call) waits for its SVG, or draws it here when
    the chart process could not."""

    __slots__ = ("_index", "_job", "_process", "_svg")

    def __init__(self, process: _ChartProcess, index: int, job: tuple[Any, ...]) -> None:
        self._process, self._index, self._job, self._svg = process, index, job, None

    def __html__(self) -> str:
        if self._svg is None:
            try:
                status, svg = self._process.answer(self._index)
            except Exception:  # noqa: BLE001 - the process is gone: drawn here
                status, svg = "error", None
            chart, args, kwargs = self._job
            self._svg = svg if status == "ok" else chart(*args, **kwargs)
        return self._svg

    __str__ = __html__

    def __bool__(self) -> bool:
        return True


@contextmanager
def chart_worker() -> Iterator[None]:
    """Inside this block, ``draw`` hands charts to a forked process that imports matplotlib now,
    on a core the run leaves idle (one core or no fork: charts are drawn in process)."""
    import multiprocessing as mp
    import os

    from evalkit._forked import can_fork

    if not can_fork():
        yield
        return
    context = mp.get_context("fork")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_charts, args=(theirs, ours, os.getpid()), daemon=True)
    process.start()
    theirs.close()
    token = _WORKER.set(_ChartProcess(ours))
    try:
        yield
    finally:
        _WORKER.reset(token)
        try:
            ours.send(None)  # done: the process ends (or, still importing, is stopped below)
        except OSError:
            pass
        ours.close()
        process.join(timeout=0.5)
        if process.is_alive():
            process.kill()
            process.join()


def draw(chart: Callable[..., str], *args: Any, **kwargs: Any) -> str | PendingChart:
    """``chart(*args, **kwargs)``: handed to the chart process when there is one (a ``PendingChart``,
    rendered as the same SVG), else drawn here."""
    process = _WORKER.get()
    if process is not None:
        try:
            return PendingChart(process, process.submit(chart, args, kwargs), (chart, args, kwargs))
        except Exception:  # noqa: BLE001 - arguments that cannot be sent: drawn here, and from now on
            _WORKER.set(None)
    return chart(*args, **kwargs)


def _to_svg(fig: Any, salt: str) -> str:
    import matplotlib

    plt = _plt()
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    svg = buf.getvalue()
    start = svg.find("<svg")
    return compact_svg(svg[start:] if start >= 0 else svg)


_ATTR = re.compile(r'\s([\w:-]+)="([^"]*)"')
_LONG_NUMBER = re.compile(r"-?\d+\.\d{3,}")


def compact_svg(svg: str) -> str:
    """The same drawing in fewer bytes: coordinates to 0.01 pt, no indentation, no zero
    rotations, and no ids nothing refers to (matplotlib's group ids would also repeat in
    every chart of one HTML page). Text between tags (labels, titles) is left exactly as is."""
    used = set(re.findall(r"#([\w.-]+)", svg))

    def attr(m: re.Match[str]) -> str:
        name, value = m.group(1), m.group(2)
        if name == "id":
            return m.group(0) if value in used else ""
        if name in ("xlink:href", "href", "clip-path"):
            return m.group(0)
        value = " ".join(value.split())
        return f' {name}="{_LONG_NUMBER.sub(lambda n: f"{float(n.group(0)):.2f}", value)}"'

    svg = re.sub(r'\s+transform="rotate\(-?0 [^"]*\)"', "", svg)
    svg = re.sub(r">\s+<", "><", svg)
    return _ATTR.sub(attr, svg)


def _rc() -> Any:
    import matplotlib

    # A short font list: SVG text names its fonts in every label.
    return matplotlib.rc_context({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
                                  "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans", "Arial"]})


def reliability_chart(panels: Sequence[tuple[str, Any, float | None, float | None]], *, salt: str) -> str:
    """Small multiples: one reliability diagram per configuration.

    ``panels``: (label, bins or None, ECE or None, threshold or None); bins: ``evalkit.stats.reliability_bins``
    columns confidence, observed, obs_lo, obs_hi as numpy arrays (``bin_arrays``).
    """
    plt = _plt()
    n = len(panels)
    ncols = min(3, n)
    nrows = int(np.ceil(n / ncols))
    with _rc():
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.2 * nrows), squeeze=False)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for i, (label, bins, ece, thr) in enumerate(panels):
            ax = axes.flat[i]
            ax.plot([0, 1], [0, 1], linestyle="--", color="#888888", linewidth=1, label="perfect calibration")
            if bins is not None and len(bins["confidence"]):
                yerr = np.clip(np.vstack([bins["observed"] - bins["obs_lo"], bins["obs_hi"] - bins["observed"]]), 0, None)
                st = _style(i)
                ax.errorbar(bins["confidence"], bins["observed"], yerr=yerr, capsize=2, linewidth=1.2,
                            label="observed good rate (95% CI)", **st)
            if thr is not None:
                ax.axvline(thr, color="#000000", linestyle=":", linewidth=1, label=f"threshold {thr:.2f}")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("stated confidence")
            ax.set_ylabel("observed good rate")
            ece_s = f"ECE {ece:.3f}" if ece is not None else "ECE n/a"
            ax.set_title(f"{label}\n{ece_s}", fontsize=9)
            ax.legend(fontsize=7, loc="best")
        # Fixed margins instead of automatic layout: text-extent layout passes were the
        # slowest part of the report build.
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.12 / nrows, top=1 - 0.12 / nrows,
                            wspace=0.35, hspace=0.55)
        return _to_svg(fig, salt)


def risk_coverage_chart(curves: Sequence[tuple[str, np.ndarray, np.ndarray, float | None]], *, salt: str) -> str:
    """Risk (error rate among automated) against coverage (share automated), one line per config.

    ``curves``: (label, coverage, risk, coverage at the chosen threshold or None).
    """
    plt = _plt()
    with _rc():
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        marked = False
        for i, (label, cov, risk, at) in enumerate(curves):
            st = _style(i)
            ax.plot(cov, risk, linestyle=st["linestyle"], color=st["color"], linewidth=1.4, label=label,
                    marker=st["marker"], markevery=max(1, len(cov) // 8), markersize=4)
            if at is not None and len(cov):
                j = int(np.argmin(np.abs(cov - at)))
                # Same marker shape as the line, filled black: identifies the config without colour.
                ax.plot([cov[j]], [risk[j]], marker=st["marker"], color="black", markersize=7, linestyle="none",
                        label="chosen threshold" if not marked else None)
                marked = True
        ax.set_xlabel("coverage (share of cases automated)")
        ax.set_ylabel("risk (not-good rate among automated)")
        ax.set_xlim(0, 1)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, title="configuration", title_fontsize=8)
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.13, top=0.97)
        return _to_svg(fig, salt)


def cost_chart(series: Sequence[tuple[str, np.ndarray]], *, salt: str) -> str:
    """Empirical CDF of cost per case (log x), p95/p99 marked per config with labelled markers."""
    plt = _plt()
    with _rc():
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for i, (label, costs) in enumerate(series):
            st = _style(i)
            xs = np.sort(costs[costs > 0])
            if not xs.size:
                continue
            # A CDF of <= 300 points keeps the SVG small for 10,000 cases.
            idx = np.unique(np.linspace(0, xs.size - 1, min(300, xs.size)).astype(int))
            ys = (idx + 1) / xs.size
            ax.plot(xs[idx], ys, linestyle=st["linestyle"], color=st["color"], linewidth=1.4, label=label)
            for q, mk in ((0.95, "^"), (0.99, "v")):
                v = float(np.quantile(xs, q))
                ax.plot([v], [q], marker=mk, color=st["color"], markeredgecolor="black", linestyle="none")
        ax.plot([], [], marker="^", color="white", markeredgecolor="black", linestyle="none", label="p95")
        ax.plot([], [], marker="v", color="white", markeredgecolor="black", linestyle="none", label="p99")
        ax.set_xscale("log")
        # Plain tick labels: the default log formatter renders mathtext, which is slow.
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("cost per case (USD, log scale)")
        ax.set_ylabel("share of cases at or below")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.13, top=0.97)
        return _to_svg(fig, salt)


def spend_chart(rows: Sequence[tuple[str, float, float | None, float | None]], *, salt: str) -> str:
    """Naive vs tail-aware monthly spend per config: grouped bars told apart by hatching too."""
    plt = _plt()
    with _rc():
        fig, ax = plt.subplots(figsize=(6.4, 0.6 * len(rows) + 1.6))
        y = np.arange(len(rows))
        h = 0.25
        kinds = [("naive (p50 x volume)", 1, "", "#9ecae1"), ("tail-aware p50", 2, "//", "#3182bd"),
                 ("tail-aware p95", 3, "xx", "#08519c")]
        for j, (name, k, hatch, col) in enumerate(kinds):
            vals = [r[k] if r[k] is not None else 0.0 for r in rows]
            ax.barh(y + (j - 1) * h, vals, height=h, label=name, hatch=hatch, color=col, edgecolor="black",
                    linewidth=0.5)
        ax.set_yticks(y, [r[0] for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("monthly model spend (USD)")
        ax.legend(fontsize=8)
        longest = max((len(r[0]) for r in rows), default=8)
        fig.subplots_adjust(left=min(0.45, 0.02 + 0.012 * longest), right=0.98, bottom=0.5 / fig.get_figheight(),
                            top=1 - 0.15 / fig.get_figheight())
        return _to_svg(fig, salt)


BIN_COLUMNS = ("confidence", "observed", "obs_lo", "obs_hi")


def bin_arrays(bins: Any) -> dict[str, np.ndarray]:
    """A reliability-bins table (``evalkit.stats.reliability_bins``) as what ``reliability_chart`` draws."""
    return {k: np.asarray(bins[k], dtype=float) for k in BIN_COLUMNS}


def frontier_chart(points: Sequence[tuple[str, float, float, float | None, float | None, bool]], *, salt: str) -> str:
    """Good rate (with interval) against mean input tokens per case; the frontier joined by a line.

    ``points``: (label, mean input tokens, good rate, its interval's lo and hi or None, on the frontier)."""
    plt = _plt()
    with _rc():
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for i, (label, tokens, good, lo, hi, _) in enumerate(points):
            st = _style(i)
            # Interval ends as distances (never negative: float rounding at 0 or 1, or no interval).
            below = max(0.0, float(np.nan_to_num(good - (lo if lo is not None else good))))
            above = max(0.0, float(np.nan_to_num((hi if hi is not None else good) - good)))
            ax.errorbar([tokens], [100 * good], yerr=[[100 * below], [100 * above]], marker=st.get("marker", "o"),
                        color=st["color"], linestyle="none", capsize=3, label=label)
        front = sorted((t, 100 * g) for _, t, g, _, _, on in points if on)
        if len(front) > 1:
            ax.plot([p[0] for p in front], [p[1] for p in front], color="black", linewidth=0.8, linestyle=":",
                    label="frontier")
        ax.set_xlabel("mean input tokens per case")
        ax.set_ylabel("good decisions (%)")
        ax.legend(fontsize=7)
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.13, top=0.97)
        return _to_svg(fig, salt)
