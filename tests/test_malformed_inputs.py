"""Malformed inputs through the real CLI: each gives exit 2 (bad input) or 3, a message that
names the file and the place in it (line, row, field, or the option), no traceback, and
leaves nothing behind (no run folder, no dataset version, no half-written file).

Covers dataset imports, suites, templates, CLI arguments and corrupt run artifacts.
Runs the real Typer app in-process (``CliRunner``) for speed; one case goes through
the installed entry point to show the unexpected-error path (exit 3, a log, one line).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "suites" / "baselines" / "upgrades-ci"

GOOD_SUITE = """\
name: bad-inputs
dataset: upgrades@v1
sample: {limit: 5, seed: 1}
configs:
  - name: c
    provider: sim
    model: small
    prompt: prompts/p.j2
"""
TEMPLATE = (REPO / "suites" / "prompts" / "upgrade-v1.j2").read_text(encoding="utf-8")
CASE = {"case_id": "upg-x-1", "segment": "routine"}  # deliberately incomplete: a row with missing fields


def _valid_rows() -> list[dict]:
    import pyarrow.parquet as pq

    rows = pq.read_table(REPO / "datasets" / "upgrades" / "v1" / "cases.parquet").slice(0, 3).to_pylist()
    return [json.loads(r["case_json"]) for r in rows]


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _surrogate_rows() -> str:
    rows = _valid_rows()
    rows[1]["request"]["message"] = "please \ud800 upgrade"
    return _jsonl(rows)  # json.dumps writes the lone surrogate as the escape \ud800


def _duplicate_rows() -> str:
    rows = _valid_rows()
    rows[2]["case_id"] = rows[0]["case_id"]
    return _jsonl(rows)


@dataclass(frozen=True, kw_only=True)
class Case:
    args: list[str]
    needles: list[str]
    """Fragments the message must contain: the file (or option) and the place in it."""
    files: dict[str, str | bytes] = field(default_factory=dict)
    """Workspace files to write before the command (relative path -> text or bytes)."""
    run_copy: dict[str, bytes | None] | None = None
    """Copy the committed baseline run to ./run, then overwrite (bytes) or delete (None) these files."""
    code: int = 2
    damage: Callable[[Path], None] | None = None
    """Run on the workspace after the files (and the run copy) are in place: damage written by this version."""


def suite(text: str = GOOD_SUITE, template: str | bytes = TEMPLATE) -> dict[str, str | bytes]:
    return {"suite.yaml": text, "prompts/p.j2": template}


def edit(old: str, new: str) -> dict[str, str | bytes]:
    assert old in GOOD_SUITE
    return suite(GOOD_SUITE.replace(old, new))


RUN = ["run", "suite.yaml", "--quiet"]
OPENAI_SUITE = GOOD_SUITE.replace("provider: sim", "provider: openai").replace(
    "    model: small\n", "    model: small\n    options: {base_url: 'http://127.0.0.1:9/v1'}\n")
FLIPPED = b"PAR1" + b"\x00garbage, not a parquet body" * 20 + b"PAR1"

def _checksummed_flip(name: str, *, at: float = 0.5) -> Callable[[Path], None]:
    """Record the copied run's checksums (as a run of this version does), then flip one byte of ``name``."""

    def damage(ws: Path) -> None:
        from evalkit._checksums import artifact_checksums

        run = ws / "run"
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        manifest["checksums"] = artifact_checksums(run)
        (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        data = bytearray((run / name).read_bytes())
        if name.endswith(".json"):  # other valid JSON: a number changed
            text = data.decode()
            i = next(i for i in range(int(len(text) * at), len(text)) if text[i].isdigit())
            data[i] = ord("7" if text[i] != "7" else "3")
        else:
            data[int(len(data) * at)] ^= 0x01
        (run / name).write_bytes(bytes(data))

    return damage


def _corrupt_cache_entry(ws: Path) -> None:
    """A valid cache entry for the suite's second call, then edited into other valid JSON."""
    from evalkit.providers import ModelResponse
    from evalkit.run._cache import ResponseCache
    from evalkit.run._request import RunRequest
    from evalkit.run._setup import plan_run
    from evalkit.suite import load_suite

    plan = plan_run(load_suite(ws / "suite.yaml"), RunRequest(suite_path=ws / "suite.yaml"))
    cache = ResponseCache()
    for call in plan.calls:
        cache.put(call.request, ModelResponse(text='{"action": "approve", "confidence": 0.9}'))
    path = cache.path_for(plan.calls[1].request.cache_key())
    path.write_bytes(path.read_bytes().replace(b"approve", b"deny", 1))


CASES: dict[str, Case] = {
    # ---- suites ---------------------------------------------------------------------------------
    "yaml syntax": Case(files=edit("    model: small\n", "    model: [small\n"), args=RUN,
                        needles=["suite.yaml:", "not valid YAML"]),
    "yaml tab indent": Case(files=edit("    model: small\n", "\tmodel: small\n"), args=RUN,
                            needles=["suite.yaml:7:", "not valid YAML"]),
    "top level is a list": Case(files=suite("- a\n- b\n"), args=RUN, needles=["suite.yaml:1", "mapping"]),
    "unknown top-level key": Case(files=edit("sample:", "colour: red\nsample:"), args=RUN,
                                  needles=["suite.yaml:3", "colour", "Extra inputs"]),
    "unknown config key": Case(files=edit("    model: small\n", "    model: small\n    temprature: 0\n"), args=RUN,
                               needles=["suite.yaml:8", "configs[0].temprature"]),
    "wrong type": Case(files=edit("sample: {limit: 5, seed: 1}", "sample: {limit: five, seed: 1}"), args=RUN,
                       needles=["suite.yaml:3", "sample.limit"]),
    "missing dataset": Case(files=edit("dataset: upgrades@v1\n", ""), args=RUN,
                            needles=["suite.yaml", "dataset", "Field required"]),
    "duplicate config names": Case(files=suite(GOOD_SUITE + GOOD_SUITE.split("configs:\n")[1]), args=RUN,
                                   needles=["suite.yaml", "unique", "c"]),
    "bad name pattern": Case(files=edit("name: bad-inputs", "name: 'bad inputs!'"), args=RUN,
                             needles=["suite.yaml:1", "name"]),
    "not UTF-8 suite": Case(files=suite(GOOD_SUITE.replace("model: small", "model: sm\xe9all").encode("latin-1")),
                            args=RUN, needles=["suite.yaml:7", "UTF-8"]),
    "lone surrogate in suite": Case(files=edit("name: bad-inputs\n", 'name: bad-inputs\ndescription: "x\\ud800"\n'),
                                    args=RUN, needles=["suite.yaml", "description", "surrogate"]),
    "suite is a folder": Case(files={"folder/x.txt": "x"}, args=["run", "folder", "--quiet"],
                              needles=["folder", "folder, not a suite"]),
    "suite not found": Case(args=["run", "nosuch.yaml", "--quiet"], needles=["nosuch.yaml", "not found"]),
    "unknown dataset": Case(files=edit("upgrades@v1", "upgrades@v99"), args=RUN, needles=["upgrades@v99"]),
    "unknown provider": Case(files=edit("provider: sim", "provider: simm"), args=RUN,
                             needles=["suite.yaml", "configs[c]", "simm"]),
    "unknown provider option": Case(files=suite(OPENAI_SUITE.replace("base_url:", "bogus: 1, base_url:")), args=RUN,
                                    needles=["suite.yaml", "configs[c]", "bogus"]),
    "key in base_url": Case(files=edit("    model: small\n", "    model: small\n    options: "
                                       "{base_url: 'http://u:sk-live-0123456789abcdef@127.0.0.1:9/v1'}\n"),
                            args=RUN, needles=["suite.yaml", "configs[0].options.base_url", "api_key_env"]),
    # ---- templates ------------------------------------------------------------------------------
    "prompt not found": Case(files=edit("prompts/p.j2", "prompts/nope.j2"), args=RUN,
                             needles=["suite.yaml:8", "configs[c].prompt", "nope.j2"]),
    "prompt is a folder": Case(files=edit("prompts/p.j2", "prompts"), args=RUN,
                               needles=["suite.yaml:8", "configs[c].prompt", "folder"]),
    "prompt outside the suite folder": Case(files=edit("prompts/p.j2", "../outside.j2"), args=RUN,
                                            needles=["suite.yaml:8", "outside the suite"]),
    "template syntax error": Case(files=suite(template="line one\n{% if %}\n"), args=RUN,
                                  needles=["p.j2:2", "syntax"]),
    "missing include": Case(files=suite(template="ok\n\n{% include 'parts/missing.j2' %}\n"), args=RUN,
                            needles=["p.j2:3", "missing.j2", "not found"]),
    "division by zero at render": Case(files=suite(template="Case\n{{ 1/0 }}\n"), args=RUN,
                                       needles=["p.j2:2", "ZeroDivisionError", "configuration c"]),
    "undefined variable": Case(files=suite(template="{% block user %}\n{{ no_such_var }}\n{% endblock %}\n"),
                               args=RUN, needles=["p.j2:2", "no_such_var"]),
    "not UTF-8 template": Case(files=suite(template="caf\xe9 {{ facts }}\n".encode("latin-1")), args=RUN,
                               needles=["p.j2:1", "UTF-8"]),
    # ---- CLI arguments --------------------------------------------------------------------------
    "--limit 0": Case(files=suite(), args=[*RUN, "--limit", "0"], needles=["--limit"]),
    "--limit -1": Case(files=suite(), args=[*RUN, "--limit", "-1"], needles=["--limit"]),
    "--sample 0": Case(files=suite(), args=[*RUN, "--sample", "0"], needles=["--sample", "(0, 1]"]),
    "--sample 1.5": Case(files=suite(), args=[*RUN, "--sample", "1.5"], needles=["--sample", "(0, 1]"]),
    "--sample -1": Case(files=suite(), args=[*RUN, "--sample", "-1"], needles=["--sample"]),
    "--limit not a number": Case(files=suite(), args=[*RUN, "--limit", "ten"], needles=["--limit"]),
    "--max-cost -1": Case(files=suite(), args=[*RUN, "--max-cost", "-1"], needles=["--max-cost"]),
    "--baseline nosuch": Case(files=suite(), args=[*RUN, "--baseline", "nosuch"], needles=["nosuch", "not found"]),
    "--config nosuch": Case(files=suite(), args=[*RUN, "--config", "nosuch"], needles=["--config", "nosuch"]),
    "--set without =": Case(files=suite(), args=[*RUN, "--set", "configs.c.model"], needles=["--set", "KEY=VALUE"]),
    "--set unknown item": Case(files=suite(), args=[*RUN, "--set", "configs.nosuch.model=x"],
                               needles=["--set configs.nosuch.model", "nosuch"]),
    "--set into a value": Case(files=suite(), args=[*RUN, "--set", "name.x=1"], needles=["--set name.x", "name"]),
    "--resume nosuch": Case(args=["run", "--resume", "nosuch", "--quiet"], needles=["nosuch"]),
    "calibrate --alpha 1.5": Case(run_copy={}, args=["calibrate", "run", "--alpha", "1.5"], needles=["--alpha"]),
    # ---- dataset imports ------------------------------------------------------------------------
    "import bad JSON line": Case(files={"in.jsonl": _jsonl(_valid_rows()[:1]) + "{not json\n"},
                                 args=["dataset", "import", "in.jsonl", "--name", "t", "--version", "v1",
                                       "--store", "store"], needles=["in.jsonl:line 2", "invalid JSON"]),
    "import not UTF-8": Case(files={"in.jsonl": b'{"case_id": "caf\xe9"}\n'},
                             args=["dataset", "import", "in.jsonl", "--name", "t", "--version", "v1",
                                   "--store", "store"], needles=["in.jsonl:line 1", "UTF-8"]),
    "import lone surrogate": Case(files={"in.jsonl": _surrogate_rows()},
                                  args=["dataset", "import", "in.jsonl", "--name", "t", "--version", "v1",
                                        "--store", "store"], needles=["in.jsonl:line 2", "request.message"]),
    "import missing fields": Case(files={"in.jsonl": _jsonl([CASE])},
                                  args=["dataset", "import", "in.jsonl", "--name", "t", "--version", "v1",
                                        "--store", "store"], needles=["in.jsonl:line 1", "field"]),
    "import duplicate case id": Case(files={"in.jsonl": _duplicate_rows()},
                                     args=["dataset", "import", "in.jsonl", "--name", "t", "--version", "v1",
                                           "--store", "store"], needles=["in.jsonl:line 3", "duplicate"]),
    "import CSV extra cells": Case(files={"in.csv": "case_id,segment\nx,routine,extra\n"},
                                   args=["dataset", "import", "in.csv", "--name", "t", "--version", "v1",
                                         "--store", "store"], needles=["in.csv:data row 1 (line 2)", "cells"]),
    "import unknown file type": Case(files={"in.txt": "hello\n"},
                                     args=["dataset", "import", "in.txt", "--name", "t", "--version", "v1",
                                           "--store", "store"], needles=["in.txt", ".txt"]),
    # ---- corrupt run artifacts ------------------------------------------------------------------
    "report: corrupt scores.parquet": Case(run_copy={"scores.parquet": FLIPPED}, args=["report", "run"],
                                           needles=["scores.parquet"]),
    "gate: corrupt scores.parquet": Case(run_copy={"scores.parquet": FLIPPED}, args=["gate", "run"],
                                         needles=["scores.parquet"]),
    "gate: scores.parquet cut short": Case(run_copy={"scores.parquet": b"PAR1\x00\x01"}, args=["gate", "run"],
                                           needles=["scores.parquet"]),
    "calibrate: corrupt scores.parquet": Case(run_copy={"scores.parquet": FLIPPED}, args=["calibrate", "run"],
                                              needles=["scores.parquet"]),
    "project: corrupt scores.parquet": Case(run_copy={"scores.parquet": FLIPPED},
                                            args=["project", "run", "--volume", "1000", "--mix", "mix.yaml"],
                                            files={"mix.yaml": "routine: 0.5\npromotion: 0.5\n"},
                                            needles=["scores.parquet"]),
    "report: manifest not JSON": Case(run_copy={"manifest.json": b'{"run_id": "x", '}, args=["report", "run"],
                                      needles=["manifest.json", "line 1"]),
    "report: corrupt results.parquet": Case(run_copy={"results.parquet": FLIPPED}, args=["report", "run"],
                                            needles=["results.parquet"]),
    "gate: scores missing": Case(run_copy={"scores.parquet": None}, args=["gate", "run"],
                                 needles=["scores.parquet"]),
    "gate: one byte flipped in scores.parquet": Case(run_copy={}, damage=_checksummed_flip("scores.parquet"),
                                                     args=["gate", "run"],
                                                     needles=["run/scores.parquet: corrupt", "checksum"]),
    "report: one byte flipped in results.parquet": Case(run_copy={}, damage=_checksummed_flip("results.parquet"),
                                                        args=["report", "run"],
                                                        needles=["run/results.parquet: corrupt", "checksum"]),
    "gate: one byte flipped in results.parquet": Case(run_copy={}, damage=_checksummed_flip("results.parquet", at=0.3),
                                                      args=["gate", "run"],
                                                      needles=["run/results.parquet: corrupt", "checksum"]),
    "calibrate: one byte flipped in scores.parquet": Case(run_copy={}, damage=_checksummed_flip("scores.parquet", at=0.4),
                                                          args=["calibrate", "run"],
                                                          needles=["run/scores.parquet: corrupt", "checksum"]),
    "run: cache entry edited into other valid JSON": Case(
        files=suite(OPENAI_SUITE), run_copy={}, damage=_corrupt_cache_entry, args=RUN,
        needles=["corrupt response-cache entry", "cache/responses/", "case ", "nothing was sent"]),
    "run --replay: corrupt cache entry": Case(
        files=suite(OPENAI_SUITE), run_copy={}, damage=_corrupt_cache_entry, args=[*RUN, "--replay"],
        needles=["--replay: cached answer for case", "is corrupt", "cache/responses/"]),
}


_MACHINE_CACHES = ("home/tokenizers", "home/templates")
"""Paid once per machine, whichever command first needs them (the tokenizer's marshal copy, compiled
templates): not something a failed command leaves behind. Which test of a process loads the tokenizer
first depends on the order tests run in. Anything else under home (an error log) still counts."""


def _tree(root: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if rel == "home" or any(rel == c or rel.startswith(c + "/") for c in _MACHINE_CACHES):
            continue
        out[rel] = p.read_bytes() if p.is_file() else None
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_is_a_clear_error(name, tmp_path, monkeypatch):
    case = CASES[name]
    ws = tmp_path / "ws"
    ws.mkdir()
    for rel, content in case.files.items():
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    if case.run_copy is not None:
        shutil.copytree(BASELINE, ws / "run")
        for rel, content in case.run_copy.items():
            if content is None:
                (ws / "run" / rel).unlink()
            else:
                (ws / "run" / rel).write_bytes(content)
    home = tmp_path / "home"
    monkeypatch.setenv("EVALKIT_HOME", str(home))
    monkeypatch.setenv("EVALKIT_DATASETS", str(REPO / "datasets"))
    monkeypatch.setenv("EVALKIT_REPORTS", str(ws / "reports"))
    monkeypatch.chdir(ws)
    if case.damage is not None:
        case.damage(ws)
    before = _tree(tmp_path)
    result = CliRunner().invoke(app, case.args)
    output = result.output
    assert result.exit_code == case.code, f"exit {result.exit_code}: {output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    for needle in case.needles:
        assert needle in output, f"{needle!r} missing from: {output}"
    after = _tree(tmp_path)
    assert after == before, f"left behind or changed: {sorted(set(after) ^ set(before)) or 'file contents'}"


def test_malformed_cases_cover_every_kind_of_input():
    kinds = {"suite": 0, "template": 0, "cli": 0, "import": 0, "artifact": 0}
    for name, case in CASES.items():
        if case.args[:2] == ["dataset", "import"]:
            kinds["import"] += 1
        elif case.run_copy or case.damage is not None:
            kinds["artifact"] += 1
        elif name.startswith("-") or " --" in name:
            kinds["cli"] += 1
        elif "template" in name or "prompt" in name or "include" in name or "render" in name or "variable" in name:
            kinds["template"] += 1
        else:
            kinds["suite"] += 1
    assert len(CASES) >= 30 and all(n >= 5 for n in kinds.values()), kinds


def test_unexpected_error_is_one_line_exit_3_and_a_redacted_log(tmp_path):
    """Through the installed entry point: an internal error (here a template filter that
    raises) prints one line naming the log, exits 3 (never 1), and the log holds the
    traceback without the key from the environment."""
    key = "sk-test-CANARY-unexpected-0001"
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "OPENAI_API_KEY": key,
           "PYTHONPATH": os.pathsep.join(sys.path)}
    code = ("import sys; from evalkit.cli import main as m\n"
            "def boom():\n"
            f"    raise RuntimeError('boom with {key} inside')\n"
            "m.app.registered_commands[0].callback = boom\n"
            "sys.argv = ['evalkit', 'run']\n"
            "m.main()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and key not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RuntimeError" in lines[0] and "traceback saved to" in lines[0]
    logs = list((tmp_path / "home" / "logs").glob("*.log"))
    assert len(logs) == 1 and str(logs[0]) in lines[0]
    text = logs[0].read_text()
    assert "Traceback" in text and "boom with" in text and key not in text
