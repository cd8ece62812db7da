"""Every JSON output of a run says which of its configurations are simulated (the console and the report
already did: tests/report/test_simulated_label.py): summary.json, thresholds.json (and `calibrate --json`),
judge.json and `compare --json`.

Two small runs of the same suite shape on a 48-case dataset, an LLM judge included: a mixed one (a `sim`
configuration and the simulated judge beside a configuration served by the loopback server, a "real"
provider) and a real one (both configurations and the judge on the loopback server) as the control, so
that the check can fail both ways. Before these fields existed none of these files said "simulated".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]


def _config(name: str, provider: str, model: str, base_url: str) -> str:
    options = f'options: {{base_url: "{base_url}"}}' if provider == "openai" else "options: {}"
    return f"""  - name: {name}
    provider: {provider}
    model: {model}
    prompt: prompts/upgrade-v1.j2
    params: {{temperature: 0}}
    price: {{input: 2.5, output: 10.0}}
    {options}
"""


def _suite(folder: Path, name: str, configs: str, judge: str) -> Path:
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", folder / "prompts")
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ntask: upgrades\ndataset: tiny@v1\nseed: 3\n"
                    f"scoring: {{outcome: good, judge: {judge}, judge_decides: false}}\n"
                    f"calibration: {{alpha: 0.2, delta: 0.2}}\nconfigs:\n{configs}")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"mixed": run folder, "real": run folder}, each scored and calibrated."""
    from evalkit.calibrate import CalibrationSpec, calibrate_run
    from evalkit.dataset import generate_dataset
    from evalkit.pipeline import RunRequest, run_suite
    from evalkit.testing import LoopbackServer

    base = tmp_path_factory.mktemp("sim-json")
    store = base / "datasets"
    generate_dataset("upgrades", n=48, seed=5, name="tiny", version="v1", store=store)
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALKIT_HOME", str(base / "home"))
    out = {}
    try:
        with LoopbackServer() as server:
            url = server.openai_base_url
            suites = {
                "mixed": _suite(base, "mixed", _config("simmed", "sim", "large", url)
                                + _config("served", "openai", "large", url), "{provider: sim, model: judge}"),
                "real": _suite(base, "real", _config("simmed", "openai", "small", url)
                               + _config("served", "openai", "large", url),
                               f'{{provider: openai, model: judge, options: {{base_url: "{url}"}}}}'),
            }
            for kind, suite in suites.items():
                outcome = run_suite(RunRequest(suite_path=suite, reports=base / "reports", datasets=store,
                                               progress=False, fresh=True, cache_mode="off"))
                calibrate_run(outcome.run_dir, spec=CalibrationSpec(alpha=0.2, delta=0.2))
                out[kind] = outcome.run_dir
    finally:
        mp.undo()
    return out


def _read(run: Path, name: str) -> dict:
    return json.loads((run / name).read_text())


def _cli(*args: str) -> dict:
    from evalkit.cli.main import app

    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, (args, res.output, res.exception)
    return json.loads(res.stdout)


def test_summary_json_says_which_configurations_are_simulated(runs):
    mixed, real = _read(runs["mixed"], "summary.json"), _read(runs["real"], "summary.json")
    assert {c: b["simulated"] for c, b in mixed["configs"].items()} == {"simmed": True, "served": False}
    assert mixed["simulated"] is True
    assert {c: b["simulated"] for c, b in real["configs"].items()} == {"simmed": False, "served": False}
    assert real["simulated"] is False


def test_thresholds_json_and_calibrate_json_say_which_configurations_are_simulated(runs, tmp_path):
    for kind, want in (("mixed", {"simmed": True, "served": False}), ("real", {"simmed": False, "served": False})):
        for doc in (_read(runs[kind], "thresholds.json"),
                    _cli("calibrate", str(shutil.copytree(runs[kind], tmp_path / kind)), "--json")):
            assert {c: b["simulated"] for c, b in doc["configs"].items()} == want, kind
            assert doc["simulated"] is any(want.values()), kind


def test_judge_json_says_whether_the_judge_and_the_judged_configurations_are_simulated(runs):
    mixed, real = _read(runs["mixed"], "judge.json"), _read(runs["real"], "judge.json")
    assert mixed["n_model_decisions_judged"] > 0 and real["n_model_decisions_judged"] > 0  # the judge ran
    assert (mixed["simulated"], mixed["judge_simulated"], mixed["simulated_configs"]) == (True, True, ["simmed"])
    assert (real["simulated"], real["judge_simulated"], real["simulated_configs"]) == (False, False, [])


def test_compare_json_says_which_side_is_simulated(runs):
    doc = _cli("compare", str(runs["mixed"]), "--config-a", "served", "--config-b", "simmed", "--json")
    assert (doc["simulated"], doc["base"]["simulated"], doc["cand"]["simulated"]) == (True, False, True)
    doc = _cli("compare", str(runs["real"]), "--config-a", "served", "--config-b", "simmed", "--json")
    assert (doc["simulated"], doc["base"]["simulated"], doc["cand"]["simulated"]) == (False, False, False)
    pairs = _cli("compare", str(runs["mixed"]), str(runs["real"]), "--json")  # every shared config, pair by pair
    assert pairs["simulated"] is True
    assert {p["base"]["config"]: (p["base"]["simulated"], p["cand"]["simulated"]) for p in pairs["pairs"]} == \
        {"simmed": (True, False), "served": (False, False)}


def test_the_json_schemas_describe_the_simulated_fields():
    from evalkit.runs import json_schemas

    schemas = json_schemas()
    for name in ("summary.json", "thresholds.json", "judge.json"):
        assert "simulated" in schemas[name]["properties"], name
    assert {"judge_simulated", "simulated_configs"} <= set(schemas["judge.json"]["properties"])
