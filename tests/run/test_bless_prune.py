"""`evalkit runs bless` never deletes what DEST already held unless it is an earlier baseline (replaced
atomically); `evalkit runs prune` never removes unreadable runs nor the baseline a kept run names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app

REPO = Path(__file__).resolve().parents[2]
RULES = """  - name: rules
    provider: rules
    model: written-policy
    prompt: prompts/upgrade-v1.j2
"""


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


def _suite(folder: Path, name: str) -> Path:
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", folder / "prompts" / "upgrade-v1.j2")
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ntask: upgrades\ndataset: tiny@v1\nseed: 3\nconfigs:\n{RULES}")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Two complete runs of suite 'alpha' (the second names the first as its baseline) and one of 'beta'."""
    from evalkit.dataset import generate_dataset
    from evalkit.pipeline import RunRequest, run_suite

    base = tmp_path_factory.mktemp("bless-prune")
    store = base / "datasets"
    generate_dataset("upgrades", n=24, seed=5, name="tiny", version="v1", store=store)
    reports = base / "reports"
    ids: list[str] = []
    for name, baseline in (("alpha", None), ("alpha", 0), ("beta", None)):
        req = RunRequest(suite_path=_suite(base, name), reports=reports, datasets=store, progress=False, fresh=True,
                         baseline=ids[baseline] if baseline is not None else None)
        ids.append(run_suite(req).run_id)
    return reports, ids


@pytest.fixture()
def reports(template, tmp_path) -> tuple[Path, list[str]]:
    root, ids = template
    shutil.copytree(root, tmp_path / "reports")
    return tmp_path / "reports", ids


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bless_refuses_a_folder_of_other_files(reports, tmp_path):
    root, _ = reports
    work = tmp_path / "mywork"
    (work / "notes").mkdir(parents=True)
    (work / "notes" / "todo.txt").write_text("x")
    out = cli("runs", "bless", "latest", str(work), "--reports", str(root))
    assert out.exit_code == 2, out.output
    assert "refusing" in out.output and "earlier baseline" in out.output
    assert (work / "notes" / "todo.txt").read_text() == "x"
    # even a folder that has a manifest.json next to files a baseline never holds
    (work / "manifest.json").write_text("{}")
    assert cli("runs", "bless", "latest", str(work), "--reports", str(root)).exit_code == 2
    assert (work / "notes" / "todo.txt").read_text() == "x"


@pytest.mark.parametrize("where", ["reports", "parent", "run", "inside-run", "other-run"])
def test_bless_refuses_the_reports_folder_and_run_folders(reports, where):
    root, ids = reports
    dest = {"reports": root, "parent": root.parent, "run": root / ids[-1], "inside-run": root / ids[-1] / "b",
            "other-run": root / ids[0]}[where]
    before = _tree(root)
    out = cli("runs", "bless", ids[-1], str(dest), "--reports", str(root))
    assert out.exit_code == 2, out.output
    assert "refusing to bless" in out.output and "Traceback" not in out.output
    assert _tree(root) == before  # every run's journal, tables and manifest as they were
    assert sorted(p.name for p in root.iterdir()) == sorted(ids)


def test_bless_replaces_an_earlier_baseline_atomically(reports, tmp_path, monkeypatch):
    root, ids = reports
    dest = tmp_path / "baseline"
    assert cli("runs", "bless", ids[0], str(dest), "--reports", str(root)).exit_code == 0
    out = cli("runs", "bless", ids[1], str(dest), "--reports", str(root))  # an earlier baseline: replaced
    assert out.exit_code == 0, out.output
    assert json.loads((dest / "manifest.json").read_text())["run_id"] == ids[1]
    before = _tree(dest)
    import evalkit.run._answers as answers

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(answers, "write_bundle", boom)
    from evalkit.run import bless_baseline

    with pytest.raises(OSError):
        bless_baseline(root / ids[1], dest)
    assert _tree(dest) == before  # a failed blessing leaves the earlier baseline whole ...
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # ... and no staging folder


def test_prune_keeps_the_baseline_a_kept_run_names(reports):
    root, ids = reports
    assert json.loads((root / ids[1] / "manifest.json").read_text())["baseline"] == ids[0]
    out = cli("runs", "prune", "--keep", "1", "--reports", str(root), "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["removed"] == []
    assert {s["run_id"]: s["reason"] for s in data["skipped"]} == {ids[0]: f"baseline of kept run {ids[1]}"}
    assert (root / ids[0] / "manifest.json").is_file()
    # once the run that named it is gone too, the old baseline may go
    out = cli("runs", "prune", "--keep", "0", "--suite", "alpha", "--reports", str(root), "--json")
    assert sorted(e["run_id"] for e in json.loads(out.stdout)["removed"]) == sorted(ids[:2])


@pytest.mark.parametrize("damage", ["unknown-key", "torn"])
def test_prune_never_removes_an_unreadable_run(reports, damage):
    root, ids = reports
    path = root / ids[0] / "manifest.json"
    if damage == "unknown-key":  # e.g. written by a newer evalkit
        path.write_text(json.dumps({**json.loads(path.read_text()), "future_field": 1}))
    else:
        path.write_text(path.read_text()[:40])
    before = _tree(root / ids[0])
    out = cli("runs", "prune", "--keep", "0", "--reports", str(root), "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert ids[0] not in [e["run_id"] for e in data["removed"]]
    assert [s["run_id"] for s in data["skipped"] if "unreadable" in s["reason"]] == [ids[0]]
    assert _tree(root / ids[0]) == before
    text = cli("runs", "prune", "--keep", "0", "--reports", str(root)).output
    # its suite is unknown: not counted as a kept run of any suite
    assert f"left alone {ids[0]}: manifest unreadable" in text
    assert "removed 0 run(s), kept 0; left alone: 1 unreadable folder" in text  # the others went above


def test_prune_neither_removes_nor_counts_a_baseline_blessed_into_the_reports_folder(reports):
    root, ids = reports
    out = cli("runs", "bless", ids[2], str(root / "blessed-beta"), "--reports", str(root))
    assert out.exit_code == 0, out.output
    # The copy repeats beta's run and is the newest folder of suite beta's: it must not use up --keep 1.
    out = cli("runs", "prune", "--keep", "1", "--suite", "beta", "--reports", str(root), "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["removed"] == []
    assert [s["run_id"] for s in data["skipped"] if "blessed baseline" in s["reason"]] == [ids[2]]
    # The table tells the run and its copy apart: same id, the copy's row names its kind and folder.
    listed = cli("runs", "list", "--suite", "beta", "--reports", str(root)).output
    assert listed.count(ids[2]) == 2 and listed.count("copy in folder blessed-beta") == 1, listed
    # --keep 0 keeps no run of beta: the copy is left alone, not counted as a kept run.
    text = cli("runs", "prune", "--keep", "0", "--suite", "beta", "--dry-run", "--reports", str(root)).output
    assert f"would remove {ids[2]}" in text
    assert f"left alone blessed-beta: a copy of run {ids[2]}" in text
    assert "would remove 1 run(s), kept 0; left alone: 1 blessed copy" in text, text
    out = cli("runs", "prune", "--keep", "0", "--suite", "beta", "--reports", str(root), "--json")
    data = json.loads(out.stdout)
    assert [e["path"] for e in data["removed"]] == [str(root / ids[2])]
    assert [(s["folder"], s["kind"]) for s in data["skipped"]] == [("blessed-beta", "copy")]
    assert (root / "blessed-beta" / "manifest.json").is_file()
