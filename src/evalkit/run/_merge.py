"""``evalkit merge RUN...``: join the shard runs of one suite into one run folder.

The shards must be complete runs of the same suite (same sha256), dataset version,
options and configurations, each a different ``--shard i/n`` of the same n, together
covering every shard (``allow_partial`` accepts a subset). Per-case rows are copied as
they are (scoring is per case), so the merged scores equal an unsharded run's; the
summary, the LLM judge's agreement (judge.json), then calibration, projection, gates and report
are computed on the whole, as if the run had been made at once; the counts (the judge's calls and
spend too) are the shards' added up. The journals are joined too, so a merged run can be blessed
as a baseline with its answers.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from evalkit import _io
from evalkit._checksums import artifact_checksums, verify_run
from evalkit.errors import ConfigError, RunFailed
from evalkit.run._store import list_runs, new_run_id, read_manifest, utc_now, write_manifest

_SAME = (("suite", "sha256"), ("dataset", "sha256"))


def _key(manifest: dict[str, Any]) -> Any:
    request = {k: v for k, v in (manifest.get("request") or {}).items() if k != "shard"}
    configs = [(c.get("name"), c.get("prompt_version"), c.get("provider"), c.get("model"))
               for c in manifest.get("configs") or []]
    return request, configs


def _check(dirs: Sequence[Path], manifests: list[dict[str, Any]], allow_partial: bool) -> tuple[int, list[int]]:
    if len(dirs) < 1:
        raise ConfigError("evalkit merge: name at least one shard run")
    first = manifests[0]
    shards = []
    for d, m in zip(dirs, manifests, strict=True):
        if m.get("status") != "complete":
            raise ConfigError(f"{d}: run status is {m.get('status')!r}; finish it first (evalkit run --resume {d.name})")
        for section, field in _SAME:
            if (m.get(section) or {}).get(field) != (first.get(section) or {}).get(field):
                raise ConfigError(f"{d}: {section} {field} differs from {dirs[0]}: shards of different "
                                  f"{section}s cannot be merged")
        if _key(m) != _key(first):
            raise ConfigError(f"{d}: options or configurations differ from {dirs[0]} (request, prompts, models)")
        shard = (m.get("request") or {}).get("shard")
        if not shard:
            raise ConfigError(f"{d}: not a shard run (made without --shard I/N)")
        shards.append(tuple(shard))
    counts = {n for _, n in shards}
    if len(counts) != 1:
        raise ConfigError(f"shards of different splits: {', '.join(f'{i}/{n}' for i, n in shards)}")
    n = counts.pop()
    indices = sorted(i for i, _ in shards)
    if len(set(indices)) != len(indices):
        raise ConfigError(f"shard given twice: {', '.join(f'{i}/{n}' for i in indices)}")
    missing = sorted(set(range(1, n + 1)) - set(indices))
    if missing and not allow_partial:
        raise ConfigError(f"missing shard(s) {', '.join(f'{i}/{n}' for i in missing)}; "
                          "merge them all, or pass --allow-partial")
    return n, indices


def _sum(values: list[Any]) -> Any:
    return None if any(v is None for v in values) else sum(values)


@dataclass(kw_only=True)
class Merged:
    """A merged run folder before scoring: calls, results, journal and inputs written; the caller writes
    scores.parquet and summary.json (evalkit.score), then ``complete`` writes the manifest."""

    run_id: str
    run_dir: Path
    task: Any
    scores: Any
    """The shards' scores tables joined (pandas), run_id set to the merged run's."""
    errors: list[dict[str, Any]]
    """The shards' failed-call groups, joined (``merged_errors``)."""
    manifest: dict[str, Any]
    truncated: dict[str, int] = dataclass_field(default_factory=dict)
    """Answers cut at max_tokens per configuration, summed over the shards' summaries."""
    judge_reports: list[dict[str, Any]] = dataclass_field(default_factory=list)
    """The shards' judge.json documents (those that have one): the score stage pools them into the merged
    run's (``evalkit.score.pooled_judge_report``)."""

    def complete(self, *, evaluating: bool = False) -> dict[str, Any]:
        """Write the manifest, last, with this run's files' checksums (not the first shard's);
        ``evaluating``: later stages still write files (``mark_complete`` ends the run)."""
        self.manifest["checksums"] = artifact_checksums(self.run_dir)
        self.manifest["status"] = "evaluating" if evaluating else "complete"
        write_manifest(self.run_dir, self.manifest)
        return self.manifest


