"""A CI suite on a real provider (openai SDK over HTTP) against the loopback server, and
helpers to run evalkit as a CI job does: a subprocess with a dummy key, its own
EVALKIT_HOME, GITHUB_* files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CASES = 240  # ~26 legacy_pricing cases: enough for the paired test to see the dropped clause

SUITE = """\
name: upgrades-ci-openai
description: CI suite on an OpenAI-compatible endpoint (the loopback server in tests).
task: upgrades
dataset: upgrades@v1
seed: 7
sample: {{limit: {cases}, seed: 0}}
configs:
  - name: control            # not touched by the pull request: answered from the baseline's bundle
    provider: openai
    model: small
    prompt: prompts/control.j2
    options: {{base_url: "{base_url}"}}
    price: {{input: 0.15, output: 0.6}}
    params: {{temperature: 0, max_tokens: 400}}   # bounds each call for --max-cost
  - name: candidate          # the prompt the pull request edits
    provider: openai
    model: large
    prompt: prompts/candidate.j2
    options: {{base_url: "{base_url}"}}
    price: {{input: 2.5, output: 10.0}}
    params: {{temperature: 0, max_tokens: 400}}   # bounds each call for --max-cost
gates:
  - kind: max_good_rate_drop
    max_drop: 0.0
  - kind: max_invalid_share
    max: 0.05
  - kind: max_cost_p95_increase
    max_increase: 0.5
"""


def write_suite(folder: Path, base_url: str) -> Path:
    prompts = folder / "prompts"
    prompts.mkdir(parents=True, exist_ok=True)
    for name in ("control", "candidate"):
        shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", prompts / f"{name}.j2")
    path = folder / "suite.yaml"
    path.write_text(SUITE.format(cases=CASES, base_url=base_url))
    return path


def edit_candidate_prompt(suite: Path, variant: str) -> None:
    """What the pull request does: replace the candidate's prompt with a shipped variant."""
    shutil.copy(REPO / "suites" / "prompts" / variant, suite.parent / "prompts" / "candidate.j2")


def ci_env(home: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(REPO / "src"),
           "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"), "OPENAI_API_KEY": "sk-dummy-ci",
           "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra)
    return env


def evalkit(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd or REPO, timeout=900)


class ModelLog:
    """A loopback responder that records which model each request named, then answers
    with the simulated brain (as the default responder does)."""

    def __init__(self) -> None:
        self.models: list[str] = []

    def __call__(self, request):  # type: ignore[no-untyped-def]
        from evalkit.testing import default_responder

        self.models.append(request.model)
        return default_responder()(request)


# -- running the shipped workflow's jobs as GitHub Actions would ------------------------

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def substitute(text: str, values: dict[str, str]) -> str:
    """Replace ``${{ expr }}``; an expression the emulation does not know fails the test
    (so a workflow edit cannot silently go untested)."""
    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise AssertionError(f"workflow expression not emulated by the test: {key}")
        return values[key]

    return EXPR.sub(one, str(text))


