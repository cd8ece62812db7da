"""``evalkit project`` through Typer, registered on a fresh app (independent of other command modules)."""

from __future__ import annotations

import json

import pytest
import typer
from project_synth import make_scores, write_run
from typer.testing import CliRunner

from evalkit.cli import _project


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    _project.register(app)

    @app.callback()
    def _root() -> None:  # keeps `project` a subcommand, as in the real app
        pass

    return app


def test_cli_writes_projection_and_prints_table(app, run_dir) -> None:
    r = CliRunner().invoke(app, ["project", str(run_dir), "--cap-turns", "10",
                                 "--config", "alpha", "--seed", "9", "--save"])
    assert r.exit_code == 0, r.output
    assert "automation and review" in r.output and "tokens and value" in r.output and "turns<=10" in r.output
    assert max(len(line) for line in r.output.splitlines()) <= 80  # wraps to the console, never transposes
    doc = json.loads((run_dir / "projection.json").read_text())
    assert list(doc["configs"]) == ["alpha"] and doc["bootstrap"]["seed"] == 9
    assert doc["configs"]["alpha"]["context_caps"][0]["label"] == "turns<=10"
    assert doc["what_if"] == ["context cap 10 turns"]  # a cap given by hand is a what-if, and says so


def test_cli_run_id_under_reports(app, run_dir, monkeypatch) -> None:
    monkeypatch.setenv("EVALKIT_REPORTS", str(run_dir.parent))
    r = CliRunner().invoke(app, ["project", run_dir.name, "--threshold", "0.7", "--volume", "1000",
                                 "--save"])
    assert r.exit_code == 0, r.output
    doc = json.loads((run_dir / "projection.json").read_text())
    assert doc["volume_per_month"] == 1000 and doc["configs"]["beta"]["threshold"] == 0.7


def test_cli_errors(app, tmp_path, run_dir) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["project", str(tmp_path / "missing-run")])
    assert r.exit_code == 2 and "not found" in r.output
    r = runner.invoke(app, ["project", str(run_dir), "--threshold", "0.5", "--thresholds", "x.json"])
    assert r.exit_code == 2 and "not both" in r.output
    bare = write_run(tmp_path / "bare", make_scores(1), manifest={"run_id": "bare"})
    r = runner.invoke(app, ["project", str(bare)])
    assert r.exit_code == 2 and "--volume N and --mix FILE" in r.output
    bad_mix = tmp_path / "mix.yaml"
    bad_mix.write_text("routine: 0.5\n")
    r = runner.invoke(app, ["project", str(bare), "--volume", "10", "--mix", str(bad_mix)])
    assert r.exit_code == 2 and "mix.yaml" in r.output and "sum to 0.5" in r.output


