"""The generator's random streams are part of the published data: regenerating the shipped
upgrades@v2 (3,000 cases, seed 1) must give its very cases, whatever the generator's code does to
draw faster and however many cores publish them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from evalkit.dataset import Generated, generate_dataset, write_dataset
from evalkit.tasks import RangedGenerator, get_task

REPO = Path(__file__).resolve().parents[2]


def _cases(folder: Path) -> list[str]:
    return pq.read_table(folder / "cases.parquet", columns=["case_json"]).column("case_json").to_pylist()


def test_regenerating_the_shipped_dataset_gives_its_very_cases(tmp_path):
    shipped = REPO / "datasets" / "upgrades" / "v2"
    generator = json.loads((shipped / "manifest.json").read_text(encoding="utf-8"))["generator"]
    folder = generate_dataset("upgrades", n=generator["n"], seed=generator["seed"], store=tmp_path)
    assert _cases(folder) == _cases(shipped)


def test_every_core_publishes_the_same_bytes_as_one_process(tmp_path):
    task = get_task("upgrades")
    assert isinstance(task, RangedGenerator)
    parallel = write_dataset(Generated(task=task, n=2500, seed=11), name="p", version="v1", task=task,
                             store=tmp_path)
    serial = write_dataset(task.generate(2500, 11), name="s", version="v1", task=task, store=tmp_path)
    assert (parallel / "cases.parquet").read_bytes() == (serial / "cases.parquet").read_bytes()
    assert list(task.generate_range(1200, 1203, 11)) == list(task.generate(1203, 11))[1200:]
