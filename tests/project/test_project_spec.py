"""ProjectionSpec validation, mix files, spec from a run manifest."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from evalkit.errors import ConfigError
from evalkit.project import ContextCap, ProjectionSpec, load_mix_file, load_sweep_file, spec_for_run
from evalkit.runs import Manifest


def test_spec_defaults_and_validation() -> None:
    spec = ProjectionSpec(volume_per_month=10, mix={"routine": 0.7, "edge": 0.3})
    assert spec.resamples == 1000 and spec.naive_typical_cases == 5 and spec.naive_segment is None
    with pytest.raises(ValidationError, match="sum to 1.1"):
        ProjectionSpec(volume_per_month=10, mix={"routine": 0.8, "edge": 0.3})
    with pytest.raises(ValidationError, match="edge=-0.1"):
        ProjectionSpec(volume_per_month=10, mix={"routine": 1.1, "edge": -0.1})
    with pytest.raises(ValidationError, match="extra"):
        ProjectionSpec(volume_per_month=10, mix={"routine": 1.0}, volume=3)
    with pytest.raises(ValidationError, match="needs `threshold`"):
        ProjectionSpec(volume_per_month=10, mix={"routine": 1.0}, threshold_source="fixed")
    with pytest.raises(ValidationError, match="turns` or `tokens"):
        ContextCap()
    assert ContextCap(turns=3, tokens=100).label == "turns<=3,tokens<=100"


def test_mix_file_yaml_and_json(tmp_path) -> None:
    y = tmp_path / "mix.yaml"
    y.write_text("routine: 0.9\nlegacy_discount: 0.1\n")
    assert load_mix_file(y) == {"mix": {"routine": 0.9, "legacy_discount": 0.1}}
    j = tmp_path / "mix.json"
    j.write_text(json.dumps({"mix": {"routine": 1}, "volume_per_month": 1200}))
    assert load_mix_file(j) == {"mix": {"routine": 1.0}, "volume_per_month": 1200}


@pytest.mark.parametrize(("text", "needle"), [
    ("routine: 0.9\nedge: abc\n", "key `edge`"),
    ("mix: {routine: 0.9, edge: -0.1}\n", "key `mix.edge`"),
    ("routine: 0.5\nedge: 0.2\n", "sum to 0.7"),
    ("mix: {routine: 1.0}\nvolume: 3\n", "unknown key"),
    ("mix: {routine: 1.0}\nvolume_per_month: -3\n", "`volume_per_month`"),
    ("- routine\n", "mapping"),
    ("routine: [0.9\n", "cannot parse"),
])
def test_mix_file_errors_name_file_and_key(tmp_path, text: str, needle: str) -> None:
    f = tmp_path / "prod_mix.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_mix_file(f)
    assert str(f) in str(err.value) and needle in str(err.value)


def test_mix_file_missing(tmp_path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_mix_file(tmp_path / "nope.yaml")


def test_sweep_file_forms(tmp_path) -> None:
    f = tmp_path / "s.json"
    f.write_text("[0.9, 0.5, 0.5]")
    assert load_sweep_file(f) == [0.5, 0.9]
    f.write_text('{"configs": {"a": {"threshold": 0.7}}}')
    assert load_sweep_file(f)["configs"]["a"]["threshold"] == 0.7
    f.write_text("[1.5]")
    with pytest.raises(ConfigError, match=r"thresholds\[0\]"):
        load_sweep_file(f)


def test_spec_for_run_merges_suite_and_overrides(tmp_path) -> None:
    manifest = Manifest(run_id="r", seed=42, suite={"spec": {"projection": {
        "volume_per_month": 1000, "mix": {"routine": 1.0}, "context_caps": [{"turns": 5}]}}})
    spec = spec_for_run(manifest)
    assert spec.seed == 42 and spec.volume_per_month == 1000  # seed defaults to the run's
    mix = tmp_path / "mix.yaml"
    mix.write_text("mix: {routine: 0.5, edge: 0.5}\nvolume_per_month: 7\n")
    spec = spec_for_run(manifest, mix_file=mix, volume=99, seed=1, cap_tokens=2000)
    assert spec.mix == {"routine": 0.5, "edge": 0.5} and spec.volume_per_month == 99
    assert spec.seed == 1
    assert [c.label for c in spec.context_caps] == ["turns<=5", "tokens<=2000"]
    with pytest.raises(ConfigError, match="--volume N and --mix FILE"):
        spec_for_run(Manifest(run_id="r"))
    with pytest.raises(ConfigError, match="pass --volume N \\("):
        spec_for_run(Manifest(run_id="r", suite={"spec": {"projection": {"mix": {"routine": 1.0}}}}))
    with pytest.raises(ConfigError, match="suite projection"):
        spec_for_run(Manifest(run_id="r", suite={"spec": {"projection": {"volume_per_month": 10,
                                                                        "mix": {"routine": 2.0}}}}))