def merge_shards(run_dirs: Sequence[Path | str], *, reports: Path | None = None,
                 allow_partial: bool = False) -> Merged:
    """Start the merged run folder under ``reports`` (default: beside the first shard)."""
    from evalkit.tasks import get_task

    dirs = [Path(d) for d in run_dirs]
    manifests = [read_manifest(d) for d in dirs]
    for d in dirs:
        verify_run(d)  # a damaged shard is never merged into a "complete" run
    n, indices = _check(dirs, manifests, allow_partial)
    first = manifests[0]
    root = Path(reports) if reports is not None else dirs[0].parent
    _drop_unfinished_merge(root, [m["run_id"] for m in manifests])
    run_id = new_run_id(first["suite"]["name"], "merge|" + "|".join(m["run_id"] for m in manifests))
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    scores = _joined_scores(dirs, run_id)
    _copy_calls(dirs, run_dir, run_id)
    manifest = _merged_manifest(manifests, run_id, n, indices, sampled_rows=int(scores["case_id"].nunique()))
    summaries = [json.loads((d / "summary.json").read_text()) for d in dirs]
    errors = merged_errors([s.get("errors") or [] for s in summaries])
    truncated: Counter[str] = Counter()
    for s in summaries:
        truncated.update(s.get("truncated") or {})
    judge_reports = [json.loads((d / "judge.json").read_text()) for d in dirs if (d / "judge.json").is_file()]
    return Merged(run_id=run_id, run_dir=run_dir, task=get_task(first["suite"]["spec"]["task"]), scores=scores,
                  errors=errors, manifest=manifest, truncated=dict(sorted(truncated.items())),
                  judge_reports=judge_reports)


def _drop_unfinished_merge(root: Path, shard_ids: list[str]) -> None:
    """A merge of these shards killed before its report (status ``evaluating``) holds nothing the
    shards do not: it is removed and merged again, never left beside the new one."""
    import contextlib
    import shutil

    from evalkit.run._lock import run_lock

    for manifest in list_runs(root):
        merged = [s.get("run_id") for s in manifest.get("merged_from") or []]
        if manifest.get("status") == "evaluating" and sorted(merged) == sorted(shard_ids):
            with contextlib.suppress(RunFailed), run_lock(Path(manifest["_dir"])):  # a live merge keeps its folder
                shutil.rmtree(manifest["_dir"], ignore_errors=True)


def _joined_scores(dirs: list[Path], run_id: str) -> Any:
    import pandas as pd

    scores = pd.concat([pd.read_parquet(d / "scores.parquet") for d in dirs], ignore_index=True)
    dup = scores.duplicated(["config", "case_id"])
    if dup.any():
        raise ConfigError(f"case {scores.loc[dup, 'case_id'].iloc[0]!r} appears in two shards")
    scores["run_id"] = run_id
    return scores.sort_values(["config", "case_id"], kind="stable").reset_index(drop=True)


