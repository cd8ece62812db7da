"""A run that mixes simulated and real configurations: the report labels the simulated ones' numbers
"simulated" wherever they appear (gate results, regressions, the judge's agreements, differences against a
simulated reference) and only those (a real configuration's own figures, a section heading over real rows);
and a saved what-if labels each figure with the settings that produced it, a context cap only its own rows.

Two simulated configurations (big, the run's reference, and small) and a real one (real), as the probe's
large-v1 / small-v1 / oai-large; each check has its control (a real figure that must not be labelled)."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.report import build_report
from evalkit.runs import Judge, write_file
from evalkit.testing._synthetic import SEGMENTS, write_synthetic_run

SUITE = {"gates": [{"kind": "min_good_rate", "min": 0.6}],
         "projection": {"volume_per_month": 50_000, "mix": {s: 1 / len(SEGMENTS) for s in SEGMENTS}}}
SIM = '<span class="badge sim">simulated</span>'


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _section(html: str, section_id: str) -> str:
    return re.search(rf'<section id="{section_id}">.*?</section>', html, re.DOTALL).group(0)


def _rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL).group(0)
    return re.findall(r"<tr>.*?</tr>", table, re.DOTALL)


def _row(html: str, table_id: str, start: str) -> str:
    return next(r for r in _rows(html, table_id) if _text(r).startswith(start))


def _invoke(args: list[str]) -> None:
    from evalkit.cli.main import app

    res = CliRunner().invoke(app, args)
    assert res.exit_code in (0, 1), (args, res.output, res.exception)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """big and small simulated, real from a real provider; gated; judged by a simulated judge."""
    root = tmp_path_factory.mktemp("mixed")
    run = write_synthetic_run(root / "run", run_id="20261201-120000-mixed-abc123", n_cases=600, suite_spec=SUITE,
                              configs={"big": {}, "small": {"shift": {s: -0.3 for s in SEGMENTS}, "noise_seed": 7},
                                       "real": {"shift": {SEGMENTS[0]: -0.7}, "noise_seed": 9}})
    manifest = json.loads((run / "manifest.json").read_text())
    for c in manifest["configs"]:
        if c["name"] == "real":
            c.update(simulated=False, provider="openai", model="gpt-x")
    (run / "manifest.json").write_text(json.dumps(manifest))
    scores = pd.read_parquet(run / "scores.parquet")
    scores["simulated"] = scores["config"] != "real"
    scores.to_parquet(run / "scores.parquet")
    agreement = {"n": 150, "agreement": {"value": 0.86, "lo": 0.8, "hi": 0.9, "n": 150}, "kappa": 0.66,
                 "kappa_interval": [0.53, 0.78], "confusion": [[37, 11], [12, 90]]}
    write_file(run, {"judge_vs_human": agreement, "judge_vs_rubric": {**agreement, "n": 1800},
                     "judge_simulated": True, "simulated": True, "simulated_configs": ["big", "small"]}, Judge)
    home = root / "home"
    import os

    old = os.environ.get("EVALKIT_HOME")
    os.environ["EVALKIT_HOME"] = str(home)
    try:
        _invoke(["gate", str(run)])
    finally:
        if old is None:
            os.environ.pop("EVALKIT_HOME", None)
        else:
            os.environ["EVALKIT_HOME"] = old
    assert (run / "gates.json").is_file()
    return run


@pytest.fixture(scope="module")
def mixed_html(mixed_run: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_report([mixed_run], out=tmp_path_factory.mktemp("mixed-out") / "r.html").read_text()


def test_gate_results_of_simulated_configurations_are_labelled_and_real_ones_not(mixed_html):
    verdict = _section(mixed_html, "verdict")
    items = {_text(li).split(" — ")[1].split(":")[0].strip(): li
             for li in re.findall(r"<li>.*?</li>", verdict.split("Largest significant")[0], re.DOTALL)}
    assert SIM in items["big simulated"] and SIM in items["small simulated"], items.keys()
    assert "real" in items and SIM not in items["real"], items["real"]


def test_regressions_label_the_simulated_side(mixed_html):
    verdict = _section(mixed_html, "verdict")
    regs = re.findall(r"<li>▼.*?</li>", verdict, re.DOTALL)
    small = [li for li in regs if _text(li).startswith("▼ small")]
    real = [li for li in regs if _text(li).startswith("▼ real")]
    assert small and real, [_text(li) for li in regs]
    for li in small:  # a simulated drop against a simulated reference: the row says it once
        assert _text(li).startswith("▼ small simulated ,") and li.count(SIM) == 1, li
    for li in real:  # a real configuration's drop against the simulated reference: the reference is
        assert _text(li).startswith("▼ real ,") and _text(li).endswith("vs big simulated"), _text(li)


def test_the_judges_agreements_are_labelled_when_the_judge_is_simulated(mixed_html):
    judge = _section(mixed_html, "judge")
    for label in ("human labels", "rubric checks"):
        row = _row(judge, "judge-table", f"20261201-120000-mixed-abc123 {label}")
        assert row.count(SIM) == 2, row  # kappa and agreement
    assert "the judge is a simulated provider" in _text(judge)


def test_a_real_judge_over_simulated_configurations_labels_the_rubric_agreement_only(mixed_run, tmp_path):
    run = Path(shutil.copytree(mixed_run, tmp_path / "run"))
    doc = json.loads((run / "judge.json").read_text())
    doc.update(judge_simulated=False)
    (run / "judge.json").write_text(json.dumps(doc))
    judge = _section(build_report([run], out=tmp_path / "r.html").read_text(), "judge")
    assert SIM not in _row(judge, "judge-table", "20261201-120000-mixed-abc123 human labels")
    assert _row(judge, "judge-table", "20261201-120000-mixed-abc123 rubric checks").count(SIM) == 2
    assert "include simulated configurations (big, small)" in _text(judge)


def test_a_real_rows_differences_against_a_simulated_reference_say_so(mixed_html):
    real = _text(_row(mixed_html, "context-table", "real"))
    assert "vs big (simulated) (paired" in real, real
    assert re.search(r"USD vs big \(simulated\)", real), real  # Δ monthly
    small = _row(mixed_html, "context-table", "small")  # simulated row: its own badge says it, once
    assert small.count(SIM) == 1 and "(simulated)" not in _text(small), _text(small)


def test_the_projection_heading_is_not_labelled_over_real_rows(mixed_html, mixed_run, tmp_path):
    heading = re.search(r"<h2>Production projection.*?</h2>", _section(mixed_html, "projection")).group(0)
    assert SIM not in heading, heading
    assert SIM not in _row(mixed_html, "projection-table", "real")
    assert SIM in _row(mixed_html, "projection-table", "big")
    only_sim = tmp_path / "sim"
    write_synthetic_run(only_sim, run_id="20261201-120000-simonly-abc124", n_cases=200, configs={"a": {}, "b": {}})
    html = build_report([only_sim], out=tmp_path / "r.html").read_text()
    assert SIM in re.search(r"<h2>Production projection.*?</h2>", html).group(0)


def test_a_saved_what_if_cap_labels_only_the_context_cap_rows_and_shows_them(mixed_run, tmp_path, monkeypatch):
    """evalkit project RUN --threshold 0.9 --cap-turns 5 --save: every cost figure read 'what-if: --threshold
    0.9; context cap 5 turns' though the spend shown was uncapped, and the cap's savings were nowhere."""
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    run = Path(shutil.copytree(mixed_run, tmp_path / "run"))
    _invoke(["project", str(run), "--threshold", "0.9", "--cap-turns", "5", "--save"])
    proj = json.loads((run / "projection.json").read_text())
    assert proj["what_if"] == ["--threshold 0.9", "context cap 5 turns"], proj["what_if"]
    html = build_report([run], out=tmp_path / "r.html").read_text()
    for config in ("big", "real"):
        decision = _text(_row(html, "projection-table", config))
        assert "what-if: --threshold 0.9" in decision and "context cap" not in decision, decision
        for table in ("cost-table", "context-table"):  # neither the threshold nor the cap changes the spend
            row = _text(_row(html, table, config))
            assert "what-if" not in row, (table, row)
        assert "context cap" not in _text(_row(html, "leaderboard-table", config))
        caps = [_text(r) for r in _rows(html, "caps-table") if _text(r).startswith(config)]
        capped = [r for r in caps if "what-if: context cap 5 turns" in r]
        assert len(capped) == 1, caps
        cap = proj["configs"][config]["context_caps"][0]
        assert cap["cap"]["turns"] == 5
        spend = proj["configs"][config]["monthly_cost"]["mean"]
        saved = cap["saved_per_month"]
        assert f"${spend:,.0f} ${spend - saved:,.0f} ${saved:,.0f}" in capped[0], (capped[0], spend, saved)
        assert "--threshold" not in capped[0]
    assert SIM not in _row(html, "caps-table", "real") and SIM in _row(html, "caps-table", "big")
