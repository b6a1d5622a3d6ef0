"""A 16-bit frame counter painted into the luma plane as black and white blocks, and read back.

It survives H.264 and VP8 at ordinary bitrates, so a receiver can tell which captured frame it
is showing: the basis of the glass-to-glass figures and of the tests' "frames advance" checks.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BITS = 16
BLOCK_ROWS = 32


def block_width(width: int) -> int:
    return width // BITS


def paint(luma: npt.NDArray[np.uint8], value: int) -> None:
    """Paint ``value`` (mod 2**16) into the top rows of a luma plane, in place."""
    w = block_width(luma.shape[1])
    for bit in range(BITS):
        on = (value >> (BITS - 1 - bit)) & 1
        luma[:BLOCK_ROWS, bit * w : (bit + 1) * w] = 235 if on else 16


def read(luma: npt.NDArray[np.uint8]) -> int:
    w = block_width(luma.shape[1])
    margin_x, margin_y = w // 4, BLOCK_ROWS // 4
    value = 0
    for bit in range(BITS):
        block = luma[
            margin_y : BLOCK_ROWS - margin_y, bit * w + margin_x : (bit + 1) * w - margin_x
        ]
        value = (value << 1) | int(block.mean() > 128)
    return value