def test_a_mix_that_leaves_out_segments_with_cases_says_so(app, run_dir, tmp_path) -> None:
    """A mix naming only some of the run's segments projects over those alone: a warning names the rest
    (in projection.json and on the console), since a misspelt segment is the usual cause."""
    from project_synth import MIX

    kept = sorted(MIX)[:2]
    mix = tmp_path / "mix.yaml"
    mix.write_text("".join(f"{s}: {1 / len(kept)}\n" for s in kept))
    r = CliRunner().invoke(app, ["project", str(run_dir), "--mix", str(mix), "--save"],
                           env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    left_out = sorted(set(MIX) - set(kept))
    warning = next(w for w in json.loads((run_dir / "projection.json").read_text())["warnings"] if "mix" in w)
    assert f"{len(left_out)} segment(s)" in warning and all(s in warning for s in left_out)
    assert not any(s in warning for s in kept) and "left out" in " ".join(r.output.split())

    from rich.console import Console

    from evalkit._console import print_stage_summary
    from evalkit.runs import RunFolder

    console = Console(record=True, width=200)
    print_stage_summary(RunFolder(path=run_dir), console)  # what `evalkit run` prints after projecting
    assert f"projection: {warning}" in console.export_text()


def test_the_projection_names_the_threshold_set_it_applied(app, run_dir) -> None:
    """--threshold-set NAME reads thresholds/NAME.json; each configuration's threshold source says so
    (it said thresholds.json, the suite's set, whichever set was applied)."""
    th = json.loads((run_dir / "thresholds.json").read_text())
    th["configs"]["alpha"]["threshold"] = 0.6
    (run_dir / "thresholds").mkdir()
    (run_dir / "thresholds" / "strict.json").write_text(json.dumps(th))
    r = CliRunner().invoke(app, ["project", str(run_dir), "--threshold-set", "strict"])
    assert r.exit_code == 0, r.output
    doc = json.loads((run_dir / "projection.json").read_text())
    assert doc["configs"]["alpha"]["threshold"] == 0.6
    assert doc["configs"]["alpha"]["threshold_source"] == "thresholds/strict.json"
    r = CliRunner().invoke(app, ["project", str(run_dir)])
    assert json.loads((run_dir / "projection.json").read_text())["configs"]["alpha"]["threshold_source"] == \
        "thresholds.json"


def test_the_console_states_the_economics_its_costs_assume(app, run_dir) -> None:
    r = CliRunner().invoke(app, ["project", str(run_dir)], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    line = next(x for x in r.output.splitlines() if "assume" in x)
    assert "a review $5.00" in line and "not good $100.00" in line  # the suite's economics (project_synth)


def _projected_segments(run_dir) -> dict:
    doc = json.loads((run_dir / "projection.json").read_text())
    return doc, {s: v["threshold"] for s, v in doc["configs"]["alpha"]["segments"].items()}


def test_cost_optimal_projects_at_calibrates_recommended_thresholds(app, tmp_path) -> None:
    """``--cost-optimal`` applies calibrate's cost-optimal choice per segment (a segment it does not list was
    never certified: it escalates); the default stays the lowest certified threshold. Both come from the one
    resolver (evalkit.runs), and projection.json says which was applied."""
    certified = {"routine": {"threshold": 0.5, "certified": True},
                 "legacy_discount": {"threshold": 0.6, "certified": True},
                 "long_history": {"threshold": None, "certified": False}}
    cheapest = {"segments": {"routine": {"threshold": 0.9}, "legacy_discount": {"threshold": None}}}
    th = {"schema": 1, "outcome": "good", "mode": "per_segment",
          "configs": {"alpha": {"threshold": None, "certified": True, "segments": certified,
                                "cost_optimal": cheapest}}}
    run_dir = write_run(tmp_path, make_scores(1), thresholds=th)
    runner = CliRunner()
    r = runner.invoke(app, ["project", str(run_dir)])
    assert r.exit_code == 0, r.output
    doc, segs = _projected_segments(run_dir)
    assert segs == {"routine": 0.5, "legacy_discount": 0.6, "long_history": None}
    certified_rate = doc["configs"]["alpha"]["automation_rate"]["value"]
    assert doc["threshold_set"]["choice"] == "certified"

    r = runner.invoke(app, ["project", str(run_dir), "--cost-optimal"])
    assert r.exit_code == 0, r.output
    doc, segs = _projected_segments(run_dir)
    block = doc["configs"]["alpha"]
    assert segs == {"routine": 0.9, "legacy_discount": None, "long_history": None}
    assert "cost-optimal" in block["threshold_source"] and doc["threshold_set"]["choice"] == "cost_optimal"
    assert block["risk_target_segments"] == {"routine": 0.5, "legacy_discount": 0.6, "long_history": None}
    assert block["automation_rate"]["value"] < certified_rate  # a higher threshold, two segments escalated
    assert not any("own case mix" in w for w in doc["warnings"])  # per-segment choices do not depend on the mix


def test_cost_optimal_pooled_keeps_uncertifiable_segments_escalated(app, tmp_path) -> None:
    """One pooled cost-optimal threshold (all_segments mode) applies to every certified segment; a segment
    too small to certify still escalates."""
    th = {"schema": 1, "outcome": "good", "mode": "all_segments",
          "configs": {"alpha": {"threshold": 0.5, "certified": True,
                                "segments": {"long_history": {"threshold": None, "excluded": True}},
                                "cost_optimal": {"threshold": 0.85}}}}
    run_dir = write_run(tmp_path, make_scores(1), thresholds=th)
    r = CliRunner().invoke(app, ["project", str(run_dir), "--cost-optimal"])
    assert r.exit_code == 0, r.output
    doc, segs = _projected_segments(run_dir)
    assert segs == {"routine": 0.85, "legacy_discount": 0.85, "long_history": None}
    assert doc["configs"]["alpha"]["threshold"] == 0.85
    # chosen on the run's own mix: when the production mix's curve peaks elsewhere, the projection says so
    best = doc["configs"]["alpha"]["value_optimal_threshold"]
    said = [w for w in doc["warnings"] if "was made on the run's own case mix" in w]
    assert best != 0.85 and len(said) == 1 and f"peaks at threshold {best:.3g}" in said[0]


def test_cost_optimal_without_a_choice_is_bad_input(app, run_dir) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["project", str(run_dir), "--cost-optimal", "--config", "alpha"])
    assert r.exit_code == 2 and "no cost-optimal thresholds for config 'alpha'" in " ".join(r.output.split())
    r = runner.invoke(app, ["project", str(run_dir), "--cost-optimal", "--threshold", "0.7"])
    assert r.exit_code == 2 and "not both" in r.output


@pytest.mark.parametrize("bad", ["1.5", "-3", ".nan"])
def test_a_thresholds_file_outside_0_1_is_bad_input(app, run_dir, tmp_path, bad) -> None:
    """A threshold is a confidence: 1.5 silently escalated everything, -3 automated 88%, NaN escalated."""
    path = tmp_path / "thr.yaml"
    path.write_text(f"configs: {{alpha: {{threshold: {bad}}}}}\n")
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path)])
    assert r.exit_code == 2, r.output
    assert str(path) in " ".join(r.output.split()) and "configs.alpha.threshold" in r.output


