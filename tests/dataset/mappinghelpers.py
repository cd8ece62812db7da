"""Helpers of the mapped-import tests: the Acme example, the CLI import and its output."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from evalkit.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
ACME = ROOT / "examples" / "acme"


def output_text(result) -> str:  # type: ignore[no-untyped-def]
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def import_mapped(tmp_path: Path, monkeypatch, export: Path, mapping: Path):  # type: ignore[no-untyped-def]
    """``evalkit dataset import EXPORT --mapping MAPPING`` as acme@v1 into tmp_path/store: (result, text, store)."""
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(export), "--mapping", str(mapping),
                                 "--name", "acme", "--version", "v1"])
    return r, output_text(r), store


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of ``path`` holding ``needle``."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def acme_export(tmp_path: Path, **cells: str) -> Path:
    """The first 3 rows of the Acme export, with cells of its first row replaced, as tmp_path/export.csv."""
    csv.field_size_limit(64 * 2**20)
    with open(ACME / "ticket-export.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:3]
    rows[0].update(cells)
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
