from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.dataset import load_dataset, write_dataset


@pytest.fixture
def run(store):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, ["dataset", *args, "--store", str(store)])

    return invoke


def _text(result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_generate_show_list_validate(run, store):
    r = run("generate", "toy", "--n", "30", "--seed", "4")
    assert r.exit_code == 0, _text(r)
    assert "published toy@v1: 30 cases" in r.output
    r = run("generate", "toy", "--n", "30", "--seed", "4", "--description", "same content")
    assert r.exit_code == 0 and "identical to toy@v1" in r.output and "nothing written" in r.output
    assert sorted(p.name for p in (store / "toy").iterdir()) == ["v1"]
    r = run("generate", "toy", "--n", "30", "--seed", "5", "--description", "second", "--parent", "toy@v1")
    assert r.exit_code == 0 and "toy@v2" in r.output

    r = run("show", "toy@latest")
    assert r.exit_code == 0, _text(r)
    for text in ("toy@v2", "cases per segment", "routine", "10", "33.3%", "seed=5", "second", "toy@v1"):
        assert text in r.output

    r = run("list")
    m1 = load_dataset("toy@v1", store=store).manifest
    assert r.exit_code == 0 and "toy@v1" in r.output and "toy@v2" in r.output
    assert m1.sha256[:12] in r.output

    r = run("validate", str(store / "toy" / "v1"))
    assert r.exit_code == 0, _text(r)
    assert "ok:" in r.output and "30 toy cases valid" in r.output


def test_modified_byte_fails_validate_show_and_list_verify_with_exit_2(run, store, toy):
    folder = write_dataset(toy.generate(20, 1), name="toy", version="v1", task=toy, store=store)
    parquet = folder / "cases.parquet"
    data = bytearray(parquet.read_bytes())
    data[100] ^= 0xFF
    parquet.write_bytes(bytes(data))
    for args in (("validate", str(folder)), ("show", "toy@v1")):
        r = run(*args)
        assert r.exit_code == 2, _text(r)
        assert f"{parquet}: content hash mismatch" in r.stderr
    r = run("list", "--verify")
    assert r.exit_code == 2 and "FAILED" in r.output
    assert f"{parquet}: content hash mismatch" in r.stderr


def test_import_bad_jsonl_exits_nonzero_names_rows_and_creates_nothing(run, store, toy, tmp_path):
    cases = [json.loads(c.model_dump_json()) for c in toy.generate(5, 2)]
    cases[0]["account"]["price"] = "cheap"
    cases[3]["variant"] = None
    src = tmp_path / "bad.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in cases))
    r = run("import", str(src), "--name", "imported", "--version", "v1", "--task", "toy")
    assert r.exit_code == 2
    assert f"{src}:line 1: field account.price:" in r.stderr
    assert f"{src}:line 4: field variant:" in r.stderr
    assert "2 of 5 rows are invalid" in r.stderr
    assert not (store / "imported").exists()


def test_import_good_file_then_diff(run, store, toy, tmp_path):
    cases = [json.loads(c.model_dump_json()) for c in toy.generate(6, 2)]
    src = tmp_path / "cases.jsonl"
    src.write_text("".join(json.dumps(c) + "\n" for c in cases))
    r = run("import", str(src), "--name", "imp", "--version", "v1", "--task", "toy", "--description", "six")
    assert r.exit_code == 0, _text(r)
    assert "published imp@v1: 6 cases" in r.output
    cases[0]["note"] = "changed"
    src2 = tmp_path / "cases2.jsonl"
    src2.write_text("".join(json.dumps(c) + "\n" for c in cases[:5]))
    r = run("import", str(src2), "--name", "imp", "--version", "v2", "--task", "toy", "--parent", "v1")
    assert r.exit_code == 0, _text(r)

    r = run("import", str(src2), "--name", "imp", "--version", "v2", "--task", "toy")
    assert r.exit_code == 2 and "immutable" in r.stderr

    r = run("diff", "imp@v1", "imp@v2")
    assert r.exit_code == 0, _text(r)
    assert "0 added, 1 removed, 1 changed, 4 unchanged" in r.output
    assert "removed: c00005" in r.output and "changed: c00000" in r.output
    assert "-1" in r.output


def test_unknown_ref_and_usage_errors_exit_2(run):
    r = run("show", "nothing@v1")
    assert r.exit_code == 2 and "not found" in r.stderr
    r = run("generate", "toy", "--n", "0", "--seed", "1")
    assert r.exit_code == 2
    r = run("import", "x.jsonl", "--name", "n")  # missing --version
    assert r.exit_code == 2


def test_env_store_is_the_default(store, toy):
    write_dataset(toy.generate(3, 1), name="toy", version="v1", task=toy, store=store)
    r = CliRunner().invoke(app, ["dataset", "list"])  # EVALKIT_DATASETS set by the store fixture
    assert r.exit_code == 0 and "toy@v1" in r.output


def test_list_verify_fails_a_version_whose_shipped_catalogue_was_modified(run, store, toy):
    folder = write_dataset(list(toy.generate(5, 1)), name="toy", version="v1", task=toy, store=store,
                           attachments={"catalogue.yaml": b"plans: [{name: plus, price: '20.00'}]\n"})
    r = run("list", "--verify")
    assert r.exit_code == 0, _text(r)
    (folder / "catalogue.yaml").write_bytes(b"plans: [{name: plus, price: '2.00'}]\n")
    r = run("list", "--verify")
    assert r.exit_code == 2, _text(r)
    assert "FAILED" in r.output and "catalogue.yaml: attachment does not match the manifest's SHA-256" in _text(r)
    r = run("list", "--verify", "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)[0]["hash_ok"] is False
