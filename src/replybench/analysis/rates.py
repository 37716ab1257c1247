"""Proportions with Wilson score intervals (re-exported by :mod:`replybench.analysis.summary`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Z95 = 1.959963984540054
"""The two-sided 95 % normal quantile, ``scipy.special.ndtri(0.975)``."""


@dataclass(frozen=True)
class Rate:
    """A proportion ``k / n`` with its Wilson score 95 % interval (value, low and high are None if n = 0)."""

    k: int
    n: int
    value: float | None
    low: float | None
    high: float | None


EMPTY_RATE = Rate(k=0, n=0, value=None, low=None, high=None)
"""The rate of an empty group (nothing sent)."""


def wilson(k: int, n: int, z: float = Z95) -> Rate:
    """Return the Wilson score interval of ``k`` successes in ``n`` trials (95 % by default).

    Raises ValueError unless ``0 <= k <= n``.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"expected 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return EMPTY_RATE
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if k == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if k == n else min(1.0, max(p, centre + half))
    return Rate(k=k, n=n, value=p, low=low, high=high)


def wilson_bounds(
    k: Sequence[int] | npt.ArrayLike, n: Sequence[int] | npt.ArrayLike, z: float = Z95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Vectorised :func:`wilson`: arrays of the estimate, low and high (NaN where ``n`` is 0).

    The same numbers as :func:`wilson`, bit for bit. Raises ValueError unless ``0 <= k <= n`` everywhere.
    """
    kk = np.asarray(k, dtype=np.int64).ravel()
    nn = np.asarray(n, dtype=np.int64).ravel()
    if kk.shape != nn.shape:
        raise ValueError("k and n must have the same length")
    if kk.size and (np.any(kk < 0) or np.any(kk > nn)):
        raise ValueError("expected 0 <= k <= n everywhere")
    with np.errstate(divide="ignore", invalid="ignore"):
        nf = nn.astype(np.float64)
        p = kk / nf
        z2 = z * z
        denom = 1.0 + z2 / nf
        centre = (p + z2 / (2 * nf)) / denom
        half = z * np.sqrt(p * (1.0 - p) / nf + z2 / (4 * nf * nf)) / denom
        low = np.where(kk == 0, 0.0, np.maximum(0.0, np.minimum(p, centre - half)))
        high = np.where(kk == nn, 1.0, np.minimum(1.0, np.maximum(p, centre + half)))
    empty = nn == 0
    return np.where(empty, np.nan, p), np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def wilson_many(
    k: Sequence[int] | npt.ArrayLike, n: Sequence[int] | npt.ArrayLike, z: float = Z95
) -> list[Rate]:
    """Return :func:`wilson` of every pair ``(k[i], n[i])``, vectorised (the same numbers, bit for bit).

    Raises ValueError unless ``0 <= k <= n`` everywhere.
    """
    p, low, high = wilson_bounds(k, n, z)
    kk = np.asarray(k, dtype=np.int64).ravel().tolist()
    nn = np.asarray(n, dtype=np.int64).ravel().tolist()
    return [
        EMPTY_RATE if ni == 0 else Rate(k=ki, n=ni, value=pi, low=lo, high=hi)
        for ki, ni, pi, lo, hi in zip(kk, nn, p.tolist(), low.tolist(), high.tolist(), strict=True)
    ]
