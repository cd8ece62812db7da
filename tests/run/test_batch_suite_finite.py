"""Every number of a suite's execution section (and the other float fields of the suite file) must be
finite: ``execution.batch_poll_s: .inf`` was accepted (``suite validate`` said ok) and the run hung,
"polling every infs". Refused with exit 2 naming the file and the field, as 0 and .nan are."""

from __future__ import annotations

import pytest
from batchhelpers import REPO, cli

BASE = """name: finite
task: upgrades
dataset: upgrades@v2
configs:
  - name: c
    provider: sim
    model: large
    prompt: prompts/upgrade-v1.j2
{config}execution:
  mode: batch
{execution}"""


@pytest.mark.parametrize(("config", "execution", "field"), [
    ("", "  batch_poll_s: .inf\n", "execution.batch_poll_s"),
    ("", "  batch_poll_s: -.inf\n", "execution.batch_poll_s"),
    ("", "  batch_poll_s: .nan\n", "execution.batch_poll_s"),
    ("", "  timeout_s: .inf\n", "execution.timeout_s"),
    ("", "  requests_per_minute: .inf\n", "execution.requests_per_minute"),
    ("", "  tokens_per_minute: .inf\n", "execution.tokens_per_minute"),
    ("    rate_limits: {requests_per_minute: .inf}\n", "", "configs[0].rate_limits.requests_per_minute"),
    ("    price: {input: .inf, output: 1.0}\n", "", "configs[0].price.input"),
    ("    price: {input: 1.0, output: 1.0, tiers: [{above: 1000, output: .inf}]}\n", "",
     "configs[0].price.tiers[0].output"),
])
def test_an_infinite_number_is_refused_naming_file_and_field(tmp_path, config, execution, field):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "upgrade-v1.j2").write_text((REPO / "suites/prompts/upgrade-v1.j2").read_text())
    path = tmp_path / "finite.yaml"
    path.write_text(BASE.format(config=config, execution=execution))
    done = cli(["suite", "validate", str(path)], tmp_path / "home")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert str(path) in done.stderr and field in done.stderr, done.stderr


def test_finite_numbers_still_validate(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "upgrade-v1.j2").write_text((REPO / "suites/prompts/upgrade-v1.j2").read_text())
    path = tmp_path / "finite.yaml"
    path.write_text(BASE.format(config="    price: {input: 1.5, output: 2}\n",
                                execution="  batch_poll_s: 0.5\n  timeout_s: 30\n  batch_max_poll_errors: 5\n"))
    done = cli(["suite", "validate", str(path)], tmp_path / "home")
    assert done.returncode == 0, done.stderr
