"""The packages with lazy exports (``evalkit.run``, ``evalkit.report``) export exactly what they say:
every name of ``__all__`` loads from the module that the ``TYPE_CHECKING`` imports name (what type
checkers and readers see), and importing the package loads none of the heavy stacks."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "evalkit"
LAZY = ("run", "report")


def _declared(package: str) -> dict[str, str]:
    """name -> private module, from the package's ``if TYPE_CHECKING:`` imports."""
    tree = ast.parse((SRC / package / "__init__.py").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                out.update({a.name: imp.module.rsplit(".", 1)[1] for a in imp.names})
    return out


@pytest.mark.parametrize("package", LAZY)
def test_every_export_resolves_where_declared(package):
    module = importlib.import_module(f"evalkit.{package}")
    declared = _declared(package)
    assert sorted(declared) == sorted(module.__all__) == sorted(module._WHERE)
    assert module._WHERE == declared
    for name in module.__all__:
        value = getattr(module, name)
        source = importlib.import_module(f"evalkit.{package}.{declared[name]}")
        assert value is getattr(source, name), name
    assert dir(module) == sorted(module.__all__)
    with pytest.raises(AttributeError, match="no attribute 'not_exported'"):
        _ = module.not_exported


def test_importing_the_run_entry_points_leaves_heavy_stacks_unloaded():
    """What `evalkit run` imports before it forks its senders: no pandas, pyarrow, jinja2 or matplotlib."""
    code = ("import sys; from evalkit.pipeline import run_and_evaluate; from evalkit.run import execute_suite, "
            "RunRequest; from evalkit.report import chart_worker; "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'jinja2', 'matplotlib', 'openai') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]"
