from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from evalkit.dataset import (
    Manifest,
    generate_dataset,
    list_versions,
    load_dataset,
    manifest_json_schema,
    natural_key,
    next_version,
    resolve_ref,
    validate_path,
    write_dataset,
)
from evalkit.errors import DataError, NotFound


def _umask() -> int:
    import os

    current = os.umask(0)
    os.umask(current)
    return current


def _publish(toy, store, version="v1", n=30, seed=1, **kw):
    return write_dataset(toy.generate(n, seed), name="toy", version=version, task=toy,
                         description="toy cases", store=store, **kw)


def test_round_trip_keeps_every_field_and_type(toy, store):
    original = list(toy.generate(30, 1))
    folder = _publish(toy, store)
    ds = load_dataset("toy@v1", task=toy, store=store)
    assert ds.path == folder
    assert list(ds.cases) == original
    first = ds.cases[0]
    assert isinstance(first.account.price, Decimal) and isinstance(first.account.renews_on, date)
    assert list(ds.table.columns) == ["case_id", "segment", "variant", "case_json"]
    assert folder.stat().st_mode & 0o055 == (0o777 & ~_umask()) & 0o055  # readable like any new folder
    assert ds.table["case_id"].tolist() == [c.case_id for c in original]
    assert ds.table["case_json"].iloc[3] == original[3].model_dump_json()


def test_manifest_facts(toy, store):
    folder = _publish(toy, store, generator={"task": "toy", "n": 30, "seed": 1})
    raw = json.loads((folder / "manifest.json").read_text())
    m = Manifest.model_validate(raw)
    assert (m.name, m.version, m.task, m.row_count, m.parent) == ("toy", "v1", "toy", 30, None)
    assert m.segment_counts == {"adversarial": 10, "promotion": 10, "routine": 10}
    assert sum(m.variant_counts.values()) == 30
    assert m.created.utcoffset().total_seconds() == 0
    assert m.generator == {"task": "toy", "n": 30, "seed": 1}
    import hashlib
    assert m.sha256 == hashlib.sha256((folder / "cases.parquet").read_bytes()).hexdigest()
    assert set(raw) == set(manifest_json_schema()["properties"])
    with pytest.raises(ValidationError, match="surprise"):
        Manifest.model_validate({**raw, "surprise": 1})  # extra="forbid"


def test_same_cases_give_identical_parquet_bytes(toy, store):
    a = _publish(toy, store, "v1")
    b = _publish(toy, store, "v2")
    c = _publish(toy, store, "v3", seed=2)
    assert (a / "cases.parquet").read_bytes() == (b / "cases.parquet").read_bytes()
    assert (a / "cases.parquet").read_bytes() != (c / "cases.parquet").read_bytes()


def _flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_modified_parquet_is_refused_naming_the_file(toy, store):
    folder = _publish(toy, store)
    _flip_one_byte(folder / "cases.parquet")
    for check in (lambda: load_dataset("toy@v1", store=store), lambda: validate_path(folder, toy)):
        with pytest.raises(DataError) as err:
            check()
        msg = str(err.value)
        assert str(folder / "cases.parquet") in msg
        assert "content hash mismatch" in msg and "modified after it was published" in msg


def test_missing_files_and_bad_manifest_name_the_file(toy, store):
    folder = _publish(toy, store)
    (folder / "cases.parquet").unlink()
    with pytest.raises(DataError, match=r"cases\.parquet: missing case table"):
        load_dataset(folder)
    folder2 = _publish(toy, store, "v2")
    manifest = folder2 / "manifest.json"
    raw = json.loads(manifest.read_text())
    raw["row_count"] = "many"
    manifest.write_text(json.dumps(raw))
    with pytest.raises(DataError) as err:
        load_dataset(folder2)
    assert str(manifest) in str(err.value)
    assert any("field row_count" in p for p in err.value.problems)
    manifest.write_text("{not json")
    with pytest.raises(DataError, match="unreadable manifest"):
        load_dataset(folder2)


