"""The one YAML reader (evalkit._yaml): a key given twice is an error naming the key, the file and
its line (PyYAML's safe_load kept the last one silently), and syntax errors name the file."""

from __future__ import annotations

import pytest
import yaml

from evalkit import _yaml
from evalkit.errors import ConfigError

PRICE_TWICE = """\
plans:
  - name: plus
    seat_price: {monthly: "20.00", annual: "200.00", monthly: "2.00"}
"""


def test_a_key_given_twice_is_refused_with_the_file_the_key_and_both_lines():
    with pytest.raises(_yaml.DuplicateKeyError) as caught:
        _yaml.load("cohorts:\n  early-2020: 15\n  early-2020: 40\n", source="catalogue.yaml")
    message = _yaml.describe(caught.value, "catalogue.yaml")
    assert message.startswith("catalogue.yaml:3:3: duplicate key 'early-2020' (first given on line 2)")
    assert 'in "catalogue.yaml", line 3' in str(caught.value)


def test_a_key_given_twice_inside_a_flow_mapping_is_refused():
    with pytest.raises(yaml.MarkedYAMLError, match="duplicate key 'monthly'"):  # callers' handlers catch it
        _yaml.load(PRICE_TWICE, source="c.yaml")


def test_top_level_keys_given_twice_are_refused():
    with pytest.raises(_yaml.DuplicateKeyError, match="duplicate key 'case_id' .first given on line 1"):
        _yaml.load("case_id: Acct\ncase_id: Ticket\n")


def test_a_number_and_its_text_and_merge_keys_are_not_duplicates():
    assert _yaml.load("1: a\n'1': b\n") == {1: "a", "1": "b"}
    assert _yaml.load("base: &b {x: 1, y: 2}\nd: {<<: *b, x: 3}\n")["d"] == {"x": 3, "y": 2}


def test_syntax_errors_name_the_file_not_unicode_string():
    with pytest.raises(yaml.YAMLError) as caught:
        _yaml.load("a: [1, 2\n", source="suite.yaml")
    assert "<unicode string>" not in str(caught.value)
    assert 'in "suite.yaml"' in str(caught.value)
    assert _yaml.describe(caught.value, "suite.yaml").startswith("suite.yaml:2:1: not valid YAML: expected ','")


def test_load_config_turns_yaml_problems_into_a_config_error():
    with pytest.raises(ConfigError, match=r"^--set x:1:8: duplicate key 'a'"):
        _yaml.load_config("{a: 1, a: 2}", source="--set x")
    assert _yaml.load_config("{a: 1, b: [2]}", source="--set x") == {"a": 1, "b": [2]}


def test_key_lines_give_each_key_path_its_line():
    assert _yaml.key_lines("fields:\n  case_id: Ticket\n  account.seats: {column: Seats}\n") == {
        ("fields",): 1, ("fields", "case_id"): 2, ("fields", "account.seats"): 3, ("fields", "account.seats", "column"): 3}


def test_a_catalogue_with_a_price_given_twice_is_refused(tmp_path):
    from evalkit.tasks.upgrades._catalogue import parse_catalogue

    with pytest.raises(ConfigError, match=r"^cat\.yaml:3:54: duplicate key 'monthly'"):
        parse_catalogue(PRICE_TWICE, where="cat.yaml")


def test_a_suite_and_its_gates_with_a_key_given_twice_are_refused(tmp_path):
    from evalkit.suite._gates import load_gates_from_suite

    suite = tmp_path / "suite.yaml"
    suite.write_text("gates:\n  - metric: good\n    min: 0.9\n    min: 0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'min'") as caught:
        load_gates_from_suite(suite)
    assert str(caught.value).startswith(f"{suite}:4:5: duplicate key 'min' (first given on line 3)")


def test_a_mix_file_with_a_segment_given_twice_is_refused(tmp_path):
    from evalkit.suite._projection import load_mix_file

    mix = tmp_path / "mix.yaml"
    mix.write_text("routine: 0.5\npromotion: 0.2\nroutine: 0.3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="duplicate key 'routine'"):
        load_mix_file(mix)


def test_a_suite_with_a_key_given_twice_is_refused_at_its_line(tmp_path):
    from evalkit.suite._load import load_suite

    suite = tmp_path / "suite.yaml"
    suite.write_text("name: demo\ndataset: upgrades@v1\ndataset: mine@v1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"suite\.yaml:3:1: duplicate key 'dataset'"):
        load_suite(suite)
