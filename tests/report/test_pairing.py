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


def _keep_cases(run: Path, keep) -> None:
    """Leave only the cases whose number passes ``keep`` in the run's scores (another sample of the dataset)."""
    import pandas as pd

    scores = pd.read_parquet(run / "scores.parquet")
    number = scores["case_id"].str.removeprefix("case-").astype(int)
    scores[number.map(keep)].reset_index(drop=True).to_parquet(run / "scores.parquet", index=False)


def test_two_samples_of_one_dataset_are_paired_on_their_shared_cases_as_the_gate_pairs_them(tmp_path):
    """A = 300 cases, B = 1500 of the same dataset version, drawn apart: they share cases but neither contains
    the other's. The gate pairs them on the shared cases (168 in the probe); the report compared them
    UNPAIRED over 1500 vs 300. Now the matrix is the gate's computation: same n, same change, same Holm p."""
    from evalkit.report._assemble import segment_matrix
    from evalkit.score import compare_runs
    from evalkit.stats import ALL

    base = write_synthetic_run(tmp_path / "a", run_id="20261121-110000-pairs-aaaaaa", n_cases=1200,
                               configs={"prod": {}})
    cand = write_synthetic_run(tmp_path / "b", run_id="20261121-120000-pairs-bbbbbb", n_cases=1200,
                               configs={"prod": {"shift": {"legacy_discount": -0.3}, "noise_seed": 5}})
    _keep_cases(base, lambda i: i % 2 == 0)
    _keep_cases(cand, lambda i: i % 3 != 0)
    cols = build_columns([load_run(cand)], load_run(base))
    (col,) = [c for c in cols if not c.is_baseline]
    matrix = segment_matrix(cols)
    cmp = compare_runs(base, cand, config_a="prod", config_b="prod")
    shared = sum(1 for i in range(1200) if i % 2 == 0 and i % 3 != 0)
    assert cmp.n_paired == shared
    overall = matrix.changes[(ALL, col.key)]
    assert overall.paired and overall.n == shared and "paired, n=400" in overall.text
    rows = cmp.rows("good").set_index("segment")
    assert overall.diff == pytest.approx(rows.loc[ALL, "diff"])
    for seg in rows.index.drop(ALL):
        ch = matrix.changes[(seg, col.key)]
        assert ch.paired and ch.n == rows.loc[seg, "n"]
        assert ch.p_adjusted == pytest.approx(rows.loc[seg, "p_adjusted"])  # Holm over the same family
        assert (ch.lo, ch.hi) == pytest.approx((rows.loc[seg, "diff_lo"], rows.loc[seg, "diff_hi"]))
    base_rate, ref_rate = matrix.pairs[(ALL, col.key)]
    assert base_rate.n == ref_rate.n == shared  # both rates on the shared cases
    html = build_report([cand], out=tmp_path / "r.html", baseline=base).read_text()
    assert "UNPAIRED" not in html.split('id="segment-matrix"')[1].split("</table>")[0]


def test_another_dataset_is_never_paired_on_coincident_case_ids(tmp_path):
    import json

    from evalkit.report._assemble import segment_matrix

    base = write_synthetic_run(tmp_path / "a", run_id="20261121-110000-pairs-cccccc", n_cases=600,
                               configs={"prod": {}})
    cand = write_synthetic_run(tmp_path / "b", run_id="20261121-120000-pairs-dddddd", n_cases=600,
                               configs={"prod": {"noise_seed": 5}})
    _keep_cases(cand, lambda i: i % 3 != 0)
    manifest = json.loads((cand / "manifest.json").read_text())
    manifest["dataset"].update(ref="other@v1", name="other", version="v1", sha256="cd" * 32)
    (cand / "manifest.json").write_text(json.dumps(manifest))
    cols = build_columns([load_run(cand)], load_run(base))
    changes = segment_matrix(cols).changes
    assert changes and not any(ch.paired for ch in changes.values())
