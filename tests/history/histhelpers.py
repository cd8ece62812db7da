"""Helpers for the history tests (suites written on the fly)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def write_suite(folder: Path, configs: str, *, name: str = "hist", dataset: str = "tiny@v1",
                prompts: tuple[str, ...] = ("upgrade-v1.j2",), extra: str = "") -> Path:
    """A suite file in ``folder`` with the shipped prompts it names copied next to it."""
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    for prompt in prompts:
        shutil.copy(REPO / "suites" / "prompts" / prompt, folder / "prompts" / prompt)
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\ntask: upgrades\ndataset: {dataset}\nseed: 3\n{extra}configs:\n{configs}")
    return path
