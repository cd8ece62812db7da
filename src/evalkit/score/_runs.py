"""Read what the scoring stage needs from run folders (resolution lives in evalkit._runfolder).

A run reference is a path to a run folder, a run id under the reports folder
(``evalkit._home.reports_dir()``), a unique prefix of a run id, or ``latest``
(the run whose manifest says it was created most recently).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evalkit._runfolder import read_manifest, resolve_run_dir
from evalkit.errors import DataError, NotFound


def read_scores(run_dir: Path, columns: Sequence[str] | None = None):  # -> pd.DataFrame
    """Read ``scores.parquet``; only the wanted columns that exist (older runs lack some)."""
    import pyarrow.parquet as pq

    path = Path(run_dir) / "scores.parquet"
    if not path.exists():
        raise NotFound(f"{path} does not exist (was the run scored?)")
    try:
        schema_names = set(pq.read_schema(path).names)
        cols = None if columns is None else [c for c in columns if c in schema_names]
        return pq.read_table(path, columns=cols).to_pandas()
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable scores table ({exc})") from exc


__all__ = ["read_manifest", "read_scores", "resolve_run_dir"]
