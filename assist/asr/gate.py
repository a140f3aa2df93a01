"""Which audio a channel's recognizer needs to hear: speech, not the silence between turns.

vosk runs its acoustic network on every 10 ms frame, speech or not: on the
Korean test model one second of silence costs about a third of one second of
speech (0.24 vs 0.72 CPU seconds per audio second, measured under load), and
on a call each channel is quiet most of the time (the other side is talking),
so silence was about half of what recognition cost. ``SpeechGate`` classifies
each block and keeps the blocks heard while the recognizer is *closed* (not
fed), so that when speech starts the recognizer gets the last ``PREROLL``
seconds before it too: the onset, and some silence for the decoder to start
from. The recognizer decides when to close (it knows whether words are still
pending); this module only says what each block is.

A block is *speech* when it is loud against the channel's running background
level (the energy rule the recognizer's silence rule also uses) **or** when
WebRTC's voice activity detector (``webrtcvad``, the maintained
``webrtcvad-wheels`` build) hears speech in one of its 30 ms frames. Either one
is enough: a missed onset loses words, a false alarm only costs CPU, so the
gate errs towards hearing. webrtcvad needs 8, 16, 32 or 48 kHz; at other rates
the energy rule decides alone.

Runs on the recognizer's worker thread; not thread-safe.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

# Audio kept while closed and fed first when speech starts: the onset (the first
# soft consonant is often below both detectors) and a little silence before it.
PREROLL = 0.4
# webrtcvad's least aggressive mode but one: false alarms only cost CPU.
VAD_MODE = 1
_VAD_RATES = (8000, 16000, 32000, 48000)
_FRAME_SECONDS = 0.03


@dataclass(frozen=True)
class Heard:
    """What one block is."""

    loud: bool  # above the running background level (the silence rule's test)
    speech: bool  # loud, or webrtcvad hears speech in it (the gate's test)


class SpeechGate:
    def __init__(self, rate: int, *, preroll: float | None = None, vad_mode: int = VAD_MODE):
        self.rate = rate
        self._preroll = PREROLL if preroll is None else preroll
        self._floor = 0.01  # running estimate of the background level (0..1)
        self._vad = None
        if rate in _VAD_RATES:
            import webrtcvad

            self._vad = webrtcvad.Vad(vad_mode)
        self._frame = int(rate * _FRAME_SECONDS)
        self._rest = np.zeros(0, dtype=np.int16)  # samples not yet in a whole VAD frame
        self._held: deque[tuple[float, np.ndarray]] = deque()  # (call time, samples) while closed
        self._held_seconds = 0.0
        self.quiet_for = 0.0  # audio seconds since the last speech block

    def hear(self, samples: np.ndarray) -> Heard:
        """Classify one block (int16 at ``rate``) and update the quiet time."""
        loud = self._loud(samples)
        speech = loud or self._vad_hears(samples)
        if speech:
            self.quiet_for = 0.0
        else:
            self.quiet_for += len(samples) / self.rate
        return Heard(loud, speech)

    def _loud(self, samples: np.ndarray) -> bool:
        """Energy against a running background level that drops fast and rises slowly."""
        if len(samples) == 0:
            return False
        x = samples.astype(np.float32) / 32768.0
        rms = float(np.sqrt(np.mean(x * x)))
        if rms < self._floor:
            self._floor = rms
        else:
            self._floor += (rms - self._floor) * 0.01
        return rms > max(0.003, 3.0 * self._floor)

    def _vad_hears(self, samples: np.ndarray) -> bool:
        if self._vad is None:
            return False
        x = np.concatenate([self._rest, samples]) if len(self._rest) else samples
        n = len(x) // self._frame * self._frame
        self._rest = x[n:].copy()
        heard = False
        for i in range(0, n, self._frame):
            # every frame goes through, even after a hit: the detector adapts to the noise it hears
            heard |= self._vad.is_speech(np.ascontiguousarray(x[i:i + self._frame]).tobytes(), self.rate)
        return heard

    # -- the pre-roll, while the recognizer is closed ------------------------------------------
    def hold(self, t: float, samples: np.ndarray) -> None:
        """Keep a block heard while closed (``t``: call time of its first sample); only the last
        ``preroll`` seconds stay, and a block that does not follow on from the last one starts afresh."""
        if len(samples) == 0:
            return  # the resampler's first output can be empty
        if self._held:
            last_t, last = self._held[-1]
            if abs(last_t + len(last) / self.rate - t) > 0.02:
                self.drop()
        self._held.append((t, samples))
        self._held_seconds += len(samples) / self.rate
        while self._held and self._held_seconds - len(self._held[0][1]) / self.rate >= self._preroll:
            self._held_seconds -= len(self._held.popleft()[1]) / self.rate

    def release(self) -> list[tuple[float, np.ndarray]]:
        """The held blocks, oldest first (the recognizer opens and feeds them); the gate forgets them."""
        out = list(self._held)
        self.drop()
        return out

    def drop(self) -> None:
        self._held.clear()
        self._held_seconds = 0.0
