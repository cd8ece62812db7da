"""A suite's price override takes the long-context ``tiers`` docs/providers.md documents
(``price: {input: 3.0, output: 15.0, tiers: [{above: 200000, input: 6.0, output: 22.5}]}``). The suite
schema refused them ("configs[0].price.tiers: Extra inputs are not permitted", in the file and with
``--set``) although ``evalkit.pricing`` prices them; now they are checked (``above`` > 0, prices >= 0,
ascending thresholds, no other keys) and a run charges a prompt above the threshold at the tier's rates
(the real openai SDK over real HTTP to a loopback server reporting the usage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evalkit.providers import ModelRequest, ModelResponse, Usage, sim_respond
from evalkit.suite._schema import PriceOverride
from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-price-tiers-0000"
TIERED = {"input": 3.0, "output": 15.0, "tiers": [{"above": 200000, "input": 6.0, "output": 22.5}]}
LONG, SHORT, OUT = 250_000, 1_000, 40


def evalkit(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "EVALKIT_TEST_KEY": KEY, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def long_prompt(request: ModelRequest) -> bool:
    import hashlib

    return hashlib.sha256(request.messages[-1].content.encode()).digest()[0] % 2 == 0


def responder(request: ModelRequest) -> ModelResponse:
    """The simulated model, reporting a prompt of 250,000 tokens for about half the cases (by hash), 1,000
    for the others, no cached tokens."""
    answer = sim_respond(request)
    usage = Usage(input_tokens=LONG if long_prompt(request) else SHORT, output_tokens=OUT, cached_tokens=0,
                  reasoning_tokens=0)
    return answer.model_copy(update={"usage": usage})


def _tiered_suite(tmp_path: Path, base_url: str, price: str) -> Path:
    suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                 base_url=base_url, name="tiers", limit=8)
    text = suite.read_text().replace("price: {input: 2.5, output: 10.0}", f"price: {price}")
    assert f"price: {price}" in text
    suite.write_text(text)
    return suite


def test_a_run_charges_the_tier_price_above_the_threshold(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=responder) as srv:
        suite = _tiered_suite(tmp_path, srv.openai_base_url,
                              "{input: 3.0, output: 15.0, tiers: [{above: 200000, input: 6.0, output: 22.5}]}")
        checked = evalkit(["suite", "validate", str(suite)], tmp_path, home)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        proc = evalkit(["run", str(suite), "--no-gates", "--reports", str(reports)], tmp_path, home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = [d for d in reports.iterdir() if d.is_dir()]
    results = pd.read_parquet(run_dir / "results.parquet")
    assert set(results["input_tokens"]) == {LONG, SHORT}, "the responder reports long and short prompts"
    expected = {LONG: (LONG * 6.0 + OUT * 22.5) / 1e6, SHORT: (SHORT * 3.0 + OUT * 15.0) / 1e6}
    for tokens, cost in zip(results["input_tokens"], results["cost_usd"], strict=True):
        assert cost == pytest.approx(expected[tokens], rel=1e-9), (tokens, cost)


def test_the_tiers_docs_providers_md_documents_validate():
    doc = (REPO / "docs" / "providers.md").read_text()
    assert "tiers: [{above: 200000" in doc
    price = PriceOverride.model_validate(TIERED)
    from evalkit.pricing import call_cost, lookup_price

    cost = call_cost(Usage(input_tokens=LONG, output_tokens=OUT), lookup_price("m", price.model_dump(exclude_none=True)))
    assert cost == pytest.approx((LONG * 6.0 + OUT * 22.5) / 1e6)
    from evalkit.suite import suite_json_schema

    tier = suite_json_schema()["$defs"]["PriceTier"]
    assert tier["additionalProperties"] is False and {"above", "input", "output"} <= set(tier["properties"])


@pytest.mark.parametrize(("tiers", "said"), [
    ([{"above": 0, "input": 6.0}], "tiers.0.above: Input should be greater than 0"),
    ([{"above": -5, "input": 6.0}], "tiers.0.above: Input should be greater than 0"),
    ([{"above": 200000, "input": -1.0}], "tiers.0.input: Input should be greater than or equal to 0"),
    ([{"above": 200000, "input": 6.0, "output": -2}], "tiers.0.output: Input should be greater than or equal"),
    ([{"above": 200000, "input": 6.0, "cache_read": -0.1}], "tiers.0.cache_read: Input should be greater"),
    ([{"above": 200000, "input": 6.0, "cache_write": -0.1}], "tiers.0.cache_write: Input should be greater"),
    ([{"above": 200000, "input": 6.0, "extra": 1}], "tiers.0.extra: Extra inputs are not permitted"),
    ([{"above": 200000}], "tiers.0: Value error, the tier above 200000 sets no price"),
    ([{"above": 300000, "input": 6.0}, {"above": 200000, "input": 5.0}], "tiers: Value error, tiers must be"),
    ([{"above": 200000, "input": 6.0}, {"above": 200000, "input": 7.0}], "tiers: Value error, tiers must be"),
])
def test_bad_tiers_are_refused_naming_the_field(tiers, said):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        PriceOverride.model_validate({**TIERED, "tiers": tiers})
    found = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.value.errors()]
    assert any(f.startswith(said) for f in found), found


def test_suite_validate_names_a_bad_tier_by_its_line(tmp_path):
    tiers = [{"above": 200000, "input": 6.0, "output": 22.5, "cache_red": 0.3}]
    suite = _tiered_suite(tmp_path, "http://127.0.0.1:9/v1", json.dumps({**TIERED, "tiers": tiers}))
    proc = evalkit(["suite", "validate", str(suite)], tmp_path, tmp_path / "home")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    said = " ".join((proc.stdout + proc.stderr).split())
    assert "suite.yaml:" in said and "configs[0].price.tiers[0].cache_red: Extra inputs are not permitted" in said, said


def test_tiers_by_set_are_checked_and_charged_like_the_file(tmp_path):
    """``--set configs.served.price.tiers=...`` was "Extra inputs are not permitted" whatever its value."""
    home, reports = tmp_path / "home", tmp_path / "reports"
    bad = evalkit(["run", str(_tiered_suite(tmp_path, "http://127.0.0.1:9/v1", "{input: 3.0, output: 15.0}")),
                   "--set", "configs.served.price.tiers=[{above: 1, input: 1, bogus: 2}]"], tmp_path, home)
    assert bad.returncode == 2
    assert "--set configs.served.price.tiers: configs[0].price.tiers[0].bogus: Extra inputs" in " ".join(
        bad.stderr.split()), bad.stderr
    good = yaml.safe_dump(TIERED["tiers"], default_flow_style=True).strip()
    with LoopbackServer(responder=responder) as srv:
        suite = _tiered_suite(tmp_path, srv.openai_base_url, "{input: 3.0, output: 15.0}")
        proc = evalkit(["run", str(suite), "--no-gates", "--limit", "4", "--reports", str(reports),
                        "--set", f"configs.served.price.tiers={good}"], tmp_path, home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = [d for d in reports.iterdir() if d.is_dir()]
    results = pd.read_parquet(run_dir / "results.parquet")
    expected = {LONG: (LONG * 6.0 + OUT * 22.5) / 1e6, SHORT: (SHORT * 3.0 + OUT * 15.0) / 1e6}
    assert [pytest.approx(expected[t], rel=1e-9) for t in results["input_tokens"]] == list(results["cost_usd"])
