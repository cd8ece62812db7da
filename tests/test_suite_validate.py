"""`evalkit suite validate` checks what `evalkit run` checks before its first call: the suite, its
templates, its catalogue, and every case of its dataset under that catalogue. It said "ok" for a
suite whose catalogue lacked the dataset's plans, which `run` then refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli.main import app

REPO = Path(__file__).resolve().parents[1]


def _suite(tmp_path: Path, catalogue: str | None) -> Path:
    shutil.copytree(REPO / "suites" / "prompts", tmp_path / "prompts")
    suite = yaml.safe_load((REPO / "suites" / "upgrades-demo.yaml").read_text())
    suite["configs"] = [c for c in suite["configs"] if c["name"] == "rules"]
    suite.pop("gates", None)
    suite.pop("baseline_config", None)
    if catalogue is not None:
        (tmp_path / "catalogue.yaml").write_text(catalogue)
        suite["catalogue"] = "catalogue.yaml"
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def test_a_suite_whose_catalogue_lacks_the_datasets_plans_is_not_ok(tmp_path):
    shipped = (REPO / "src" / "evalkit" / "tasks" / "upgrades" / "catalogue.yaml").read_text()
    ok = CliRunner().invoke(app, ["suite", "validate", str(_suite(tmp_path / "a", shipped)),
                                  "--datasets", str(REPO / "datasets")])
    assert ok.exit_code == 0, ok.output
    assert "3,000 cases valid" in ok.output and "catalogue catalogue.yaml" in ok.output
    renamed = shipped.replace("name: starter", "name: basic")  # the dataset's accounts are on 'starter'
    bad = CliRunner().invoke(app, ["suite", "validate", str(_suite(tmp_path / "b", renamed)),
                                   "--datasets", str(REPO / "datasets")])
    assert bad.exit_code == 2, bad.output
    assert "plan 'starter' is not in the catalogue" in bad.output and "row " in bad.output


@pytest.mark.parametrize(("override", "blamed"), [
    ("seed=abc", "--set seed: seed:"),
    ("nosuch.key=1", "--set nosuch.key: nosuch: Extra inputs"),
    ("configs.rules.params.max_tokens=-5", "--set configs.rules.params.max_tokens: configs[0].params"),
])
def test_a_bad_set_value_is_blamed_on_the_set_not_on_a_suite_line(override, blamed):
    """`--set seed=abc` was reported at `upgrades-demo.yaml:10`, and `--set nosuch.key=1` at line 4
    (`name:`): the value came from the command line."""
    out = CliRunner().invoke(app, ["run", str(REPO / "suites" / "upgrades-demo.yaml"), "--set", override],
                             env={"COLUMNS": "300"})
    assert out.exit_code == 2, out.output
    assert blamed in out.output and "upgrades-demo.yaml:" not in out.output


def test_a_gate_naming_a_configuration_the_suite_lacks_is_refused_with_its_line(tmp_path):
    """`configs: [lrage]` made the gate apply to nothing: validate said ok and run said passed."""
    path = _suite(tmp_path, None)
    suite = yaml.safe_load(path.read_text())
    suite["gates"] = [{"kind": "min_good_rate", "min": 0.99, "configs": ["rulez"]}]
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "rulez" in text)
    for args in (["suite", "validate", str(path)], ["run", str(path)]):
        out = CliRunner().invoke(app, [*args, "--datasets", str(REPO / "datasets")], env={"COLUMNS": "300"})
        assert out.exit_code == 2, out.output
        assert f"{path}:{line}: gates[0].configs[0]: configuration 'rulez'" in out.output
        assert "(rules)" in out.output


@pytest.mark.parametrize(("change", "said"), [
    ({"prompt": "prompts/typo.j2"}, "typo.j2:1: 'writen' is undefined; did you mean 'written'?"),
    ({"provider": "simm"}, "(provider simm): unknown provider 'simm'; known providers:"),
    ({"provider": "sim", "model": "huge"}, "(provider sim): model 'huge' is not a simulated model"),
])
def test_validate_makes_the_checks_run_makes_before_its_first_call(tmp_path, change, said):
    """An undefined template variable, an unknown provider or simulated model: validate said ok, run
    then refused (or failed mid-run). Validate now plans the run with run's own code."""
    path = _suite(tmp_path, None)
    (tmp_path / "prompts" / "typo.j2").write_text("Policy: {{ writen }}\n{{ facts }}\n")
    suite = yaml.safe_load(path.read_text())
    suite["configs"][0].update(change)
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    out = CliRunner().invoke(app, ["suite", "validate", str(path), "--datasets", str(REPO / "datasets")],
                             env={"COLUMNS": "300"})
    assert out.exit_code == 2, out.output
    assert said in out.output.replace("\n", "")


