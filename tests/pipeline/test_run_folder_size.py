"""A demo run folder stays light: the full demo (six configurations x 3,000 cases) must fit in
10 MB; this session's demo run has three of the six configurations, so half of that."""

from __future__ import annotations


def test_demo_run_folder_is_at_most_half_of_10_mb_for_half_the_configurations(demo_run):
    d = demo_run.run_dir
    sizes = {p.relative_to(d).as_posix(): p.stat().st_size for p in d.rglob("*") if p.is_file()}
    total = sum(sizes.values())
    assert "journal.jsonl" not in sizes and "journal.jsonl.gz" in sizes, sizes  # a complete run's journal is sealed
    n_configs = len(demo_run.manifest["configs"])
    assert total <= 10e6 * n_configs / 6, (total, sorted(sizes.items(), key=lambda kv: -kv[1])[:5])
