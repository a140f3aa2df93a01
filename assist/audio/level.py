"""The input level meter: turns blocks into ``AudioLevel`` events for the panel.

Runs in the recognizer worker thread of its channel (never in the audio
callback). It publishes at most one event per ``interval`` seconds of audio so
a max-speed replay does not flood the subscribers.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from assist.events import AudioLevel, Speaker


class LevelMeter:
    def __init__(self, channel: Speaker, publish: Callable[[object], None], interval: float = 0.2):
        self.channel = channel
        self._publish = publish
        self._interval = interval
        self._sum_squares = 0.0
        self._count = 0
        self._peak = 0.0
        self._seconds = 0.0

    def feed(self, samples: np.ndarray, rate: int) -> None:
        if len(samples) == 0:
            return
        x = samples.astype(np.float32) / 32768.0
        self._sum_squares += float(np.dot(x, x))
        self._count += len(x)
        self._peak = max(self._peak, float(np.max(np.abs(x))))
        self._seconds += len(samples) / rate
        if self._seconds >= self._interval:
            rms = (self._sum_squares / self._count) ** 0.5
            self._publish(AudioLevel(channel=self.channel, rms=min(1.0, rms), peak=min(1.0, self._peak)))
            self._sum_squares, self._count, self._peak, self._seconds = 0.0, 0, 0.0, 0.0
