"""The CI flow with a real provider: the openai SDK over HTTP against the loopback server
(no simulated shortcut in evalkit). The baseline is blessed once, with its answers; a
pull request's runs then call the server only for the configuration it changed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from realflow import CASES, ModelLog, ci_env, edit_candidate_prompt, evalkit, write_suite

from evalkit.testing import LoopbackServer


@pytest.fixture(scope="module")
def blessed(tmp_path_factory: pytest.TempPathFactory):
    """One server for the module (the endpoint is part of every cache key), a suite on it,
    and a baseline blessed once from a keyed run."""
    log = ModelLog()
    root = tmp_path_factory.mktemp("realflow")
    with LoopbackServer(responder=log) as server:
        suite = write_suite(root / "suite", server.openai_base_url)
        reports = root / "reports"
        proc = evalkit(["run", str(suite), "--quiet", "--reports", str(reports)], ci_env(root / "home-main"))
        assert proc.returncode == 0, proc.stderr
        bless_keys = set(server.hits)
        assert sum(server.hits.values()) == 2 * CASES and sorted(set(log.models)) == ["large", "small"]
        baseline = root / "baseline"
        proc = evalkit(["runs", "bless", "latest", str(baseline), "--reports", str(reports)],
                       ci_env(root / "home-main"))
        assert proc.returncode == 0, proc.stderr
        yield {"server": server, "log": log, "suite": suite, "baseline": baseline, "root": root,
               "bless_keys": bless_keys}


def _pr_run(blessed, variant: str, name: str, *extra: str):
    server, log = blessed["server"], blessed["log"]
    server.reset()
    log.models.clear()
    edit_candidate_prompt(blessed["suite"], variant)
    root = blessed["root"]
    reports = root / f"reports-{name}"
    proc = evalkit(["run", str(blessed["suite"]), "--quiet", "--baseline", str(blessed["baseline"]),
                    "--max-cost", "5", "--reports", str(reports)],
                   ci_env(root / f"home-{name}", GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(root / f"out-{name}")))
    run_dir = next(reports.iterdir())
    return proc, run_dir


def test_baseline_carries_a_compact_content_addressed_answer_bundle(blessed):
    pointer = json.loads((blessed["baseline"] / "answers" / "bundle.json").read_text())
    assert pointer["entries"] == 2 * CASES
    assert pointer["by_model"] == {"openai/large": CASES, "openai/small": CASES}
    bundle = blessed["baseline"] / "answers" / pointer["file"]
    assert pointer["file"].startswith(pointer["sha256"][:16]) and bundle.stat().st_size < 300 * CASES
    assert "sk-dummy" not in bundle.read_bytes().decode("latin-1")  # gzip of answers only, never the key


def test_harmless_rewording_passes_calling_only_the_changed_configuration(blessed):
    proc, run_dir = _pr_run(blessed, "upgrade-v1-reworded.j2", "reworded")
    assert proc.returncode == 0, proc.stderr
    server, log = blessed["server"], blessed["log"]
    assert sum(server.hits.values()) == CASES  # one call per case, for the candidate only
    assert set(log.models) == {"large"}
    assert not set(server.hits) & blessed["bless_keys"]  # nothing the baseline already answered
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["counts"]["cache_hits"] == CASES  # the control configuration, from the bundle
    outputs = dict(ln.split("=", 1) for ln in (blessed["root"] / "out-reworded").read_text().splitlines())
    assert outputs["verdict"] == "pass" and float(outputs["cost_usd"]) > 0


def test_clause_dropping_fails_naming_the_segment_calling_only_the_changed_configuration(blessed):
    proc, run_dir = _pr_run(blessed, "upgrade-v1-no-legacy.j2", "no-legacy")
    assert proc.returncode == 1, proc.stderr
    assert "legacy_pricing" in proc.stderr and "FAIL candidate" in proc.stderr
    assert "FAIL control" not in proc.stderr
    assert any(ln.startswith("::error ") and "legacy_pricing" in ln for ln in proc.stdout.splitlines())
    server, log = blessed["server"], blessed["log"]
    assert sum(server.hits.values()) == CASES and set(log.models) == {"large"}
    assert not set(server.hits) & blessed["bless_keys"]
    gates = json.loads((run_dir / "gates.json").read_text())
    failed = [r for r in gates["results"] if r["status"] == "fail"]
    assert [(r["config"], r["segments"]) for r in failed] == [("candidate", ["legacy_pricing"])]


def test_replay_is_fully_offline_from_the_bundle(blessed):
    """The unchanged suite under --replay in a job with an empty cache: no call at all."""
    server = blessed["server"]
    server.reset()
    edit_candidate_prompt(blessed["suite"], "upgrade-v1.j2")
    root = blessed["root"]
    proc = evalkit(["run", str(blessed["suite"]), "--replay", "--quiet", "--baseline", str(blessed["baseline"]),
                    "--reports", str(root / "reports-replay")], ci_env(root / "home-replay"))
    assert proc.returncode == 0, proc.stderr
    assert sum(server.hits.values()) == 0
    # A changed prompt under --replay is a cache miss: exit 3, never a paid call.
    edit_candidate_prompt(blessed["suite"], "upgrade-v1-reworded.j2")
    proc = evalkit(["run", str(blessed["suite"]), "--replay", "--quiet", "--baseline", str(blessed["baseline"]),
                    "--reports", str(root / "reports-replay2")], ci_env(root / "home-replay2"))
    assert proc.returncode == 3 and "candidate" in proc.stderr
    assert sum(server.hits.values()) == 0


def test_a_tampered_bundle_is_refused(blessed, tmp_path):
    import shutil

    baseline = Path(shutil.copytree(blessed["baseline"], tmp_path / "baseline"))
    pointer = json.loads((baseline / "answers" / "bundle.json").read_text())
    bundle = baseline / "answers" / pointer["file"]
    bundle.write_bytes(bundle.read_bytes()[:-8] + b"\0" * 8)
    proc = evalkit(["run", str(blessed["suite"]), "--replay", "--quiet", "--baseline", str(baseline),
                    "--reports", str(tmp_path / "r")], ci_env(tmp_path / "home"))
    assert proc.returncode == 2 and "sha256" in proc.stderr and pointer["file"] in proc.stderr


def test_workflow_commands_as_ci_runs_them(blessed, tmp_path):
    """The shipped workflow's jobs, step by step, with a dummy key: three shard jobs (only
    the changed configuration reaches the server), then the gate job merges, fails naming
    the segment, annotates, writes step outputs and links the report."""
    import yaml
    from realflow import REPO, Runner

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "evalkit.yml").read_text())
    server, log = blessed["server"], blessed["log"]
    server.reset()
    log.models.clear()
    edit_candidate_prompt(blessed["suite"], "upgrade-v1-no-legacy.j2")
    runner = Runner(workflow=workflow, root=tmp_path, secrets={"OPENAI_API_KEY": "sk-dummy-ci"},
                    overrides={"EVALKIT_SUITE": str(blessed["suite"]), "EVALKIT_BASELINE": str(blessed["baseline"])})
    shards = workflow["jobs"]["shard"]["strategy"]["matrix"]["shard"]
    assert len(shards) == int(workflow["env"]["EVALKIT_SHARDS"]) > 1
    for shard in shards:
        steps, ws = runner.run_job("shard", matrix={"shard": str(shard)})
        assert all(s.code == 0 for s in steps), [(s.name, s.code, s.stderr[-2000:]) for s in steps if s.code]
    assert sum(server.hits.values()) == CASES and set(log.models) == {"large"}
    assert not set(server.hits) & blessed["bless_keys"]
    for shard in shards:  # each shard saved its cache: the bundle's answers plus what it bought
        saved = next(p for p in runner.caches.iterdir() if p.name.startswith(f"evalkit-cache-{shard}-"))
        assert len(list(saved.rglob("*.json"))) > CASES

    steps, ws = runner.run_job("gate")
    by_name = {s.name: s for s in steps}
    merge = by_name["Merge the shards and gate against the baseline"]
    assert merge.code == 1, merge.stderr
    assert "legacy_pricing" in merge.stderr
    assert any(ln.startswith("::error ") and "legacy_pricing" in ln for ln in merge.stdout.splitlines())
    assert merge.outputs["verdict"] == "fail" and float(merge.outputs["good_rate_delta"]) < 0
    assert float(merge.outputs["cost_usd"]) > 0  # what the shards spent on the changed configuration
    assert all(s.code == 0 for s in steps if s is not merge), [(s.name, s.stderr) for s in steps if s.code]
    summary = (ws / ".step_summary.md").read_text()
    assert "legacy_pricing" in summary
    assert "[HTML report, JUnit and summary](https://artifacts.invalid/evalkit-report)" in summary
    assert (runner.artifacts / "evalkit-report" / "report.html").is_file()
    comment = (ws / ".gh.log").read_text()
    assert "pr comment 17" in comment and "legacy_pricing" in comment and "artifacts.invalid" in comment
