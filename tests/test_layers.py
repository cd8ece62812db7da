"""Layers point one way: dataset -> run -> score -> calibrate -> project -> gate -> report.

Read with ``ast`` over src/ (every import, including the ones inside functions):

* no package imports another package's private module (``evalkit.gate._stats`` from the report);
* no stage reaches a later stage, directly or through the packages it imports (so a shared
  package such as ``suite`` cannot import a stage either: ``run`` imports ``suite``);
* the package graph has no cycles, and only ``evalkit.pipeline`` / ``evalkit.cli`` drive stages.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "evalkit"
STAGES = ("dataset", "run", "score", "calibrate", "project", "gate", "report")
TOP = ("pipeline", "sequential", "cli", "history", "testing")  # sequential: the stop-early driver of `run --sequential`; testing: test devices that drive runs (nothing imports them)
"""Orchestration and readers across many runs (run history): may import any stage; only cli imports them."""


def _module_name(path: Path, root: Path = SRC) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = SRC) -> list[tuple[str, int]]:
    """Absolute evalkit module names imported by one file (relative imports resolved)."""
    mod = _module_name(path, root)
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, node.lineno))
            # `from evalkit.gate import _stats` imports a private module too
            out += [(f"{target}.{a.name}", node.lineno) for a in node.names if a.name.startswith("_")]
    return [(t, line) for t, line in out if t == "evalkit" or t.startswith("evalkit.")]


def _package(module: str) -> str:
    """The first-level package or module under evalkit ('evalkit.gate._stats' -> 'gate')."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _edges(root: Path = SRC) -> list[tuple[str, str, str, int, Path]]:
    edges = []
    for path in sorted(root.rglob("*.py")):
        src_mod = _module_name(path, root)
        for target, line in _imports(path, root):
            edges.append((src_mod, target, _package(src_mod), line, path))
    return edges


def _graph(root: Path = SRC) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for _, target, pkg, _, _ in _edges(root):
        dst = _package(target)
        if dst and dst != pkg:
            graph.setdefault(pkg, set()).add(dst)
    return graph


def _reach(graph: dict[str, set[str]], start: str) -> dict[str, list[str]]:
    """Packages reachable from ``start`` with one path to each."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        cur = todo.pop()
        for nxt in sorted(graph.get(cur, ())):
            if nxt in paths:
                continue
            paths[nxt] = [*paths[cur], nxt]
            todo.append(nxt)
    return paths


def test_no_package_imports_another_packages_private_module():
    bad = []
    for src_mod, target, pkg, line, path in _edges():
        parts = target.split(".")
        # evalkit.X._y (private module of package X) imported from outside X
        private = [i for i, p in enumerate(parts) if p.startswith("_") and i >= 2]
        if private and _package(target) != pkg:
            bad.append(f"{path.relative_to(SRC.parent)}:{line}: {src_mod} imports {target}")
    assert not bad, "import the package's public names instead:\n" + "\n".join(bad)


def test_stages_never_reach_a_later_stage():
    graph = _graph()
    bad = []
    for i, stage in enumerate(STAGES):
        reach = _reach(graph, stage)
        for later in (*STAGES[i + 1:], *TOP):
            if later in reach:
                bad.append(f"{stage} reaches {later}: {' -> '.join(reach[later])}")
    assert not bad, "layers must point one way (" + " -> ".join(STAGES) + "):\n" + "\n".join(bad)


def test_shared_packages_import_no_stage_and_nothing_imports_the_top():
    graph = _graph()
    shared = {p for p in graph} - set(STAGES) - set(TOP)
    bad = [f"{p} reaches {s}: {' -> '.join(path)}" for p in sorted(shared)
           for s, path in _reach(graph, p).items() if s in (*STAGES, *TOP)]
    bad += [f"{p} imports {t}" for p, targets in graph.items() for t in targets if t in TOP and p not in TOP]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_violations(tmp_path):
    # The rules above must be able to fail: a planted backward and private import is caught.
    import shutil

    root = Path(shutil.copytree(SRC, tmp_path / "evalkit", ignore=shutil.ignore_patterns("__pycache__")))
    planted = root / "calibrate" / "_planted.py"
    planted.write_text("def f():\n    from evalkit.report._render import build_report\n"
                       "from evalkit.gate import _stats\n")
    targets = {t for _, t, _, _, path in _edges(root) if path == planted}
    assert {"evalkit.report._render", "evalkit.gate._stats"} <= targets
    assert "report" in _reach(_graph(root), "calibrate")
    assert "report" not in _reach(_graph(), "calibrate")
