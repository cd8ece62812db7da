"""Every name a benchmark imports from evalkit exists: `make bench` is not run in CI, so a bench
that a refactor broke would otherwise only be found by the next person who runs it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _evalkit_imports(path: Path) -> list[tuple[str, str | None, int]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "evalkit":
            out += [(node.module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, None, node.lineno) for alias in node.names if alias.name.split(".")[0] == "evalkit"]
    return out


@pytest.mark.parametrize("path", sorted(BENCH.glob("bench_*.py")), ids=lambda p: p.name)
def test_bench_imports_resolve(path):
    for module, name, line in _evalkit_imports(path):
        where = f"{path.name}:{line}"
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            pytest.fail(f"{where}: {exc}")
        if name is not None and not hasattr(mod, name) and importlib.util.find_spec(f"{module}.{name}") is None:
            pytest.fail(f"{where}: {module} has no {name}")
