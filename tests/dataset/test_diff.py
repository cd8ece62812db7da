from __future__ import annotations

from evalkit.dataset import diff, write_dataset


def test_diff_added_removed_changed_and_segment_counts(toy, store):
    base = list(toy.generate(9, 1))
    write_dataset(base, name="toy", version="v1", task=toy, store=store)
    new = [c for c in base if c.case_id != "c00002"]                      # removed (adversarial)
    new[0] = new[0].model_copy(update={"note": "edited"})                 # changed
    extra = list(toy.generate(11, 1))[9:]                                 # added: c00009 routine, c00010 promotion
    write_dataset(new + extra, name="toy", version="v2", task=toy, store=store, parent="v1")

    d = diff("toy@v1", "toy@latest", store=store)
    assert (d.a, d.b) == ("toy@v1", "toy@v2")
    assert d.added == ("c00009", "c00010")
    assert d.removed == ("c00002",)
    assert d.changed == ("c00000",)
    assert d.unchanged == 7
    assert d.segment_delta == {"adversarial": -1, "promotion": 1, "routine": 1}
    assert not d.identical
    assert diff("toy@v1", "toy@v1", store=store).identical


def test_diff_reports_shipped_files_that_differ_even_when_every_case_is_the_same(toy, store):
    import hashlib

    cases = list(toy.generate(5, 1))
    old, new = b"plus: '20.00'\n", b"plus: '2.00'\n"
    write_dataset(cases, name="toy", version="v1", task=toy, store=store, attachments={"catalogue.yaml": old})
    write_dataset(cases, name="toy", version="v2", task=toy, store=store, attachments={"catalogue.yaml": new})
    write_dataset(cases, name="toy", version="v3", task=toy, store=store,
                  attachments={"catalogue.yaml": new, "corpus.txt": b"x"})

    d = diff("toy@v1", "toy@v2", store=store)
    assert (d.added, d.removed, d.changed) == ((), (), ())
    sha = [hashlib.sha256(x).hexdigest()[:12] for x in (old, new)]
    assert d.attachment_changes == {"catalogue.yaml": f"changed (sha256 {sha[0]}… -> {sha[1]}…)"}
    assert d.attachment_lines() == [f"catalogue.yaml: changed (sha256 {sha[0]}… -> {sha[1]}…)"]
    assert not d.identical
    assert diff("toy@v3", "toy@v2", store=store).attachment_changes == {"corpus.txt": "removed"}
    assert diff("toy@v2", "toy@v3", store=store).attachment_changes == {"corpus.txt": "added"}


def test_the_diff_command_prints_shipped_files_that_differ(toy, store):
    """`evalkit dataset diff` said '0 changed' for two versions whose catalogues price a plan differently."""
    from typer.testing import CliRunner

    from evalkit.cli.main import app

    cases = list(toy.generate(5, 1))
    write_dataset(cases, name="toy", version="v1", task=toy, store=store, attachments={"catalogue.yaml": b"a: 1\n"})
    write_dataset(cases, name="toy", version="v2", task=toy, store=store, attachments={"catalogue.yaml": b"a: 2\n"})
    out = CliRunner().invoke(app, ["dataset", "diff", "toy@v1", "toy@v2", "--store", str(store)],
                             env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "0 changed" in out.output and "shipped file catalogue.yaml: changed (sha256" in out.output
