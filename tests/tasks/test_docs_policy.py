"""docs/policy.md is generated from the clause definitions; it must not drift."""

from pathlib import Path

from evalkit.tasks.upgrades._policy import policy_markdown


def test_policy_doc_matches_the_code():
    doc = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
    assert doc.read_text() == policy_markdown(), "regenerate docs/policy.md from policy_markdown()"
