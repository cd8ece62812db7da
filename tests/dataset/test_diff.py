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
