"""Lazy package exports (PEP 562): a package's public name loads its module on first use.

For the packages on ``evalkit run``'s start-up path (``run``, ``report``): importing one of them for one
name must not load every stack its other names need (pandas, numpy, jinja2), so that the run can fork
its sender and chart processes before those load."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, where: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The package's ``__getattr__`` and ``__dir__``: ``where`` maps each public name to the private
    module (relative to ``package``) that defines it."""

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
