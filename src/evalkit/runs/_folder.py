"""Run folders as typed objects: resolve a user's reference, read its files.

A run reference is a path to a run folder, a run id under the reports folder
(``evalkit._home.reports_dir()``), a unique prefix of a run id, or ``latest``: the most
recently created *complete* run. As a baseline (``--baseline latest``) it means the most
recently created complete run of the same suite other than the run being judged - the same
rule for ``evalkit run`` and ``evalkit gate``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from evalkit.errors import DataError, NotFound
from evalkit.runs._models import Gates, Judge, Manifest, Projection, RunFile, Summary, Thresholds

_RUN_MARKERS = ("manifest.json", "scores.parquet")
REQUIRED_SCORE_COLUMNS = ("config", "case_id", "segment", "status", "good", "correct")
F = TypeVar("F", bound=RunFile)


def read_parquet(source: Any, *, columns: list[str] | tuple[str, ...] | None = None,
                 case_ids: Any = None) -> Any:
    """A parquet file (path or buffer) as a pyarrow Table: only ``columns`` (those present), only rows whose
    ``case_id`` is in ``case_ids``. Uses ``ParquetFile`` directly: ``pq.read_table`` imports pyarrow.dataset
    (~0.3 s) on every call site, which every run would pay."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source)
        names = pf.schema_arrow.names
        table = pf.read(columns=None if columns is None else [c for c in columns if c in names])
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise DataError(f"{source}: unreadable or corrupt parquet file ({type(exc).__name__}: {exc}); "
                        "re-run or restore it") from None
    if case_ids is not None:
        table = table.filter(pc.is_in(table.column("case_id"), value_set=pa.array(sorted(case_ids), pa.string())))
    return table


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and any((path / m).exists() for m in _RUN_MARKERS)


def _raw_manifest(run: Path) -> dict[str, Any]:
    try:
        data = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _created(run: Path, manifest: dict[str, Any]) -> tuple[datetime, str]:
    # Sort key: manifest "created" (UTC ISO); folders without one sort oldest.
    try:
        stamp = datetime.fromisoformat(str(manifest.get("created")))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
    except (ValueError, TypeError):
        stamp = datetime.min.replace(tzinfo=UTC)
    return stamp, run.name


def _complete(run: Path, manifest: dict[str, Any]) -> bool:
    # A hand-made folder without a status counts when it has been scored.
    status = manifest.get("status")
    return status == "complete" or (status is None and (run / "scores.parquet").is_file())


def _latest(root: Path, *, suite: str | None = None, exclude: Path | None = None) -> Path:
    runs = []
    for p in root.iterdir() if root.is_dir() else ():
        if not is_run_folder(p) or (exclude is not None and p.resolve() == exclude.resolve()):
            continue
        manifest = _raw_manifest(p)
        if _complete(p, manifest) and (suite is None or (manifest.get("suite") or {}).get("name") == suite):
            runs.append((_created(p, manifest), p))
    if not runs:
        what = f"complete run of suite {suite!r}" if suite else "complete run"
        other = " other than the one being judged" if exclude is not None else ""
        raise NotFound(f"latest: no {what}{other} under {root} (looking for folders with manifest.json)")
    return max(runs)[1]


def resolve_run(ref: str | Path, *, reports: Path | None = None) -> Path:
    """The folder of a run reference (see the module docstring), or ``NotFound`` naming where we looked."""
    from evalkit._home import reports_dir

    root = Path(reports) if reports is not None else reports_dir()
    text = str(ref)
    if text == "latest":
        return _latest(root)
    direct = Path(text).expanduser()
    if is_run_folder(direct):
        return direct
    under = root / text
    if is_run_folder(under):
        return under
    if root.is_dir() and "/" not in text:
        matches = sorted(p for p in root.iterdir() if p.name.startswith(text) and is_run_folder(p))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches[:5])
            raise NotFound(f"run reference {text!r} is ambiguous under {root}: {names}")
    raise NotFound(f"run {text!r} not found (neither a run folder nor a run id under {root})")


def resolve_baseline(ref: str | Path, run: Path) -> Path:
    """A baseline reference for ``run``: ``latest`` = the newest complete earlier run of the same suite
    (in ``run``'s reports folder); otherwise any run reference (also looked up beside ``run``)."""
    run = Path(run)
    if str(ref) == "latest":
        suite = (_raw_manifest(run).get("suite") or {}).get("name")
        return _latest(run.parent, suite=suite, exclude=run)
    try:
        return resolve_run(ref)
    except NotFound:  # a run id beside the judged run (its reports folder need not be the default one)
        return resolve_run(ref, reports=run.parent)


