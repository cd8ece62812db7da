"""Provider registry. Built-ins are declared as entry points in evalkit's own
pyproject (group ``evalkit.providers``), exactly as a third-party package would,
so the extension path is the path every run takes.

``register_provider`` lets code (and tests) register a factory directly.
The run manifest records each configuration's provider name and options with
secrets redacted (``redact``), so a stored run can say exactly what produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from evalkit.errors import ConfigError


class ProviderRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, Callable[..., Any]] = {}
        self._loaded_entry_points = False

    def register(self, name: str, factory: Callable[..., Any]) -> None:
        self._factories[name] = factory

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        for ep in entry_points(group="evalkit.providers"):
            if ep.name not in self._factories:
                self._factories[ep.name] = _LazyEntryPoint(ep)

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._factories)

    def provider_class(self, name: str) -> Any:
        """The class (or factory) registered as ``name``, loaded but not instantiated."""
        self._load_entry_points()
        factory = self._factories.get(name)
        if factory is None:
            raise ConfigError(f"unknown provider {name!r}; known providers: {', '.join(self.names())}")
        return factory.load() if isinstance(factory, _LazyEntryPoint) else factory

    def create(self, name: str, **options: Any) -> Any:
        self._load_entry_points()
        factory = self._factories.get(name)
        if factory is None:
            raise ConfigError(f"unknown provider {name!r}; known providers: {', '.join(self.names())}")
        return factory(**options)


class _LazyEntryPoint:
    """Defers importing a provider module (openai, litellm...) until it is used."""

    def __init__(self, ep: Any) -> None:
        self._ep = ep

    def load(self) -> Any:
        from evalkit._plugins import load_entry_point

        return load_entry_point(self._ep, kind="provider")

    def __call__(self, **options: Any) -> Any:
        return self.load()(**options)


def redact(options: dict[str, Any]) -> dict[str, Any]:
    """Copy of options with secrets masked (kept for callers; see ``evalkit._secrets``)."""
    from evalkit._secrets import redact_options

    return redact_options(options)


_REGISTRY = ProviderRegistry()


def register_provider(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a provider class or factory under ``name``."""

    def deco(factory: Callable[..., Any]) -> Callable[..., Any]:
        _REGISTRY.register(name, factory)
        return factory

    return deco


def create_provider(name: str, **options: Any) -> Any:
    return _REGISTRY.create(name, **options)


def provider_class(name: str) -> Any:
    return _REGISTRY.provider_class(name)


def provider_names() -> list[str]:
    return _REGISTRY.names()
