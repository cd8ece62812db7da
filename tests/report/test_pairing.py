"""The report pairs a candidate run's configurations with the baseline's exactly as `evalkit compare`
and the gates do (evalkit.score.config_pairs); it has no pairing rule of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evalkit.errors import ConfigError
from evalkit.report import build_report
from evalkit.report._assemble import build_columns
from evalkit.runs import load_run
from evalkit.score import compare_run_pairs
from evalkit.testing._synthetic import write_synthetic_run


def _report_pairs(cand: Path, base: Path) -> set[tuple[str, str]]:
    cols = build_columns([load_run(cand)], load_run(base))
    return {(c.ref.config, c.config) for c in cols if not c.is_baseline and c.ref is not None}


def test_a_configuration_the_baseline_lacks_is_not_paired_with_its_only_configuration(report_runs, tmp_path):
    """Baseline {prod}, candidate {prod, cheap}: the old rule paired cheap with the baseline's only
    configuration; compare and the gates pair prod with prod only, and so does the report now."""
    base, cand = report_runs["base"], report_runs["cand"]
    compared = {(c.base_config, c.cand_config) for c in compare_run_pairs(base, cand)}
    assert compared == {("prod", "prod")}
    assert _report_pairs(cand, base) == compared
    html = build_report([cand], out=tmp_path / "r.html", baseline=base).read_text()
    assert "cheap: no matching configuration in the baseline run" in html
    assert "prod: no matching configuration" not in html


def test_no_pairing_from_the_suites_baseline_config(tmp_path):
    """Baseline {a, b}, candidate {c} whose suite names baseline_config a: the old rule paired c with a;
    `evalkit compare` refuses (no shared configuration) and the report compares nothing."""
    spec = {"name": "pairs", "baseline_config": "a"}
    base = write_synthetic_run(tmp_path / "base", run_id="20261121-110000-pairs-base00", n_cases=240,
                               configs={"a": {}, "b": {"noise_seed": 3}}, suite_spec=spec)
    cand = write_synthetic_run(tmp_path / "cand", run_id="20261121-120000-pairs-cand00", n_cases=240,
                               configs={"c": {"noise_seed": 4}}, suite_spec=spec)  # its suite also has a; ran --config c
    with pytest.raises(ConfigError, match="share no configuration"):
        compare_run_pairs(base, cand)
    assert _report_pairs(cand, base) == set()
    html = build_report([cand], out=tmp_path / "r.html", baseline=base).read_text()
    assert "c: no matching configuration in the baseline run" in html
    assert not re.search(r"significant (drop|gain)", html)