def read_file(path: Path, model: type[F]) -> F | None:
    """One JSON file of a run folder as its typed model; None when absent, DataError naming the field if bad."""
    if not path.is_file():
        return None
    try:
        return model.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DataError(f"{path}: field {where}: {err.get('msg')}{more}") from None
    except OSError as exc:
        raise DataError(f"{path}: unreadable ({exc})") from None


def write_file(run_dir: Path, doc: RunFile | dict[str, Any], model: type[RunFile] | None = None) -> Path:
    """Validate ``doc`` against its typed owner and write it atomically into ``run_dir``."""
    from evalkit import _io

    if isinstance(doc, dict):
        if model is None:
            raise TypeError("write_file: a dict needs its model")
        try:
            doc = model.model_validate(doc)
        except ValidationError as exc:
            raise DataError(f"{Path(run_dir) / model.FILE}: not a valid {model.__name__} document: {exc}") from None
    return _io.write_json(Path(run_dir) / doc.FILE, doc.dump())


@dataclass(kw_only=True)
class RunFolder:
    """A run folder: its typed files, read on first access (``None`` when a file is absent)."""

    path: Path
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _file(self, model: type[F]) -> F | None:
        if model.FILE not in self._cache:
            self._cache[model.FILE] = read_file(self.path / model.FILE, model)
        return self._cache[model.FILE]

    @property
    def manifest(self) -> Manifest | None:
        return self._file(Manifest)

    @property
    def summary(self) -> Summary | None:
        return self._file(Summary)

    @property
    def thresholds(self) -> Thresholds | None:
        return self._file(Thresholds)

    @property
    def projection(self) -> Projection | None:
        return self._file(Projection)

    @property
    def gates(self) -> Gates | None:
        return self._file(Gates)

    @property
    def judge(self) -> Judge | None:
        return self._file(Judge)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id if self.manifest else self.path.name

    @property
    def suite_spec(self) -> dict[str, Any]:
        """The parsed suite the run used (``manifest.suite.spec``); {} for hand-made folders."""
        return dict(self.manifest.suite.spec) if self.manifest else {}

    def read_scores(self, columns: list[str] | tuple[str, ...] | None = None, *, required: tuple[str, ...] = ()):
        """``scores.parquet`` (only the wanted columns that exist), checking the ``required`` ones."""
        import pyarrow.parquet as pq

        path = self.path / "scores.parquet"
        if not path.is_file():
            status = self.manifest.status if self.manifest else None
            raise NotFound(f"{path}: missing - the run has not been scored (status: {status or 'unknown'})")
        try:
            names = set(pq.read_schema(path).names)
            missing = [c for c in required if c not in names]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
            return read_parquet(path, columns=columns).to_pandas()
        except (OSError, ValueError) as exc:
            raise DataError(f"{path}: unreadable scores table ({exc})") from exc

    @cached_property
    def scores(self):  # -> pd.DataFrame
        return self.read_scores(required=REQUIRED_SCORE_COLUMNS)

    @cached_property
    def configs(self) -> list[str]:
        """Configurations with scores, in the suite's order (what the author expects to read)."""
        names = [c.name for c in self.manifest.configs] if self.manifest else []
        present = list(dict.fromkeys(self.scores["config"].astype(str)))
        return [c for c in names if c in present] + [c for c in present if c not in names]

    def config_meta(self, config: str):  # -> ConfigEntry
        from evalkit.runs._models import ConfigEntry

        found = self.manifest.config(config) if self.manifest else None
        return found or ConfigEntry(name=config)

    def config_scores(self, config: str):  # -> pd.DataFrame
        return self.scores[self.scores["config"] == config]

    def simulated(self, config: str) -> bool:
        if self.config_meta(config).simulated:
            return True
        sub = self.config_scores(config)
        return bool("simulated" in sub and sub["simulated"].astype("boolean").fillna(False).any())

    def baseline_config_for(self, config: str) -> str | None:
        """This (baseline) run's config paired with ``config``: same name, else the only one, else the first."""
        if config in self.configs:
            return config
        return self.configs[0] if self.configs else None


def open_run(ref: str | Path, *, reports: Path | None = None) -> RunFolder:
    """The run a reference names (path, run id, unique id prefix, or ``latest``), as a typed folder."""
    return RunFolder(path=resolve_run(ref, reports=reports))


def load_run(ref: str | Path, *, reports: Path | None = None) -> RunFolder:
    """``open_run`` that also reads (and checks) ``scores.parquet`` now: for stages that need every case."""
    path = Path(ref)
    run = RunFolder(path=path) if path.is_dir() else open_run(ref, reports=reports)
    _ = run.scores
    return run
