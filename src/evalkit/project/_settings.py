"""What a run's projection is asked for: the suite's settings recorded in the manifest, the command
line's overrides, and which of them make it a what-if rather than the suite's projection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.economics import EconomicsSpec
from evalkit.errors import ConfigError
from evalkit.runs import Manifest
from evalkit.suite import ContextCap, ProjectionSpec, build_spec, load_mix_file


def what_if_settings(manifest: Manifest | None, spec: ProjectionSpec, *, threshold: float | None = None,
                     thresholds_file: Path | None = None) -> list[str]:
    """What makes a projection a what-if rather than the suite's: a threshold or thresholds file given by
    hand, or a volume or mix other than the suite's ``projection:`` section. Empty = the suite's projection
    (its threshold set and choice, --threshold-set / --cost-optimal, are recorded in ``threshold_set``).
    Without a projection section in the suite, --volume and --mix are its only settings: not a what-if."""
    out = []
    if threshold is not None:
        out.append(f"--threshold {threshold:g}")
    if thresholds_file is not None:
        out.append(f"--thresholds {Path(thresholds_file).name}")
    suite = dict(suite_spec(manifest).get("projection") or {})
    if "volume_per_month" in suite and spec.volume_per_month != suite["volume_per_month"]:
        out.append(f"volume {spec.volume_per_month:,}/month (the suite's: {suite['volume_per_month']:,})")
    if isinstance(suite.get("mix"), dict) and spec.mix != {str(k): float(v) for k, v in suite["mix"].items()}:
        out.append("mix " + ", ".join(f"{k} {v:g}" for k, v in spec.mix.items()) + " (not the suite's)")
    given = [_cap_text(c.turns, c.tokens) for c in spec.context_caps]
    for cap in suite.get("context_caps") or []:  # the suite's own caps are its projection; --cap-* add to them
        if isinstance(cap, dict) and _cap_text(cap.get("turns"), cap.get("tokens")) in given:
            given.remove(_cap_text(cap.get("turns"), cap.get("tokens")))
    out += [f"context cap {text}" for text in given]
    return out


def _cap_text(turns: int | None, tokens: int | None) -> str:
    return " and ".join(t for t in (f"{turns} turns" if turns is not None else "",
                                    f"{tokens:,} tokens" if tokens is not None else "") if t)


def spec_for_run(manifest: Manifest | None, *, volume: int | None = None, mix_file: Path | None = None,
                 seed: int | None = None, cap_turns: int | None = None,
                 cap_tokens: int | None = None) -> ProjectionSpec:
    """The suite's projection section (from the manifest) with command-line overrides applied.

    Without a projection section, ``--volume`` and ``--mix`` are required; the seed defaults to the run's.
    """
    data: dict[str, Any] = dict(suite_spec(manifest).get("projection") or {})
    where = "suite projection (manifest.json suite.spec.projection)" if data else "command line"
    if mix_file is not None:
        loaded = load_mix_file(mix_file)
        data["mix"] = loaded["mix"]
        if "volume_per_month" in loaded and volume is None:
            data["volume_per_month"] = loaded["volume_per_month"]
        where = f"{where} + {mix_file}"
    if volume is not None:
        data["volume_per_month"] = volume
    missing = [k for k in ("volume_per_month", "mix") if k not in data]
    if missing:
        flags = {"volume_per_month": "--volume N", "mix": "--mix FILE"}
        raise ConfigError(
            "the run's suite has no projection " + " / ".join(f"`{k}`" for k in missing)
            + f": pass {' and '.join(flags[k] for k in missing)} (or add a `projection:` section to the suite)"
        )
    if seed is not None:
        data["seed"] = seed
    elif "seed" not in data and manifest is not None and manifest.seed is not None:
        data["seed"] = manifest.seed
    if cap_turns is not None or cap_tokens is not None:
        cap = ContextCap(turns=cap_turns, tokens=cap_tokens)
        data["context_caps"] = [*(data.get("context_caps") or []), cap.model_dump()]
    return build_spec(data, where=where)


def economics_for_run(manifest: Manifest | None) -> EconomicsSpec:
    raw = suite_spec(manifest).get("economics") or {}
    try:
        return EconomicsSpec.model_validate(raw)
    except Exception as exc:
        raise ConfigError(f"manifest.json suite.spec.economics: invalid: {exc}") from exc


def suite_spec(manifest: Manifest | None) -> dict[str, Any]:
    """The parsed suite `evalkit run` records in the manifest (``suite.spec``)."""
    return dict(manifest.suite.spec) if manifest is not None else {}
