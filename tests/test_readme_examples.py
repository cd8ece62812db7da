"""The Python examples in README.md run as written (from the repository root)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("block", python_blocks(REPO / "README.md"))
def test_readme_python_example_runs(block, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("EVALKIT_REPORTS", str(tmp_path / "reports"))
    exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own documentation
    out = capsys.readouterr().out
    assert "['large-v1', 'rules']" in out and str(tmp_path) in out