def test_published_version_is_immutable(toy, store):
    folder = _publish(toy, store)
    before = (folder / "cases.parquet").read_bytes()
    with pytest.raises(DataError, match="immutable") as err:
        _publish(toy, store, seed=9)
    assert "v2" in str(err.value)  # suggests the next free version
    assert (folder / "cases.parquet").read_bytes() == before
    assert [p.name for p in (store / "toy").iterdir()] == ["v1"]  # no temp folder left


def test_failed_publish_leaves_nothing(toy, store):
    cases = list(toy.generate(5, 1))
    cases.append(cases[1])  # duplicate id
    bad = cases[2].model_dump()
    bad["account"]["seats"] = 0
    cases[2] = bad
    with pytest.raises(DataError) as err:
        write_dataset(cases, name="toy", version="v1", task=toy, store=store)
    assert any("case #3: field account.seats" in p for p in err.value.problems)
    assert any("case #6: field case_id: duplicate" in p for p in err.value.problems)
    assert not (store / "toy").exists()

    def exploding():
        yield from toy.generate(3, 1)
        raise RuntimeError("generator crashed")

    with pytest.raises(RuntimeError):
        write_dataset(exploding(), name="toy", version="v1", task=toy, store=store)
    assert not (store / "toy").exists()
    with pytest.raises(DataError, match="no cases"):
        write_dataset([], name="toy", version="v1", task=toy, store=store)


def test_refs_latest_uses_natural_order(toy, store):
    for v in ("v1", "v2", "v10", "v9"):
        _publish(toy, store, v)
    assert sorted(["v10", "v2", "v1", "v9"], key=natural_key) == ["v1", "v2", "v9", "v10"]
    assert resolve_ref("toy@latest", store) == store / "toy" / "v10"
    assert load_dataset("toy@latest", store=store).manifest.version == "v10"
    assert load_dataset(store / "toy" / "v2").manifest.version == "v2"  # a folder path
    assert next_version("toy", store) == "v11"
    assert next_version("fresh", store) == "v1"
    with pytest.raises(NotFound, match="versions: v1, v2, v9, v10"):
        resolve_ref("toy@v3", store)
    with pytest.raises(NotFound, match="did you mean toy@latest"):
        resolve_ref("toy", store)
    with pytest.raises(NotFound):
        resolve_ref("nope@latest", store)
    with pytest.raises(DataError, match="invalid dataset version"):
        resolve_ref("toy@../../etc", store)


def test_temp_folders_are_invisible(toy, store):
    _publish(toy, store)
    (store / "toy" / ".tmp-v5-abc").mkdir()
    (store / "toy" / "v7").mkdir()  # no manifest: not published
    assert resolve_ref("toy@latest", store).name == "v1"
    assert [(e.name, e.version) for e in list_versions(store)] == [("toy", "v1")]


def test_parent_must_exist(toy, store):
    with pytest.raises(NotFound, match="parent 'v0'"):
        _publish(toy, store, parent="v0")
    with pytest.raises(NotFound, match="parent 'toy@v0'"):
        _publish(toy, store, parent="toy@v0")
    _publish(toy, store)
    # A bare version, NAME@VERSION, NAME@latest and the folder all name the same parent, recorded as NAME@VERSION.
    for n, ref in enumerate(("v1", "toy@v1", str(store / "toy" / "v1")), start=2):
        assert load_dataset(_publish(toy, store, f"v{n}", parent=ref)).manifest.parent == "toy@v1"
    assert load_dataset(_publish(toy, store, "v5", parent="toy@latest")).manifest.parent == "toy@v4"


def test_validate_path_checks_counts_and_rows(toy, store):
    folder = _publish(toy, store)
    assert validate_path(folder, toy).manifest.row_count == 30
    manifest = folder / "manifest.json"
    raw = json.loads(manifest.read_text())
    raw["segment_counts"]["routine"] = 11
    manifest.write_text(json.dumps(raw))
    with pytest.raises(DataError) as err:
        validate_path(folder, toy)
    assert any("segment_counts" in p for p in err.value.problems)


