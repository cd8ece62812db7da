"""The README tour is a test: every ```bash block of README.md runs, in order, in a fresh copy
of the repository after `make demo`, and every command exits as the README says.

* The copy holds what a clone would (git's tracked and untracked-but-not-ignored files), so
  uncommitted work is tested too; in CI it *is* a fresh clone.
* `make demo` runs for real through the Makefile, reusing this interpreter's environment as
  `.venv` (``INSTALL=`` skips the install) and ``DEMO_ARGS=--limit 300`` to keep it quick.
* Each command's expected exit code is the number after "exit" in its trailing comment
  (``# ... exit 2``), else 0. A line marked ``# tour: skip`` is not run (``make test`` would
  run this very test).
* All blocks run in one bash session, so ``source .venv/bin/activate`` and variables carry over.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_ARGS = "--limit 300"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, re.DOTALL | re.MULTILINE)


def commands(block: str) -> list[tuple[str, int]]:
    """Logical commands (backslash continuations joined) with their expected exit codes."""
    out, pending = [], ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        full = (pending + line.strip()).strip()
        pending = ""
        if not full or full.startswith("#"):
            continue
        code, _, comment = full.partition("  #")
        if "tour: skip" in comment:
            continue
        match = re.search(r"\bexit (\d+)\b", comment)
        out.append((code.strip(), int(match.group(1)) if match else 0))
    return out


def tour_script(readme: str) -> str:
    lines = ["set -u", 'fail() { echo "TOUR FAILED: $1" >&2; exit 99; }']
    for n, block in enumerate(bash_blocks(readme), start=1):
        for code, expected in commands(block):
            if code == "make demo":
                code = f"make demo INSTALL= DEMO_ARGS='{DEMO_ARGS}'"
            quoted = code.replace("'", "'\\''")
            lines += [f"echo '$ {quoted}'", code, "rc=$?",
                      f"[ $rc -eq {expected} ] || fail 'block {n}: exit '$rc' (README says {expected}): {quoted}'"]
    return "\n".join(lines) + "\necho TOUR OK\n"


def test_tour_parser_reads_exit_codes():
    block = "a --x  # fine\nb \\\n  --y   # lists rows: exit 2\n# comment\nmake test  # tour: skip\n"
    assert commands(block) == [("a --x", 0), ("b --y", 2)]


def fresh_copy(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _refunds_plugin_installed() -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("evalkit-refunds")
        return True
    except PackageNotFoundError:
        return False


def _restore_refunds_plugin(installed_before: bool) -> None:
    """The tour installs examples/refunds as the README says, into the project's venv, editable from
    the throwaway clone: left there, the venv would hold a plugin whose folder is gone (every later
    `--task refunds` fails). Put the venv back as it was (a plugin installed before is taken to be
    this checkout's)."""
    pip = [sys.executable, "-m", "pip", "-q"]
    if installed_before:
        subprocess.run([*pip, "install", "-e", str(REPO / "examples" / "refunds")], check=False, timeout=300)
    elif _refunds_plugin_installed():
        subprocess.run([*pip, "uninstall", "-y", "evalkit-refunds"], check=False, timeout=300)


@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None, reason="needs make and git")
def test_readme_tour_runs_as_written(tmp_path):
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and len(bash_blocks(readme)) >= 4
    clone = tmp_path / "evalkit"
    fresh_copy(clone)
    assert not (clone / "reports").exists() or not [p for p in (clone / "reports").iterdir() if p.is_dir()]
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)  # `make test`'s venv
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVALKIT_") and k not in ("VIRTUAL_ENV",)}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(clone / "src"), COLUMNS="80", NO_COLOR="1",
               PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    script = tour_script(readme)
    (tmp_path / "tour.sh").write_text(script)
    plugin_before = _refunds_plugin_installed()
    try:
        r = subprocess.run(["bash", str(tmp_path / "tour.sh")], cwd=clone, env=env, capture_output=True, check=False,
                           text=True, timeout=900)
    finally:
        _restore_refunds_plugin(plugin_before)
    tail = (r.stdout[-6000:] + "\n--- stderr ---\n" + r.stderr[-4000:])
    assert r.returncode == 0 and "TOUR OK" in r.stdout, tail
    # The demo left a run and its report; the tour wrote where it said.
    runs = [p for p in (clone / "reports").iterdir() if (p / "manifest.json").is_file()]
    assert len(runs) >= 4 and all((p / "report.html").is_file() for p in runs)
    assert (clone / "datasets" / "mine" / "v2").is_dir() and not (clone / "datasets" / "mine" / "v3").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_announces_every_stage_and_installs_the_runtime_only(tmp_path):
    """On a fresh clone `make demo` creates the venv, installs uv, installs evalkit without the dev
    extras (byte-compiled), then runs the demo: each stage prints its own line, piped or not."""
    r = subprocess.run(["make", "-n", "demo", f"VENV={tmp_path / 'venv'}"], cwd=REPO, capture_output=True, check=False,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    stages = ["[1/3] creating", "[2/3] installing uv", "[3/3] installing evalkit", "==> demo: running"]
    positions = [out.find(s) for s in stages]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), out
    install = next(line for line in out.splitlines() if "pip install" in line and " -e ." in line)
    assert "--compile-bytecode" in install and "[dev]" not in install
    assert "netcal" not in out  # the test-only quirk stays in `make test`
    r = subprocess.run(["make", "-n", "test", f"VENV={tmp_path / 'venv'}"], cwd=REPO, capture_output=True, check=False,
                       text=True, timeout=60)
    assert "'.[dev]'" in r.stdout and "netcal" in r.stdout
