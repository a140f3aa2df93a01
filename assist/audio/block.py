"""The unit of audio that flows from a source to a recognizer worker.

A block is one short stretch (about 100 ms) of mono 16-bit samples from one
channel, stamped with the call time of its first sample. Sources put blocks on
a bounded ``queue.Queue``; ``END`` on the queue means the source is finished,
``FLUSH`` that listening paused or the device went: what was heard so far becomes a final now.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class AudioBlock:
    channel: str
    t: float  # seconds from call start of samples[0]
    rate: int
    samples: np.ndarray  # 1-D int16, mono

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    @property
    def end(self) -> float:
        return self.t + self.duration


class _End:
    """Sentinel type: the source of this queue has finished."""

    def __repr__(self) -> str:
        return "END"


END = _End()


class _Flush:
    """Sentinel type: close what was heard so far as a final (listening paused, device lost); the source goes on."""

    def __repr__(self) -> str:
        return "FLUSH"


FLUSH = _Flush()

# 100 ms blocks: short enough for prompt partials, long enough that the queue
# and Python overhead per block stay small next to the recognizer's work.
BLOCK_SECONDS = 0.1
# Room for 10 s of audio per channel before the capture callback starts
# dropping blocks (and counting them) instead of blocking the audio thread.
QUEUE_BLOCKS = 100
