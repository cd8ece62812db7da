"""A plugin whose code cannot be imported (an editable install whose folder is gone, a missing
dependency) is a broken installation: one clear error naming it and its package, exit 2, not an
internal error (exit 3) with a traceback log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml


def _broken_plugin_site(root: Path) -> Path:
    """A site folder declaring a task and a provider whose module does not exist."""
    info = root / "broken_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[evalkit.tasks]\nbroken = gone_module:task\n\n"
                                           "[evalkit.providers]\nbrokenprov = gone_module:Provider\n")
    return root


def _evalkit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    site = _broken_plugin_site(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(site), os.environ.get("PYTHONPATH")))),
           "EVALKIT_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_a_task_plugin_that_cannot_be_imported_is_a_clear_input_error(tmp_path):
    done = _evalkit(tmp_path, "suite", "vars", "broken")
    assert done.returncode == 2, done.stderr
    assert "task 'broken'" in done.stderr and "'broken-plugin'" in done.stderr and "gone_module" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "home" / "logs").exists()


def test_a_provider_plugin_that_cannot_be_imported_is_a_clear_input_error(tmp_path):
    import shutil

    suites = Path(__file__).resolve().parents[1] / "suites"
    shutil.copytree(suites / "prompts", tmp_path / "prompts")
    suite = {"name": "broken", "task": "upgrades", "dataset": "upgrades@v2",
             "configs": [{"name": "x", "provider": "brokenprov", "model": "m", "prompt": "prompts/upgrade-v1.j2"}]}
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite))
    done = _evalkit(tmp_path, "run", str(tmp_path / "suite.yaml"), "--limit", "5", "--reports", str(tmp_path / "r"),
                    "--datasets", str(suites.parent / "datasets"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "provider 'brokenprov'" in done.stderr and "'broken-plugin'" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "home" / "logs").exists()
