"""95% intervals for accuracies: the Wilson score interval (Wilson 1927) of k successes in n trials.
It stays inside [0, 1] and keeps its coverage for small n and accuracies near 0 or 1, where the normal
interval that lm-eval's standard error gives (mean ± 1.96·stderr) does not."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """(low, high) for k successes out of n; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At k = 0 and k = n the bounds are exactly 0 and 1 (rounding would leave them a hair off).
    low = 0.0 if k <= 0 else max(0.0, centre - half)
    high = 1.0 if k >= n else min(1.0, centre + half)
    return low, high


def normal(mean: float, stderr: float, z: float = Z95) -> tuple[float, float]:
    """mean ± z·stderr, the interval lm-eval's standard error implies."""
    return mean - z * stderr, mean + z * stderr
