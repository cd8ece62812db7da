"""The case table's wire format: how the packed case document travels inside the report.

``_casedata`` builds the *logical* document (row-major, easy to read and test)::

    {"cols": [...], "rows": [[col, case_id, segment, kind, reasons, action, expected, ref reasons]...],
     "det": [{"raw", "parsed", "expected", "prompt", "pnote"}, ...],   # parallel to rows
     "facts": {case_id: [[k, v], ...]}}

On the wire (version 2) the same content is column-major, with every row-level text column
dictionary-encoded, per-case data stored once per case (not once per configuration), and
rows stored by case so that the outputs of one case under several configurations sit next to
each other where gzip finds their repeats. That roughly halves the compressed size. The
table order is not stored: it is (kind, configuration, case), recomputed by ``decode`` here
and by ``report.js`` (``expand``) the same way, on integer indices only.

The compressed bytes are Base85-encoded (5 characters per 4 bytes, against Base64's 4 per 3)
with an alphabet free of ``<``, ``>`` and ``&``, so the block can never close its
``<script>`` element early.

Wire document::

    {"v": 2, "cols": [...], "kinds": [...], "cases": [case_id, ...],        # cases sorted
     "facts": [keys, [values per case | null] per key],                   # case facts
     "cexp": [keys, [values per case | null] per key],                    # the task's expected fields
     "col": [...], "case": [...], "kind": [...],                          # per row, integer indices
     "text": [[uniques, indices] per row text column: segment, reasons, action, expected, ref reasons],
     "parsed": [keys, [[uniques, indices] per key]], "rexp": [keys, [[uniques, indices] per key]],
     "raw": [[...] per row], "prompt": [... per row], "pnote": [uniques, indices]}
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from typing import Any

VERSION = 2
_B85 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
_WIRE = _B85.replace(b"<", b".").replace(b">", b",").replace(b"&", b":")
_TO_WIRE = bytes.maketrans(_B85, _WIRE)
_FROM_WIRE = bytes.maketrans(_WIRE, _B85)
ALPHABET = _WIRE.decode("ascii")
"""The 85 characters of the wire encoding, in digit order (``report.js`` holds the same string)."""


def _dict_encode(values: Sequence[Any]) -> list[Any]:
    uniques: dict[Any, int] = {}
    idx = [uniques.setdefault(v, len(uniques)) for v in values]
    return [list(uniques), idx]


def _dict_decode(enc: Sequence[Any]) -> list[Any]:
    uniques, idx = enc
    return [uniques[i] for i in idx]


def _columns(pairs_per_item: Sequence[Sequence[Sequence[Any]]]) -> tuple[list[str], list[list[Any]]]:
    """[[k, v], ...] per item -> (keys in first-seen order, one column per key with None where absent)."""
    keys: dict[str, None] = {}
    for pairs in pairs_per_item:
        for k, _ in pairs:
            keys.setdefault(k, None)
    as_dicts = [dict(pairs) for pairs in pairs_per_item]
    return list(keys), [[d.get(k) for d in as_dicts] for k in keys]


def _pairs(keys: Sequence[str], cols: Sequence[Sequence[Any]], i: int) -> list[list[Any]]:
    return [[k, col[i]] for k, col in zip(keys, cols) if col[i] is not None]


def _to_wire(doc: dict[str, Any], kinds: Sequence[str]) -> dict[str, Any]:
    rows, det, facts = doc["rows"], doc["det"], doc["facts"]
    cases = sorted({r[1] for r in rows} | set(facts))
    case_ix = {c: i for i, c in enumerate(cases)}
    order = sorted(range(len(rows)), key=lambda i: (case_ix[rows[i][1]], rows[i][0]))
    prow = [rows[i] for i in order]
    pdet = [det[i] for i in order]
    # The task's expected fields are per case; the score's expected_* fields are per row.
    cexp: dict[str, list[list[Any]]] = {}
    rexp = []
    for r, d in zip(prow, pdet):
        mine = [p for p in d["expected"] if str(p[0]).startswith("expected_")]
        rexp.append(mine)
        cexp.setdefault(r[1], [p for p in d["expected"] if not str(p[0]).startswith("expected_")])
    fkeys, fcols = _columns([facts.get(c, []) for c in cases])
    ekeys, ecols = _columns([cexp.get(c, []) for c in cases])
    pkeys, pcols = _columns([d["parsed"] for d in pdet])
    xkeys, xcols = _columns(rexp)
    return {
        "v": VERSION, "cols": doc["cols"], "kinds": list(kinds), "cases": cases,
        "facts": [fkeys, fcols], "cexp": [ekeys, ecols],
        "col": [r[0] for r in prow], "case": [case_ix[r[1]] for r in prow],
        "kind": [kinds.index(r[3]) for r in prow],
        "text": [_dict_encode([r[j] for r in prow]) for j in (2, 4, 5, 6, 7)],
        "parsed": [pkeys, [_dict_encode(c) for c in pcols]], "rexp": [xkeys, [_dict_encode(c) for c in xcols]],
        "raw": [d["raw"] for d in pdet], "prompt": [d["prompt"] for d in pdet],
        "pnote": _dict_encode([d["pnote"] for d in pdet]),
    }


def _from_wire(w: dict[str, Any]) -> dict[str, Any]:
    cases, kinds = w["cases"], w["kinds"]
    seg, reasons, action, expected, ref = (_dict_decode(t) for t in w["text"])
    pkeys, pcols = w["parsed"][0], [_dict_decode(c) for c in w["parsed"][1]]
    xkeys, xcols = w["rexp"][0], [_dict_decode(c) for c in w["rexp"][1]]
    fkeys, fcols = w["facts"]
    ekeys, ecols = w["cexp"]
    pnote = _dict_decode(w["pnote"])
    n = len(w["col"])
    order = sorted(range(n), key=lambda i: (w["kind"][i], w["col"][i], w["case"][i]))
    rows, det = [], []
    for i in order:
        c = w["case"][i]
        rows.append([w["col"][i], cases[c], seg[i], kinds[w["kind"][i]], reasons[i], action[i], expected[i], ref[i]])
        det.append({"raw": w["raw"][i], "parsed": _pairs(pkeys, pcols, i),
                    "expected": _pairs(xkeys, xcols, i) + _pairs(ekeys, ecols, c),
                    "prompt": w["prompt"][i], "pnote": pnote[i]})
    facts = {cid: _pairs(fkeys, fcols, c) for c, cid in enumerate(cases)}
    return {"v": VERSION, "cols": w["cols"], "rows": rows, "det": det, "facts": facts}


def encode(doc: dict[str, Any], kinds: Sequence[str]) -> tuple[str, int]:
    """(the text embedded in the page, the uncompressed JSON's size in bytes).

    ``doc["rows"]`` must already be in table order: (kind, configuration, case id)."""
    data = json.dumps(_to_wire(doc, kinds), ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    packed = base64.b85encode(gzip.compress(data, compresslevel=9, mtime=0)).translate(_TO_WIRE)
    return packed.decode("ascii"), len(data)


def decode(text: str) -> dict[str, Any]:
    """The logical document back from the page's text (for tests and tools)."""
    raw = gzip.decompress(base64.b85decode("".join(text.split()).encode("ascii").translate(_FROM_WIRE)))
    return _from_wire(json.loads(raw.decode("utf-8")))
