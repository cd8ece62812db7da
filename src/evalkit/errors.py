"""Errors that carry their exit code and say *where* something is wrong.

Exit codes (documented in docs/ci.md): 0 ok, 1 a gate failed, 2 bad usage,
configuration or input data, 3 the run itself failed (e.g. too many provider errors).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_RUN_FAILED = 3


class EvalkitError(Exception):
    """Base error: a message for humans plus the process exit code it maps to.

    The message is redacted when the error is raised: an error can quote a provider's
    answer or a URL, and no key may reach a terminal or a log through it."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        from evalkit._secrets import redact_text

        super().__init__(redact_text(str(message)))
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(EvalkitError):
    """A suite, mix or option is invalid (names the file and YAML path)."""


class DataError(EvalkitError):
    """Input data is invalid or tampered with (names file, row and field)."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        from evalkit._secrets import redact_text

        super().__init__(message)
        self.problems = [redact_text(p) for p in problems or []]


class RunFailed(EvalkitError):
    """The run could not complete (provider errors past the limit, budget, replay miss)."""

    exit_code = EXIT_RUN_FAILED


class NotFound(EvalkitError):
    """A run, dataset version or cache entry named by the user does not exist."""
