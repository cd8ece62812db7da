"""Run folders as typed objects: read and write their files (``open_run`` resolves a reference first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from evalkit.errors import DataError, NotFound
from evalkit.runs._base import RunFile
from evalkit.runs._manifest import ConfigEntry, Manifest
from evalkit.runs._projection import Projection
from evalkit.runs._resolve import resolve_run
from evalkit.runs._summary import Summary
from evalkit.runs._thresholds import Thresholds
from evalkit.runs._verdicts import Gates, Judge

REQUIRED_SCORE_COLUMNS = ("config", "case_id", "segment", "status", "good", "correct")
F = TypeVar("F", bound=RunFile)


def read_parquet(source: Any, *, columns: list[str] | tuple[str, ...] | None = None,
                 case_ids: Any = None) -> Any:
    """A parquet file (path or buffer) as a pyarrow Table: only ``columns`` (those present), only rows whose
    ``case_id`` is in ``case_ids``. Uses ``ParquetFile`` directly: ``pq.read_table`` imports pyarrow.dataset
    (~0.3 s) on every call site, which every run would pay."""
    import pyarrow.parquet as pq

    if isinstance(source, (str, Path)):
        from evalkit._checksums import verify_artifact

        verify_artifact(source)  # a run's table that changed since the run wrote it is never read
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
        from evalkit._io import release_freed_memory

        table = only_cases(table, case_ids)
        release_freed_memory()  # the unfiltered decode is freed: its pages go back
    return table


def only_cases(table: Any, case_ids: Any) -> Any:
    """The rows of an arrow table whose ``case_id`` is one of ``case_ids``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return table.filter(pc.is_in(table.column("case_id"), value_set=pa.array(sorted(case_ids), pa.string())))



def read_file(path: Path, model: type[F]) -> F | None:
    """One JSON file of a run folder as its typed model; None when absent, DataError naming the field if bad."""
    if not path.is_file():
        return None
    from evalkit._checksums import verify_artifact

    verify_artifact(path)
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



class _File(Generic[F]):
    """A typed file of the folder as an attribute, read on first access (None when absent)."""

    def __init__(self, model: type[F]) -> None:
        self.model = model

    def __get__(self, run: RunFolder | None, owner: type | None = None) -> F | None:
        if run is None:  # looked up on the class (introspection)
            return self  # type: ignore[return-value]
        cache = run._cache
        if self.model.FILE not in cache:
            cache[self.model.FILE] = read_file(run.path / self.model.FILE, self.model)
        return cache[self.model.FILE]


@dataclass(kw_only=True)
class RunFolder:
    """A run folder: its typed files, read on first access (``None`` when a file is absent)."""

    path: Path
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    manifest = _File(Manifest)
    summary = _File(Summary)
    thresholds = _File(Thresholds)
    projection = _File(Projection)
    gates = _File(Gates)
    judge = _File(Judge)

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

    def config_meta(self, config: str) -> ConfigEntry:
        found = self.manifest.config(config) if self.manifest else None
        return found or ConfigEntry(name=config)

    def config_scores(self, config: str):  # -> pd.DataFrame
        return self.scores[self.scores["config"] == config]

    @classmethod
    def with_scores(cls, path: Path, scores: Any) -> RunFolder:
        """The folder at ``path`` whose scores table a stage holds in memory (it has just written or read
        it): ``scores`` is that table, not read again."""
        run = cls(path=Path(path))
        run.__dict__["scores"] = scores  # the cached_property's slot
        return run

    def simulated(self, config: str) -> bool:
        """Whether ``config``'s numbers come from a simulated provider: the manifest's flag, else (a folder
        whose manifest does not say, e.g. a shard merge being written) the scores table's ``simulated``
        column. Every output that labels simulated numbers asks here."""
        if self.config_meta(config).simulated:
            return True
        return config in self._simulated_in_scores

    @cached_property
    def _simulated_in_scores(self) -> frozenset[str]:
        """The configurations with a row the scores table marks simulated (read once, two columns only)."""
        scores = self.__dict__.get("scores")
        if scores is None:
            scores = self.read_scores(["config", "simulated"], required=("config",))
        if "simulated" not in scores:
            return frozenset()
        marked = scores["simulated"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        return frozenset(str(c) for c in scores["config"][marked].unique())

    def simulated_configs(self, configs: Any = None) -> list[str]:
        """Of ``configs`` (default: the run's), those whose numbers are simulated, in that order."""
        return [c for c in (self.configs if configs is None else configs) if self.simulated(c)]


def open_run(ref: str | Path, *, reports: Path | None = None) -> RunFolder:
    """The run a reference names (path, run id, unique id prefix, or ``latest``), as a typed folder."""
    return RunFolder(path=resolve_run(ref, reports=reports))


def load_run(ref: str | Path, *, reports: Path | None = None) -> RunFolder:
    """``open_run`` that also reads (and checks) ``scores.parquet`` now: for stages that need every case."""
    path = Path(ref)
    run = RunFolder(path=path) if path.is_dir() else open_run(ref, reports=reports)
    _ = run.scores
    return run
