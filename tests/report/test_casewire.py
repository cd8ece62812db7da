"""The case table's wire format: lossless, compact, and safe inside a <script> element."""

from __future__ import annotations

import re
from pathlib import Path

from evalkit.report._casewire import ALPHABET, decode, encode

KINDS = ("regressed", "improved", "failed")


def _doc() -> dict:
    cols = [["c0", "a", None, "scores", None], ["c1", "b", "a", "dataset x@v1", "-x\n+y"]]
    rows, det = [], []
    for kind in KINDS:
        for col in (0, 1):
            for cid in ("case-1", "case-2</script>", "ü-3"):
                if (kind, cid) == ("improved", "ü-3"):
                    continue
                rows.append([col, cid, "seg " + cid[-1], kind, "" if col else "x.y, z", "approve", "deny",
                             None if col == 0 else ""])
                det.append({"raw": [f"<script>{cid}</script>", "second sample"][: 1 + col],
                            "parsed": [["status", "ok"], ["good", str(col == 1)]] + ([["judge", "—"]] if col else []),
                            "expected": [["expected_action", "deny"], ["reviewed", f'{{"k": "{cid}"}}']],
                            "prompt": "P" if kind == "regressed" and col == 0 else None,
                            "pnote": "as sent (stored)" if kind == "regressed" and col == 0 else "prompt not stored"})
    facts = {"case-1": [["account", "{}"], ["history", "[1, 2]"]], "case-2</script>": [["account", "{\"a\": 1}"]],
             "ü-3": [["history", "—"], ["extra", "e"]]}
    return {"cols": cols, "rows": rows, "det": det, "facts": facts}


def test_round_trip_is_lossless():
    doc = _doc()
    text, raw_bytes = encode(doc, KINDS)
    back = decode(text)
    assert raw_bytes > 0
    assert back["cols"] == doc["cols"] and back["rows"] == doc["rows"]
    # Pairs keep their order within a row; per-case pairs follow the row's own.
    assert back["det"] == doc["det"]
    assert {k: dict(v) for k, v in back["facts"].items()} == {k: dict(v) for k, v in doc["facts"].items()}


def test_encoded_text_cannot_close_its_script_element():
    text, _ = encode(_doc(), KINDS)
    assert set(text) <= set(ALPHABET) and len(set(ALPHABET)) == 85
    assert not set("<>&\"'\\") & set(ALPHABET)


def test_report_js_decodes_with_the_same_alphabet():
    js = (Path(__file__).resolve().parents[2] / "src/evalkit/report/report.js").read_text()
    assert re.search(r'var B85 = "(.*?)";', js).group(1) == ALPHABET


def test_per_case_data_is_stored_once():
    """A case listed under several configurations carries its expected decision once, not once per row."""
    import base64
    import gzip
    import json

    from evalkit.report._casewire import _FROM_WIRE

    doc = _doc()
    for d, r in zip(doc["det"], doc["rows"]):
        d["expected"][1][1] = f"reviewed decision of {r[1]} " * 50
    text, _ = encode(doc, KINDS)
    wire = gzip.decompress(base64.b85decode(text.encode("ascii").translate(_FROM_WIRE))).decode("utf-8")
    assert len(doc["rows"]) > 3 * 3
    assert json.loads(wire)["cases"] == sorted(doc["facts"])
    assert wire.count("reviewed decision of") == 50 * 3  # three cases
    assert decode(text)["det"] == doc["det"]