def test_validate_reports_rows_that_no_longer_fit_the_model(toy, store, monkeypatch):
    """A re-published table whose JSON breaks the case model: every bad row is named."""
    import pyarrow as pa

    from evalkit.dataset import _parquet
    folder = _publish(toy, store)
    ds = load_dataset(folder)
    rows = ds.arrow.to_pylist()
    for i in (1, 4):
        case = json.loads(rows[i]["case_json"])
        case["account"]["seats"] = "lots"
        rows[i]["case_json"] = json.dumps(case)
    path = folder / "cases.parquet"
    _parquet.write_rows(path, [tuple(r.values()) for r in rows])
    raw = json.loads((folder / "manifest.json").read_text())
    raw["sha256"] = _parquet.sha256_file(path)
    (folder / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(DataError) as err:
        validate_path(folder, toy)
    assert [p.split(": field")[0].rsplit(":", 1)[1] for p in err.value.problems] == [
        "row 2 (case_id c00001)", "row 5 (case_id c00004)"]
    assert all("account.seats" in p for p in err.value.problems)
    with pytest.raises(DataError):
        _ = load_dataset(folder).cases  # lazy validation fails the same way
    assert isinstance(ds.arrow, pa.Table)
    # a subset names the same stored rows (it once counted rows within the subset), in the order asked
    with pytest.raises(DataError) as err:
        load_dataset(folder).select(["c00004", "c00000", "c00007"])
    assert [p.split(": field")[0].rsplit(":", 1)[1] for p in err.value.problems] == ["row 5 (case_id c00004)"]
    good = load_dataset(folder).select(["c00009", "c00000", "c00007"])
    assert [c.case_id for c in good] == ["c00000", "c00007", "c00009"]  # stored order


def test_generate_dataset_defaults(toy, store):
    folder = generate_dataset("toy", n=12, seed=3)
    m = load_dataset("toy@v1").manifest
    assert folder == store / "toy" / "v1"
    assert m.generator == {"task": "toy", "n": 12, "seed": 3}
    assert "seed 3" in m.description
    again = generate_dataset("toy", n=12, seed=3)  # same seed, same bytes: not published twice
    assert again == folder and sorted(p.name for p in (store / "toy").iterdir()) == ["v1"]
    other = generate_dataset("toy", n=12, seed=4)
    assert other.name == "v2" and (folder / "cases.parquet").read_bytes() != (other / "cases.parquet").read_bytes()


@pytest.mark.parametrize(("name", "version"), [("toy", "latest"), ("toy", "../v1"), ("a/b", "v1"),
                                               (".hidden", "v1"), ("toy", "v1@x"), ("", "v1")])
def test_unsafe_or_reserved_labels_are_refused(toy, store, name, version):
    with pytest.raises(DataError, match="invalid dataset"):
        _publish_named(toy, store, name, version)
    assert not store.exists() or not any(store.rglob("*.parquet"))


def _publish_named(toy, store, name, version):
    return write_dataset(toy.generate(3, 1), name=name, version=version, task=toy, store=store)


def test_cli_module_imports_no_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys, evalkit.cli._dataset; "
            "heavy = [m for m in ('pandas', 'pyarrow', 'pydantic', 'rich') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("slice_rows", [1, 7, 1000])
def test_cases_validate_the_same_a_slice_at_a_time(toy, store, monkeypatch, slice_rows):
    """Validation decodes the case JSON a slice at a time (memory); the cases must not depend on it."""
    from evalkit.dataset import _rows

    folder = _publish(toy, store)
    whole = [c.model_dump() for c in load_dataset(folder).cases]
    monkeypatch.setattr(_rows, "_SLICE_ROWS", slice_rows)
    assert [c.model_dump() for c in load_dataset(folder).cases] == whole
    ids = [c["case_id"] for c in whole]
    picked = load_dataset(folder).select(ids[3::4])
    assert [c.model_dump() for c in picked] == whole[3::4]
