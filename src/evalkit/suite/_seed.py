"""The range of every seed a suite gives."""

SEED_MAX = 2**32 - 1
"""Seeds are integers in [0, SEED_MAX]: what numpy's RandomState and SeedSequence accept (a suite's
``seed: -3`` ran, then failed in ``evalkit project``). The CLIs' ``--seed`` options carry the same range."""
