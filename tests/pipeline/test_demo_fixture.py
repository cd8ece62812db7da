"""The refactored pipeline reproduces the demo exactly, and every file it writes has a typed owner.

``tests/fixtures/demo_summary.json`` is the summary.json of ``evalkit run suites/upgrades-demo.yaml
--fresh`` (all six configurations). When the simulated world or the scoring changes on purpose,
regenerate it with ``python scripts/regen_demo_summary.py`` and commit it with that change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.errors import DataError
from evalkit.runs import Summary, Thresholds, json_schemas, read_file

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_summary.json"


def test_demo_summary_numbers_are_identical_to_the_stored_demo(demo_run):
    stored = json.loads(FIXTURE.read_text())
    now = json.loads((demo_run.run_dir / "summary.json").read_text())
    assert set(now["configs"]) < set(stored["configs"])  # the session runs 3 of the demo's 6 configs
    for name, block in now["configs"].items():
        # exact: same cases, same seeds, same arithmetic (a config's numbers do not depend on the others)
        assert block == stored["configs"][name], f"config {name} differs from {FIXTURE.name}"
    assert {k: v for k, v in now.items() if k != "configs"} == {k: v for k, v in stored.items() if k != "configs"}
    Summary.model_validate(stored)


def test_every_file_of_the_demo_run_validates_against_its_json_schema(demo_run, tmp_path):
    import jsonschema

    from evalkit.gate import evaluate_gates, write_gate_outputs
    from evalkit.suite import parse_gates

    gates = parse_gates([{"kind": "min_good_rate", "min": 0.5, "per_segment": True},
                         {"kind": "min_automation_rate", "min": 0.1}, {"kind": "max_invalid_share", "max": 0.1}])
    write_gate_outputs(evaluate_gates(demo_run.run_dir, gates), tmp_path)  # gates.json of the demo run
    schemas = json_schemas()
    assert set(schemas) == {"manifest.json", "summary.json", "thresholds.json", "projection.json", "gates.json",
                            "judge.json"}
    for name, schema in schemas.items():
        path = (tmp_path if name == "gates.json" else demo_run.run_dir) / name
        doc = json.loads(path.read_text())
        jsonschema.validate(doc, schema)  # raises naming the failing path
        assert doc["schema"] == 1, name
    # Strict both ways: an unknown key fails the schema and the reader names it.
    doc = json.loads((demo_run.run_dir / "thresholds.json").read_text())
    doc["configs"]["large-v1"]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schemas["thresholds.json"])
    (tmp_path / "thresholds.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"thresholds.json: field configs.large-v1.surprise"):
        read_file(tmp_path / "thresholds.json", Thresholds)
