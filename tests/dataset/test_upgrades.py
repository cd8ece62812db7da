"""The store with the real ``upgrades`` task (skipped until the domain is importable)."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.dataset import generate_dataset, import_file, load_dataset, validate_path
from evalkit.dataset._import import json_cell
from evalkit.errors import DataError


@pytest.fixture(scope="module")
def upgrades():
    from evalkit.tasks import get_task

    return get_task("upgrades")  # a broken task must fail these tests, not skip them


def test_generate_round_trip_and_determinism(upgrades, store):
    first = generate_dataset(upgrades, n=40, seed=11, store=store)
    second = generate_dataset(upgrades, n=40, seed=11, store=store.parent / "elsewhere")
    assert (first.name, second.name) == ("v1", "v1")
    assert (first / "cases.parquet").read_bytes() == (second / "cases.parquet").read_bytes()
    assert generate_dataset(upgrades, n=40, seed=11, store=store) == first  # identical: not published again
    ds = validate_path(first, upgrades)
    assert list(ds.cases) == list(upgrades.generate(40, 11))
    assert sum(ds.manifest.segment_counts.values()) == 40
    assert set(ds.manifest.segment_counts) <= set(upgrades.segments)


def test_cli_generate_show_validate_and_tamper(upgrades, store):
    runner = CliRunner()
    r = runner.invoke(app, ["dataset", "generate", "upgrades", "--n", "30", "--seed", "2", "--store", str(store)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["dataset", "show", "upgrades@v1", "--store", str(store)])
    assert r.exit_code == 0 and "cases per segment" in r.output
    folder = store / "upgrades" / "v1"
    r = runner.invoke(app, ["dataset", "validate", str(folder)])
    assert r.exit_code == 0, r.output
    parquet = folder / "cases.parquet"
    data = bytearray(parquet.read_bytes())
    data[len(data) // 3] ^= 0x20
    parquet.write_bytes(bytes(data))
    r = runner.invoke(app, ["dataset", "validate", str(folder)])
    assert r.exit_code == 2
    assert f"{parquet}: content hash mismatch" in r.stderr


def _flatten(model, obj: dict, prefix: str = "") -> dict[str, str]:
    """A case as one CSV row: nested models as dotted columns, lists/dicts as JSON cells."""
    row: dict[str, str] = {}
    for key, value in obj.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and _is_model(model, dotted):
            row.update(_flatten(model, value, f"{dotted}."))
        elif value is None:
            row[dotted] = ""
        else:
            row[dotted] = json.dumps(value) if json_cell(model, dotted) else str(value)
    return row


def _is_model(model, dotted: str) -> bool:
    from pydantic import BaseModel

    from evalkit.dataset._import import _fields, _unwrap

    current = model
    annotation = None
    for part in dotted.split("."):
        fields = _fields(current)
        if part not in fields:
            return False
        annotation = fields[part]
        models = [t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        current = models[0] if models else None
        if current is None:
            return False
    return True


def test_jsonl_and_csv_import_of_real_cases(upgrades, store, tmp_path):
    cases = list(upgrades.generate(12, 5))
    dumped = [json.loads(c.model_dump_json()) for c in cases]
    src = tmp_path / "cases.jsonl"
    src.write_text("".join(json.dumps(d) + "\n" for d in dumped))
    import_file(src, name="up", version="v1", task="upgrades", store=store)
    assert list(load_dataset("up@v1", store=store).cases) == cases

    rows = [_flatten(upgrades.case_model, d) for d in dumped]
    header = sorted({k for r in rows for k in r})
    assert any("." in h for h in header), "the upgrades case should have nested fields"
    csv_path = tmp_path / "cases.csv"
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    import_file(csv_path, name="up", version="v2", task="upgrades", store=store)
    assert list(load_dataset("up@v2", store=store).cases) == cases

    dumped[3]["case_id"] = dumped[0]["case_id"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(d) + "\n" for d in dumped))
    with pytest.raises(DataError) as err:
        import_file(bad, name="up", version="v3", task="upgrades", store=store)
    assert any(":line 4: field case_id: duplicate" in p for p in err.value.problems)
    assert not (store / "up" / "v3").exists()
