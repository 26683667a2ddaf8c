"""The coarse-to-fine schedule: which sizes a run visits and how many steps each gets.

With ``pyramid = 3`` at 1024 px a run paints at 256, then 512, then 1024 px, each level
starting from the previous result upsampled: large structures settle cheaply at the small
sizes, and only the last level pays for every pixel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    """One level of the schedule: the longest side in pixels and the optimizer steps there."""

    size: int
    steps: int


def coarse_to_fine(size: int, steps: int, levels: int = 1) -> list[Level]:
    """``levels`` sizes halving down from ``size``, smallest first, sharing ``steps``.

    The steps are split as evenly as possible; the first levels get the remainder.
    Example: ``coarse_to_fine(1024, 10, 3)`` -> sizes 256, 512, 1024 with 4, 3, 3 steps.
    """
    sizes = [round(size / 2 ** (levels - 1 - level)) for level in range(levels)]
    counts = [steps // levels + (1 if level < steps % levels else 0) for level in range(levels)]
    return [Level(s, c) for s, c in zip(sizes, counts)]
