"""The automation table `evalkit run` prints in CI logs shows every rate with its n and interval."""

from __future__ import annotations

import re


def test_the_stage_summary_names_the_n_its_automation_rates_rest_on(demo_run):
    from rich.console import Console

    from evalkit._console import print_stage_summary
    from evalkit.runs import RunFolder

    run = RunFolder(path=demo_run.run_dir)
    console = Console(record=True, width=200)
    print_stage_summary(run, console)
    text = console.export_text()
    sizes = {c.coverage.n for c in run.thresholds.configs.values() if c.coverage is not None}
    assert len(sizes) == 1, sizes
    assert f"(n={sizes.pop():,} cases per config)" in text
    for name, entry in run.thresholds.configs.items():
        line = next(row for row in text.splitlines() if row.lstrip().startswith(name))
        value = re.search(r"(\d+)±\d+", line).group(1)  # the certified rate, then its interval
        assert int(value) == round(100 * entry.coverage.value)