def test_validate_warns_of_segments_the_dataset_lacks(tmp_path):
    path = _suite(tmp_path, None)
    suite = yaml.safe_load(path.read_text())
    suite["projection"]["mix"] = {"routine": 0.62, "promotio": 0.38}
    suite["economics"]["error_cost_by_segment"] = {"adversaral": 400.0}
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    out = CliRunner().invoke(app, ["suite", "validate", str(path), "--datasets", str(REPO / "datasets")],
                             env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    lines = path.read_text().splitlines()
    for field, segment in (("projection.mix", "promotio"), ("economics.error_cost_by_segment", "adversaral")):
        line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith(f"{segment}:"))
        assert f"{path}:{line}: {field}.{segment}: segment '{segment}' is not in upgrades@" in out.output
    assert "ok (1 configurations" in out.output


def test_run_warns_of_segments_the_dataset_lacks_before_its_first_call(tmp_path):
    """Only `suite validate` said so: `evalkit run` flagged the mix typo after paying, the error-cost typo never."""
    path = _suite(tmp_path, None)
    suite = yaml.safe_load(path.read_text())
    suite["economics"]["error_cost_by_segment"] = {"adversaral": 400.0}
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    out = CliRunner().invoke(app, ["run", str(path), "--datasets", str(REPO / "datasets"), "--limit", "6", "-q",
                                   "--reports", str(tmp_path / "reports"), "--no-gates"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.strip().startswith("adversaral:"))
    text = out.output.replace("\n", " ")
    assert f"{path}:{line}: economics.error_cost_by_segment.adversaral: segment 'adversaral' is not in upgrades@" in text


@pytest.mark.parametrize("where, seed", [((), -3), ((), 2**32), (("sample",), -1), (("projection",), -3),
                                         (("calibration",), 2**32)])
def test_a_seed_out_of_numpys_range_is_refused_where_the_suite_gives_it(tmp_path, where, seed):
    """seed: -3 ran, then `evalkit project` failed on it (and calibrate wrote seed 0)."""
    path = _suite(tmp_path, None)
    suite = yaml.safe_load(path.read_text())
    node = suite
    for key in where:
        node = node.setdefault(key, {})
    node["seed"] = seed
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    out = CliRunner().invoke(app, ["suite", "validate", str(path), "--datasets", str(REPO / "datasets")])
    assert out.exit_code == 2, out.output
    said = " ".join(out.output.split())
    assert f"{'.'.join((*where, 'seed'))}: Input should be" in said, said
    assert ("greater than or equal to 0" if seed < 0 else "less than or equal to 4294967295") in said, said


@pytest.mark.parametrize("path_, value, said", [
    (("economics", "review_cost"), float("inf"), "economics.review_cost: Input should be a finite number"),
    (("economics", "error_cost"), float("inf"), "economics.error_cost: Input should be a finite number"),
    (("economics", "review_minutes"), float("nan"), "economics.review_minutes: Input should be a finite number"),
    (("economics", "error_cost_by_segment", "routine"), float("inf"),
     "economics.error_cost_by_segment.routine: Input should be a finite number"),
    (("scoring", "judge", "params", "temperature"), float("nan"),
     "scoring.judge.params: Value error, temperature must be a number from 0 to 2 (got nan)"),
])
def test_a_value_that_is_no_number_is_refused_before_the_run_pays_for_its_calls(tmp_path, path_, value, said):
    """economics.review_cost: .inf passed `suite validate`; the run sent every call, then its evaluation read
    the suite back from the manifest (where inf is null) and died with an internal error. A judge's NaN
    temperature passed too, where a configuration's was refused."""
    path = _suite(tmp_path, None)
    suite = yaml.safe_load(path.read_text())
    if path_[0] == "scoring":
        suite.setdefault("scoring", {})["judge"] = {"provider": "sim", "model": "large"}
    node = suite
    for key in path_[:-1]:
        node = node.setdefault(key, {})
    node[path_[-1]] = value
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    out = CliRunner().invoke(app, ["suite", "validate", str(path), "--datasets", str(REPO / "datasets")])
    assert out.exit_code == 2, out.output
    assert said in " ".join(out.output.split()), out.output
