"""Loading a plugin's entry point (a task or a provider a package declares): a plugin that cannot be
imported is a broken installation the user must fix, so it gets one clear error (exit 2) naming the
plugin, the package that declares it and what failed, not an internal error."""

from __future__ import annotations

from typing import Any

from evalkit.errors import ConfigError


def load_entry_point(ep: Any, *, kind: str) -> Any:
    """``ep.load()``; a ``ConfigError`` saying which plugin failed and how to repair it."""
    try:
        return ep.load()
    except Exception as exc:  # noqa: BLE001 - any import-time failure of third-party code
        dist = getattr(getattr(ep, "dist", None), "name", None)
        package = f" from the package {dist!r}" if dist else ""
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise ConfigError(
            f"{kind} {ep.name!r} ({ep.group} entry point {ep.value!r}{package}) failed to load: "
            f"{type(exc).__name__}: {first}. Reinstall that package, or uninstall it if it is no longer "
            "wanted (an editable install whose folder was removed fails this way).") from None
