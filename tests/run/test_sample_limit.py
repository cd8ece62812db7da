"""``--limit N`` above the dataset's size takes every case and says so (the README promises exactly N)."""

from __future__ import annotations

import shutil
from pathlib import Path

from evalkit.pipeline import run_suite
from evalkit.run import RunRequest

ROOT = Path(__file__).resolve().parents[2]


def test_a_limit_above_the_datasets_size_takes_every_case_with_a_warning(tmp_path, capsys):
    from evalkit.dataset import generate_dataset

    store = tmp_path / "datasets"
    generate_dataset("upgrades", n=15, seed=5, name="tiny", version="v1", store=store)
    (tmp_path / "prompts").mkdir()
    shutil.copy(ROOT / "suites" / "prompts" / "upgrade-v1.j2", tmp_path / "prompts" / "upgrade-v1.j2")
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: tiny\ntask: upgrades\ndataset: tiny@v1\nconfigs:\n  - name: rules\n    provider: rules\n"
                     "    model: written-policy\n    prompt: prompts/upgrade-v1.j2\n")
    outcome = run_suite(RunRequest(suite_path=suite, limit=40, reports=tmp_path / "reports", datasets=store,
                                   progress=False, fresh=True))
    assert outcome.manifest["dataset"]["sampled_rows"] == 15
    assert "warning: --limit 40 is more than the 15 cases of tiny@v1: the run takes all 15" in capsys.readouterr().err
    capsys.readouterr()
    run_suite(RunRequest(suite_path=suite, limit=15, reports=tmp_path / "reports", datasets=store, progress=False,
                         fresh=True))
    assert "is more than" not in capsys.readouterr().err
