"""The report `evalkit run` writes is its run's last file: its header shows the status the run ends with."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_the_report_written_by_a_run_shows_the_run_complete(tmp_path, evalkit_cli):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "upgrade-v1.j2").write_text((REPO / "suites/prompts/upgrade-v1.j2").read_text())
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "status-probe", "task": "upgrades", "dataset": "upgrades@v2",
        "configs": [{"name": "rules", "provider": "rules", "model": "written-policy",
                     "prompt": "prompts/upgrade-v1.j2"}],
        "gates": [{"kind": "min_good_rate", "min": 0.1}]}))
    reports = tmp_path / "reports"
    evalkit_cli(["run", str(suite), "--limit", "20", "--reports", str(reports)], home=tmp_path / "home")
    (run_dir,) = [p for p in reports.iterdir() if (p / "manifest.json").is_file()]
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "complete"
    header = re.search(r'<dt>runs</dt><dd>(.*?)</dd>', (run_dir / "report.html").read_text(), re.DOTALL).group(1)
    assert f"{run_dir.name} (" in header and ", complete" in header and "evaluating" not in header
