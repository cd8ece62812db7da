"""Where a CSV file's quoting goes wrong, for the one problem that stops reading it.

Read strictly, the csv module stops at an unterminated quote ("unexpected end of data") or at text
after a closing quote ("',' expected after '\"'"), but names neither the line where the quoted cell
opened nor what went wrong in words; read leniently it lets the quoted cell swallow the rest of the
file, and the damage surfaces as a wrong label or a short row. This finds the opening quote.
"""

from __future__ import annotations

import csv
from pathlib import Path


def quote_problem(path: Path, start_line: int) -> tuple[int, str] | None:
    """(line, what is wrong) with the quoting of the record starting at ``start_line`` (1-based), or None if
    its quotes are fine: ``unterminated quote starting at line N`` or ``the quoted cell starting at line N is
    followed by text before the next comma (at line M)``."""
    state, line, opened = "start", 1, 0  # states: start of a cell, unquoted, quoted, a quote inside quoted
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for text in fh:
            if line < start_line:
                line += 1
                continue
            for ch in text:
                if state == "quoted":
                    state = "quote" if ch == '"' else "quoted"
                    continue
                if state == "quote":
                    if ch == '"':  # a doubled quote inside the cell
                        state = "quoted"
                        continue
                    if ch not in ",\r\n":
                        return opened, (f"the quoted cell starting at line {opened} is followed by text before "
                                        f"the next comma (at line {line}): a closing quote is missing, or a quote "
                                        'inside the cell is not doubled ("")')
                    state = "start"
                if ch == '"' and state == "start":
                    state, opened = "quoted", line
                elif ch in ",":
                    state = "start"
                elif ch in "\r\n":
                    if state != "quoted":
                        return None  # the record ended with its quotes balanced
                else:
                    state = "unquoted"
            line += 1
    if state == "quoted":
        return opened, f"unterminated quote starting at line {opened}: the quoted cell runs to the end of the file"
    return None


def csv_error(path: Path, start_line: int, line: int, exc: csv.Error) -> str:
    """The problem a csv.Error is, at the record starting at ``start_line`` (the reader at ``line``)."""
    if (found := quote_problem(path, start_line)) is not None:
        return f"{path}:line {found[0]}: {found[1]}; nothing was imported"
    return f"{path}:line {line}: unreadable CSV ({exc}); nothing was imported"
