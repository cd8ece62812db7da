"""CLI conventions through the real `evalkit` process: --version, EVALKIT_* variables shown in
--help and honoured, --json on stdout, NO_COLOR, 80-column output, exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# NO_COLOR (no-color.org) removes colour; bold or italic may stay. SGR 30-49 and 90-107 are colours.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def evalkit(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    full = {**os.environ, "COLUMNS": "80", **(env or {})}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=full,
                          capture_output=True, check=False, text=True, timeout=300, **kw)


def test_version_matches_the_package():
    from evalkit import __version__

    r = evalkit("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"evalkit {__version__}"


def test_every_option_has_an_evalkit_variable_shown_in_help():
    import typer

    from evalkit.cli.main import app

    root = typer.main.get_command(app)

    def walk(cmd, path):
        yield path, cmd
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            yield from walk(sub, [*path, name])

    missing, seen = [], {}
    for path, cmd in walk(root, []):
        for p in cmd.params:
            if p.param_type_name != "option" or p.name == "help" or (p.name == "version" and not path) \
                    or "completion" in p.name:
                continue
            if not (isinstance(p.envvar, str) and p.envvar.startswith("EVALKIT_") and p.show_envvar):
                missing.append(f"{' '.join(path)} {p.opts}")
            seen[p.envvar] = seen.get(p.envvar, 0) + 1
    assert not missing, missing
    assert seen["EVALKIT_LIMIT"] >= 1 and "EVALKIT_DIFF_LIMIT" in seen  # same word, different meaning: own name
    assert seen["EVALKIT_DATASET_VERSION"] == 2  # import and generate (the root's --version has none)
    r = evalkit("run", "--help", env={"COLUMNS": "200"})
    assert "EVALKIT_MAX_COST" in r.stdout and "EVALKIT_REPORTS" in r.stdout


def test_a_variable_several_commands_read_means_one_thing():
    """EVALKIT_NAME once set both a dataset's name and the threshold set calibrate writes; every variable
    that more than one command reads is now listed with its one meaning (cli/_conventions.SHARED)."""
    import typer

    from evalkit.cli._conventions import SHARED
    from evalkit.cli.main import app

    readers: dict[str, set[str]] = {}

    def walk(cmd, path):
        for p in cmd.params:
            if p.param_type_name == "option" and isinstance(p.envvar, str):
                readers.setdefault(p.envvar, set()).add(path)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    shared = {var: sorted(paths) for var, paths in readers.items() if len(paths) > 1}
    assert {var: paths for var, paths in shared.items() if var not in SHARED} == {}
    assert readers["EVALKIT_THRESHOLD_SET"] == {"calibrate", "project", "report"}
    assert readers["EVALKIT_DATASET_NAME"] == {"dataset import", "dataset generate"}
    assert "EVALKIT_NAME" not in readers and "EVALKIT_OUT" not in readers
    assert readers["EVALKIT_SAMPLE_SEED"] == {"run"} and readers["EVALKIT_GENERATE_SEED"] == {"dataset generate"}


def test_environment_variables_set_options_and_the_command_line_wins(tmp_path):
    store = tmp_path / "store"
    env = {"EVALKIT_DATASETS": str(store), "EVALKIT_HOME": str(tmp_path / "home")}
    r = evalkit("dataset", "generate", "upgrades", "--n", "40", "--seed", "3", env=env)
    assert r.returncode == 0, r.stderr
    assert (store / "upgrades" / "v1").is_dir()  # --store came from EVALKIT_DATASETS
    # EVALKIT_N / EVALKIT_GENERATE_SEED supply required options; a flag beats its variable.
    r = evalkit("dataset", "generate", "upgrades", "--n", "30", env={**env, "EVALKIT_GENERATE_SEED": "9"})
    assert r.returncode == 0 and json.loads((store / "upgrades" / "v2" / "manifest.json").read_text())[
        "generator"]["seed"] == 9
    r = evalkit("dataset", "generate", "upgrades", "--seed", "4", env={**env, "EVALKIT_N": "25"})
    assert r.returncode == 0 and "25 cases" in r.stdout


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("conv")
    env = {"EVALKIT_HOME": str(tmp / "home"), "EVALKIT_REPORTS": str(tmp / "reports"),
           "EVALKIT_DATASETS": str(REPO / "datasets")}
    # EVALKIT_LIMIT and EVALKIT_CONFIG (a list, split on whitespace) are the run's --limit and --config.
    r = evalkit("run", str(REPO / "suites" / "upgrades-demo.yaml"), "--quiet",
                env={**env, "EVALKIT_LIMIT": "160", "EVALKIT_CONFIG": "rules large-v1 large-playbook"})
    assert r.returncode in (0, 1), r.stderr
    (run_dir,) = [p for p in (tmp / "reports").iterdir() if (p / "manifest.json").is_file()]
    return run_dir, env


def test_run_options_from_the_environment(small_run):
    run_dir, _ = small_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["dataset"]["sampled_rows"] == 160  # exactly --limit, stratified
    assert sorted(c["name"] for c in manifest["configs"]) == ["large-playbook", "large-v1", "rules"]


@pytest.mark.parametrize("args, key", [
    (["dataset", "list", "--json"], None),
    (["dataset", "show", "upgrades@v1", "--json"], "manifest"),
    (["calibrate", "RUN", "--json"], "configs"),
    (["project", "RUN", "--json"], "configs"),
    (["gate", "RUN", "--json", "--no-write"], "results"),
])
def test_json_outputs_are_json_on_stdout(small_run, args, key):
    run_dir, env = small_run
    r = evalkit(*[str(run_dir) if a == "RUN" else a for a in args], env=env)
    # a gate verdict on this 160-case sample may be a failure (exit 1): --json reports it all the same
    assert r.returncode in ((0, 1) if args[0] == "gate" else (0,)), r.stderr
    doc = json.loads(r.stdout)  # the whole of stdout
    if key is None:
        assert isinstance(doc, list) and any(d["ref"] == "upgrades@v1" and d["manifest"]["row_count"] == 3000
                                             for d in doc)
    else:
        assert doc.get(key)
    if args[0] == "gate":
            assert doc["passed"] is (r.returncode == 0) and {x["config"] for x in doc["results"]} >= {"large-playbook"}


def test_tables_fit_80_columns_and_no_color_means_no_escape_codes(small_run):
    run_dir, env = small_run
    for args in (["calibrate", str(run_dir)], ["project", str(run_dir)],
                 ["dataset", "list"], ["compare", str(run_dir), "--config-a", "large-v1", "--config-b",
                                         "large-playbook"]):
        r = evalkit(*args, env={**env, "NO_COLOR": "1", "FORCE_COLOR": "1", "TERM": "xterm-256color"})
        assert r.returncode == 0, (args, r.stderr)
        assert not COLOUR.search(r.stdout), args
        widest = max(len(ANSI.sub("", line)) for line in r.stdout.splitlines())
        assert widest <= 80, (args, widest)
    r = evalkit("calibrate", str(run_dir), env={**env, "FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert COLOUR.search(r.stdout)  # colour is there to turn off
    r = evalkit("calibrate", str(run_dir), env=env)  # piped: plain text
    assert not ANSI.search(r.stdout)


def test_compare_two_runs_covers_every_shared_configuration(small_run, tmp_path):
    run_dir, env = small_run
    other = tmp_path / "other"  # the same run under another name: every configuration is shared
    shutil.copytree(run_dir, other)
    r = evalkit("compare", str(run_dir), str(other), "--json", env=env)
    assert r.returncode == 0, r.stderr
    pairs = json.loads(r.stdout)["pairs"]
    assert [(p["base"]["config"], p["cand"]["config"]) for p in pairs] == [
        ("large-playbook", "large-playbook"), ("large-v1", "large-v1"), ("rules", "rules")]
    assert all(p["n_paired"] == 160 and p["outcomes"]["good"]["overall"]["diff"] == 0 for p in pairs)
    r = evalkit("compare", str(run_dir), str(other), "--config-a", "rules", "--config-b", "large-v1", "--json",
                env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["cand"]["config"] == "large-v1"
    r = evalkit("compare", str(run_dir), str(other), env=env)
    assert r.returncode == 0 and "pair 3 of 3" in r.stdout and "all pairs" in r.stdout


def test_gate_on_a_suite_without_gates_exits_2(small_run, tmp_path):
    run_dir, env = small_run
    bare = tmp_path / "bare.yaml"
    bare.write_text("name: bare\ndataset: upgrades@v1\nconfigs:\n  - {name: rules, provider: rules, model: x, "
                    f"prompt: {REPO / 'suites' / 'prompts' / 'upgrade-v1.j2'}}}\n")
    r = evalkit("gate", str(run_dir), "--suite", str(bare), env=env)
    assert r.returncode == 2 and "no gates" in r.stderr
