"""The console's redaction: stdout and stderr wrapped so that no key reaches a terminal or a CI log
(``evalkit._secrets``' rules, applied line by line)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from evalkit._secrets import redact_text


class RedactingStream:
    """A text stream that redacts what is written to the stream it wraps.

    Text is held until a newline (or flush) so a key split across two writes is still
    caught. Attributes other than ``write``/``flush`` (``isatty``, ``fileno``, ``encoding``)
    are the wrapped stream's, so rich and click treat it as the terminal it is; it has no
    ``buffer``, so nothing writes around it.

    A reader that goes away (``evalkit runs query ... | head``) closes the pipe: what is written after
    that is dropped, and the command goes on to its own result and exit code (not a broken-pipe
    traceback, nor click's exit 1, which means "a gate failed" here)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._pending = ""
        self._reader_gone = False

    @property
    def wrapped(self) -> Any:
        return self._stream

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            head, _, self._pending = self._pending.rpartition("\n")
            self._send(redact_text(head + "\n"))
        return len(text)

    def _send(self, text: str | None) -> None:
        """Write ``text`` (None: flush) to the wrapped stream, unless its reader has gone."""
        if self._reader_gone:
            return
        try:
            if text is None:
                self._stream.flush()
            else:
                self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone = True
            self._silence()

    def _silence(self) -> None:
        """Point the wrapped stream's descriptor at /dev/null: what it still buffers, and what the
        interpreter flushes at exit, goes nowhere instead of failing again."""
        import os

        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): drop is enough
            pass

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self._pending:
            self._send(redact_text(self._pending))
            self._pending = ""
        self._send(None)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)