def test_names_a_thresholds_file_has_but_the_run_lacks_are_warned(app, run_dir, tmp_path) -> None:
    path = tmp_path / "thr.yaml"
    path.write_text("mode: per_segment\nconfigs:\n  alphaa: {threshold: 0.5}\n"
                    "  alpha: {threshold: 0.6, segments: {routine: {threshold: 0.7}, nosuchseg: {threshold: 0.5}}}\n")
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path),
                                 "--config", "alpha", "--json"], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    doc = json.JSONDecoder().raw_decode(r.output[r.output.index("{"):])[0]  # stderr: "what-if ... not written"
    warnings = doc["warnings"]
    assert any("configuration 'alphaa' is not in this run" in w for w in warnings)
    assert any("segment(s) nosuchseg are not in this run" in w for w in warnings)
    # the file's hand-typed values are applied as the file's, never shown as risk-target thresholds
    alpha = doc["configs"]["alpha"]
    assert alpha["threshold_source"] == "thresholds file" and alpha["segments"]["routine"]["threshold"] == 0.7
    assert alpha["risk_target_threshold"] == 0.8 and "nosuchseg" not in alpha["risk_target_segments"]
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path)],
                           env={"COLUMNS": "250"})
    assert "nosuchseg" not in r.output.split("warning:")[0]  # not listed among the thresholds
    assert "alphaa" in r.output


def test_a_thresholds_file_must_cover_the_projected_configurations(app, run_dir, tmp_path) -> None:
    """A configuration the file lacks fell back silently to 'value_optimal (escalate all)'."""
    path = tmp_path / "thr.json"
    path.write_text(json.dumps({"configs": {"nosuchconfig": {"threshold": 0.9}}}))
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path)])
    out = " ".join(r.output.split())
    assert r.exit_code == 2 and str(path) in out and "alpha, beta" in out and "--config" in out, r.output


@pytest.mark.parametrize("text, key", [('{"configs": {"alpha": {"threshold": "0.9"}}}', "configs.alpha.threshold"),
                                       (('{"configs": {"alpha": {"threshold": 0.5, "segments": {"routine": '
                                        '{"threshold": "high"}}}}}'), "configs.alpha.segments.routine.threshold")])
def test_a_quoted_threshold_is_refused(app, run_dir, tmp_path, text, key) -> None:
    """"0.9" was coerced to 0.9 silently: a thresholds file gives numbers in [0, 1] (or null)."""
    path = tmp_path / "thr.json"
    path.write_text(text)
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path), "--config", "alpha"])
    out = " ".join(r.output.split())
    assert r.exit_code == 2 and str(path) in out and key in out and "number in [0, 1]" in out, r.output


def test_an_unparseable_thresholds_file_is_called_a_thresholds_file(app, run_dir, tmp_path) -> None:
    path = tmp_path / "thr.json"
    path.write_text("{not json")
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path)])
    out = " ".join(r.output.split())
    assert r.exit_code == 2 and "cannot parse thresholds file" in out and "mix" not in out, r.output


def test_confidences_outside_0_1_are_a_data_error_as_in_calibrate(app, tmp_path) -> None:
    df = make_scores(1)
    df.loc[df.index[:3], "confidence"] = 1.7
    th = {"schema": 1, "outcome": "good", "mode": "global", "configs": {"alpha": {"threshold": 0.8}}}
    run_dir = write_run(tmp_path, df, thresholds=th)
    r = CliRunner().invoke(app, ["project", str(run_dir)])
    assert r.exit_code == 2 and "confidence outside [0, 1] in 3 row(s)" in " ".join(r.output.split()), r.output


