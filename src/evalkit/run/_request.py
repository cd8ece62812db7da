"""What a run was asked for (RunRequest), what it produced (RunOutcome), and how a stopped
run is named and resumed: the request fingerprint and the exact resume command."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit._home import datasets_dir, reports_dir
from evalkit.run._records import CacheMode


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    suite_path: Path | None = None
    configs: tuple[str, ...] | None = None
    limit: int | None = None
    fraction: float | None = None
    sample_seed: int | None = None
    cache_mode: CacheMode = "read-write"
    max_cost_usd: float | None = None
    resume: str | None = None
    fresh: bool = False
    reports: Path | None = None
    datasets: Path | None = None
    progress: bool = True
    overrides: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None
    batch: bool = False
    """Send calls through the providers' batch APIs (as ``execution.mode: batch`` in the suite)."""
    shard: tuple[int, int] | None = None
    """(i, n): only the i-th of n segment-stratified parts of the cases (run/_select)."""
    case_ids: tuple[str, ...] | None = None
    """Exactly these cases, in this order (a sequential run grows this prefix)."""
    answers: Path | None = None
    """A blessed baseline's answer bundle: its answers are served like cache hits (run/_answers)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the folder is kept (status stopped) and ``command`` resumes it."""

    def __init__(self, *, run_dir: Path, command: str) -> None:
        super().__init__(f"interrupted; resume with: {command}")
        self.run_dir = run_dir
        self.command = command


@dataclass(kw_only=True)
class RunOutcome:
    run_id: str
    run_dir: Path
    manifest: dict[str, Any]
    scores: Any
    summary: dict[str, Any]
    aggregates: Any = None
    """The per config x segment table behind ``summary`` (evalkit.score.aggregate)."""
    resumed: bool = False
    """True when this call continued an interrupted run instead of starting one."""


def resume_command(run_id: str, req: RunRequest) -> str:
    """The exact command that continues this run (folders given on the command line included)."""
    import shlex

    parts = ["evalkit", "run", "--resume", run_id]
    parts += {"off": ["--no-cache"], "replay": ["--replay"]}.get(req.cache_mode, [])
    for flag, value, default in (("--reports", req.reports, reports_dir()), ("--datasets", req.datasets, datasets_dir())):
        if value is not None and Path(value).resolve() != Path(default).resolve():
            parts += [flag, str(value)]
    return shlex.join(parts)


def resumed_request(req: RunRequest, resumed_dir: Path, old: dict[str, Any], root: Path) -> RunRequest:
    """The request a resumed run continues: its recorded options, its cache mode (unless this invocation
    sets another: --no-cache, --replay), this invocation's folders, progress, budget (when given) and
    answer bundle; its own copy of the suite."""
    opts = old.get("request", {})
    cache_mode = req.cache_mode if req.cache_mode != "read-write" else opts.get("cache_mode") or "read-write"
    return RunRequest(suite_path=resumed_dir / "suite.yaml", configs=tuple(opts["configs"]) if opts.get("configs") else None,
                      limit=opts.get("limit"), fraction=opts.get("fraction"), sample_seed=opts.get("sample_seed"),
                      cache_mode=cache_mode, reports=root,
                      max_cost_usd=req.max_cost_usd if req.max_cost_usd is not None else opts.get("max_cost_usd"),
                      datasets=req.datasets, progress=req.progress, baseline=req.baseline or old.get("baseline"),
                      batch=bool(opts.get("batch")),
                      shard=tuple(opts["shard"]) if opts.get("shard") else None,  # type: ignore[arg-type]
                      case_ids=req.case_ids, answers=req.answers)


def fingerprint(suite_sha: str, req: RunRequest, *, inputs: Sequence[str] = ()) -> str:
    """What makes two invocations the same run (re-running one resumes the other): the suite, the
    files it names (``inputs``: their versions) and the options."""
    from evalkit.run._select import case_ids_digest

    parts: list[Any] = [suite_sha, sorted(req.configs or ()), req.limit, req.fraction, req.sample_seed,
                        sorted(req.overrides.items()), sorted(inputs)]
    if req.shard is not None or req.case_ids is not None:
        parts += [req.shard, case_ids_digest(req.case_ids)]
    if req.batch:
        parts.append("batch")
    blob = json.dumps(parts, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