@dataclass(kw_only=True)
class StepRun:
    name: str
    code: int
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class Runner:
    """The parts of a GitHub-hosted runner the workflow relies on, on this machine."""

    workflow: dict[str, Any]
    root: Path
    overrides: dict[str, str]
    """Workflow-level env values replaced by the test (which suite, which baseline)."""
    secrets: dict[str, str]
    artifacts: Path = field(init=False)
    caches: Path = field(init=False)

    def __post_init__(self) -> None:
        self.artifacts = self.root / "artifacts"
        self.caches = self.root / "caches"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.caches.mkdir(parents=True, exist_ok=True)

    def run_job(self, job_id: str, *, matrix: dict[str, str] | None = None) -> tuple[list[StepRun], Path]:
        job = self.workflow["jobs"][job_id]
        ws = self.root / f"ws-{job_id}-{'-'.join((matrix or {}).values()) or '0'}"
        ws.mkdir(parents=True)
        (ws / "datasets").symlink_to(REPO / "datasets")  # actions/checkout: the repository
        fake_bin = ws / ".fake-bin"
        fake_bin.mkdir()
        (fake_bin / "gh").write_text('#!/bin/sh\necho "$@" >> "$GH_LOG"\n'
                                     'while [ $# -gt 0 ]; do [ "$1" = --body-file ] && cat "$2" >> "$GH_LOG"; shift; done\n')
        (fake_bin / "gh").chmod(0o755)
        values = {"github.workspace": str(ws), "github.run_id": "4242", "github.event_name": "pull_request",
                  "github.token": "ghs-dummy", "github.event.pull_request.number": "17",
                  "vars.EVALKIT_MAX_COST_USD || '5'": "5"}
        values.update({f"secrets.{k}": v for k, v in self.secrets.items()})
        values.update({f"matrix.{k}": v for k, v in (matrix or {}).items()})
        summary = ws / ".step_summary.md"
        env = {"PATH": f"{fake_bin}:{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(ws),
               "PYTHONPATH": str(REPO / "src"), "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": str(ws),
               "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_SERVER_URL": "https://github.invalid",
               "GITHUB_REPOSITORY": "team/repo", "GITHUB_RUN_ID": "4242", "GH_LOG": str(ws / ".gh.log")}
        for source in (self.workflow.get("env") or {}, job.get("env") or {}):
            env.update({k: substitute(v, values) for k, v in source.items()})
        env.update(self.overrides)
        runs: list[StepRun] = []
        for i, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {i}"
            if "uses" in step:
                runs.append(self._action(step, name, values, ws))
            elif step["run"].strip().startswith("pip install"):
                runs.append(StepRun(name=name, code=0))  # evalkit is installed here already (PYTHONPATH)
            else:
                out_file = ws / f".output-{i}"
                out_file.touch()
                step_env = {**env, "GITHUB_OUTPUT": str(out_file),
                            **{k: substitute(v, values) for k, v in (step.get("env") or {}).items()}}
                proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                       substitute(step["run"], values)], cwd=ws, env=step_env,
                                      capture_output=True, text=True, timeout=900)
                outputs = dict(ln.split("=", 1) for ln in out_file.read_text().splitlines() if "=" in ln)
                runs.append(StepRun(name=name, code=proc.returncode, stdout=proc.stdout, stderr=proc.stderr,
                                    outputs=outputs))
            if "id" in step:
                values.update({f"steps.{step['id']}.outputs.{k}": v for k, v in runs[-1].outputs.items()})
                for key in ("artifact-url", "dir", "verdict", "good_rate_delta", "cost_usd"):
                    values.setdefault(f"steps.{step['id']}.outputs.{key}", "")
        return runs, ws

    def _action(self, step: dict[str, Any], name: str, values: dict[str, str], ws: Path) -> StepRun:
        action = step["uses"].split("@")[0]
        with_ = {k: substitute(v, values) for k, v in (step.get("with") or {}).items()}
        if action in ("actions/checkout", "actions/setup-python", "mikepenz/action-junit-report"):
            if action == "mikepenz/action-junit-report":
                assert Path(ws / with_["report_paths"]).is_file(), with_
            return StepRun(name=name, code=0)
        if action == "actions/cache/restore":
            prefixes = [with_["key"], *with_.get("restore-keys", "").split()]
            for prefix in prefixes:
                hits = sorted(p for p in self.caches.iterdir() if p.name.startswith(prefix))
                if hits:
                    shutil.copytree(hits[-1], ws / with_["path"], dirs_exist_ok=True)
                    return StepRun(name=name, code=0, outputs={"cache-hit": "true"})
            return StepRun(name=name, code=0)
        if action == "actions/cache/save":
            src = ws / with_["path"]
            assert src.is_dir(), f"{name}: nothing to save at {src}"
            shutil.copytree(src, self.caches / with_["key"])
            return StepRun(name=name, code=0)
        if action == "actions/upload-artifact":
            dest = self.artifacts / with_["name"]
            for line in with_["path"].split():
                src = ws / line
                assert src.exists(), f"{name}: {src} does not exist"
                if src.is_dir():
                    shutil.copytree(src, dest, dirs_exist_ok=True)
                else:
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copy(src, dest / src.name)
            return StepRun(name=name, code=0, outputs={"artifact-url": f"https://artifacts.invalid/{with_['name']}"})
        if action == "actions/download-artifact":
            pattern = with_["pattern"]
            dest = ws / with_["path"]
            for art in sorted(self.artifacts.glob(pattern)):
                shutil.copytree(art, dest if with_.get("merge-multiple") == "True" or
                                with_.get("merge-multiple") is True else dest / art.name, dirs_exist_ok=True)
            return StepRun(name=name, code=0)
        raise AssertionError(f"action not emulated by the test: {step['uses']}")