def test_automation_a_policy_escalates_is_exactly_zero_not_an_estimate(app, run_dir, tmp_path) -> None:
    """Escalating everything leaves nothing to estimate: automation was shown as 0% [0%, 0.4%] beside review
    hours of exactly the whole volume. Segments the policy escalates add exactly 0, also in a mixed policy."""
    r = CliRunner().invoke(app, ["project", str(run_dir)])
    assert r.exit_code == 0, r.output
    doc = json.loads((run_dir / "projection.json").read_text())
    beta = doc["configs"]["beta"]  # threshold null: escalate everything
    assert (beta["automation_rate"]["lo"], beta["automation_rate"]["value"], beta["automation_rate"]["hi"]) == (0, 0, 0)
    assert beta["escalated_rate"]["lo"] == beta["escalated_rate"]["hi"] == 1
    hours = beta["review_hours_per_month"]
    assert hours["lo"] == hours["hi"] == hours["value"]
    assert all(s["automation_rate"]["hi"] == 0 for s in beta["segments"].values())

    path = tmp_path / "thr.yaml"  # one segment automated, the others escalated by the policy
    path.write_text("mode: per_segment\nconfigs:\n  alpha: {threshold: null, segments: {routine: {threshold: 0.5}}}\n")
    r = CliRunner().invoke(app, ["project", str(run_dir), "--thresholds", str(path),
                                 "--config", "alpha", "--save"])
    assert r.exit_code == 0, r.output
    doc = json.loads((run_dir / "projection.json").read_text())
    alpha = doc["configs"]["alpha"]
    routine_share = doc["mix"]["routine"] / sum(doc["mix"].values())
    assert 0 < alpha["automation_rate"]["lo"] <= alpha["automation_rate"]["hi"] <= routine_share + 1e-12
    assert alpha["segments"]["legacy_discount"]["automation_rate"]["hi"] == 0


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_seed_out_of_range_is_bad_input(app, run_dir, seed) -> None:
    """numpy refuses negative seeds (and calibrate's above 2**32 - 1): exit 2 naming the range, no traceback."""
    r = CliRunner().invoke(app, ["project", str(run_dir), "--seed", seed])
    assert r.exit_code == 2 and "4294967295" in r.output, r.output


def test_suite_seed_out_of_range_names_where(run_dir) -> None:
    from project_synth import MIX

    from evalkit.economics import EconomicsSpec
    from evalkit.errors import ConfigError
    from evalkit.project import ProjectionSpec, project_run

    from pydantic import ValidationError

    with pytest.raises(ValidationError):  # a suite's projection.seed: refused when the suite is read
        ProjectionSpec(volume_per_month=1000, mix=MIX, seed=-1)
    spec = ProjectionSpec(volume_per_month=1000, mix=MIX).model_copy(update={"seed": -1})
    with pytest.raises(ConfigError, match="projection seed.*out of range"):
        project_run(run_dir, spec=spec, economics=EconomicsSpec())


def test_projecting_some_configurations_merges_into_projection_json(app, run_dir) -> None:
    """`--config X` replaced projection.json with X only: the report then said "projection not run" for every
    other configuration. Configurations merge, as calibrate merges its threshold set."""
    runner = CliRunner()
    assert runner.invoke(app, ["project", str(run_dir)]).exit_code == 0
    before = json.loads((run_dir / "projection.json").read_text())
    r = runner.invoke(app, ["project", str(run_dir), "--config", "alpha"])
    assert r.exit_code == 0, r.output
    doc = json.loads((run_dir / "projection.json").read_text())
    assert list(doc["configs"]) == ["alpha", "beta"] and doc["configs"]["beta"] == before["configs"]["beta"]
    assert "kept from the earlier projection" in r.output and "beta" in r.output
    assert any(w.startswith("beta:") for w in doc["warnings"]) == any(w.startswith("beta:") for w in before["warnings"])
    # other settings (here the seed in the spec) cannot share the file: said, not silent
    r = runner.invoke(app, ["project", str(run_dir), "--seed", "7", "--config", "alpha"])
    assert r.exit_code == 0 and "replaced" in r.output and "beta" in r.output, r.output
    assert list(json.loads((run_dir / "projection.json").read_text())["configs"]) == ["alpha"]


@pytest.mark.parametrize("what_if", [["--threshold", "0.3"], ["--volume", "1234"], ["--mix", "MIX"],
                                     ["--cap-turns", "3"], ["--cap-tokens", "500"]])
def test_a_what_if_is_not_written_unless_saved(app, run_dir, tmp_path, what_if) -> None:
    """--threshold/--thresholds/--mix/--volume silently became the projection the report shows. A what-if is
    printed and leaves projection.json alone; --save writes it, recording what it changed (`what_if`)."""
    mix = tmp_path / "mix.yaml"
    mix.write_text("routine: 0.5\nlegacy_discount: 0.25\nlong_history: 0.25\n")
    what_if = [str(mix) if a == "MIX" else a for a in what_if]
    runner = CliRunner()
    assert runner.invoke(app, ["project", str(run_dir)]).exit_code == 0
    suite_doc = (run_dir / "projection.json").read_bytes()
    assert json.loads(suite_doc)["what_if"] == []
    r = runner.invoke(app, ["project", str(run_dir), *what_if], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert (run_dir / "projection.json").read_bytes() == suite_doc
    assert "not written" in r.output and "--save" in r.output
    r = runner.invoke(app, ["project", str(run_dir), *what_if, "--save"])
    assert r.exit_code == 0, r.output
    saved = json.loads((run_dir / "projection.json").read_text())
    assert len(saved["what_if"]) == 1 and "what-if saved" in r.output