def _copy_calls(dirs: list[Path], run_dir: Path, run_id: str) -> None:
    """results.parquet, the joined journal (sealed) and the first shard's inputs (suite, prompts)."""
    import pandas as pd

    from evalkit.run._journal import JOURNAL_NAME, seal_journal, self_contained_lines
    from evalkit.run._tables import write_results

    results = pd.concat([pd.read_parquet(d / "results.parquet") for d in dirs], ignore_index=True)
    results["run_id"] = run_id
    write_results(run_dir, results)
    journal = "".join(self_contained_lines(d / JOURNAL_NAME) for d in dirs)
    if journal:
        _io.write_text(run_dir / JOURNAL_NAME, journal)
        seal_journal(run_dir / JOURNAL_NAME)  # after results.parquet: the merged run's answers live there once
    for name in ("suite.yaml",):
        if (dirs[0] / name).is_file():
            _io.write_bytes(run_dir / name, (dirs[0] / name).read_bytes())
    if (dirs[0] / "prompts").is_dir():
        import shutil

        shutil.copytree(dirs[0] / "prompts", run_dir / "prompts")


def _merged_manifest(manifests: list[dict[str, Any]], run_id: str, n: int, indices: list[int], *,
                     sampled_rows: int) -> dict[str, Any]:
    first = manifests[0]
    manifest = dict(first)
    counts = [m.get("counts") or {} for m in manifests]
    merged_at = utc_now()
    manifest.update(
        # created: when this folder was made, as for any run: `latest`, `runs list` and `prune` order runs
        # by it, and a merge must come after the shards it joins (each shard's own time is in merged_from)
        run_id=run_id, created=merged_at,
        finished=max(m.get("finished") or m["created"] for m in manifests), merged=merged_at, status="complete",
        request={**first["request"], "shard": None},
        merged_from=[{"run_id": m["run_id"], "shard": m["request"]["shard"], "created": m["created"]}
                     for m in manifests],
        counts=_merged_counts(counts),
    )
    manifest["dataset"] = {**first["dataset"], "sampled_rows": sampled_rows}
    if len(indices) < n:
        manifest["partial"] = {"shards": indices, "of": n}
    manifest["configs"] = [dict(c) for c in manifest.get("configs") or []]
    for c in manifest["configs"]:
        c["model_versions"] = sorted({v for m in manifests for cc in m.get("configs") or []
                                      if cc.get("name") == c.get("name") for v in cc.get("model_versions") or []})
    return manifest


def _merged_counts(counts: list[dict[str, Any]]) -> dict[str, Any]:
    """The shards' counts added up: calls, spend (unknown when a shard's is), and the LLM judge's calls
    and spend (a shard without judge calls adds none; unknown when a judging shard's is, and when no
    shard judged, as for a run whose judge made no call)."""
    judging = [c for c in counts if c.get("judge_calls")]
    return {
        "calls": sum(c.get("calls", 0) for c in counts), "failed_calls": sum(c.get("failed_calls", 0) for c in counts),
        "cache_hits": sum(c.get("cache_hits", 0) for c in counts), "cases": sum(c.get("cases", 0) for c in counts),
        "spent_usd": _sum([c.get("spent_usd") for c in counts]),
        "nominal_usd": _sum([c.get("nominal_usd") for c in counts]),
        "recorded_usd": _sum([c.get("recorded_usd") for c in counts]),
        "possibly_billed_attempts": sum(c.get("possibly_billed_attempts", 0) for c in counts),
        "possibly_billed_usd": _sum([c.get("possibly_billed_usd") for c in counts]),
        "unpriced_attempts": sum(c.get("unpriced_attempts", 0) for c in counts),
        "judge_calls": sum(c["judge_calls"] for c in judging),
        "judge_spent_usd": _sum([c.get("judge_spent_usd") for c in judging]) if judging else None,
    }


def merged_errors(per_shard: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The shards' failed-call groups as one run's: counts added per (error class, configuration),
    the first message and case kept from the first shard that had one; largest group first."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for shard in per_shard:
        for g in shard:
            key = (str(g["error_class"]), str(g["config"]))
            if key in groups:
                groups[key]["count"] += int(g["count"])
            else:
                groups[key] = dict(g)
    return sorted(groups.values(), key=lambda g: (-g["count"], g["error_class"], g["config"]))
