"""A recorded call as an audio source: read a WAV file and feed its channels as blocks.

Mono files are one ``unknown`` channel; stereo files are the agent on the left
and the customer on the right (what most softphone/recorder exports do).
Only integer PCM (8, 16, 24 or 32 bit) is read; anything else (float WAV,
compressed WAV, an MP3 renamed .wav, a truncated header) is a ``WavError``
naming the file and what is wrong. Any sample rate is fine: the recognizer
resamples to the model's rate.

``WavSource`` runs a feeder thread (``wav-source``) that puts blocks on each
channel's queue at real-time speed (``speed=1``), a multiple of it, or as fast
as the recognizers take them (``speed=None``, "max"); it blocks on full queues
instead of dropping, since a file never overruns.
"""
from __future__ import annotations

import queue
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assist.audio.block import BLOCK_SECONDS, END, AudioBlock
from assist.errors import AssistError
from assist.events import Speaker

_FORMAT_NAMES = {3: "32-bit float", 6: "A-law", 7: "µ-law", 0x55: "MP3", 2: "ADPCM", 0x11: "IMA ADPCM"}


class WavError(AssistError):
    """The file cannot be replayed; the message says which file and why."""


@dataclass(frozen=True, eq=False)
class WavAudio:
    path: Path
    rate: int
    samples: np.ndarray  # int16, shape (frames, channels)

    @property
    def channels(self) -> tuple[Speaker, ...]:
        return ("unknown",) if self.samples.shape[1] == 1 else ("agent", "customer")

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.rate


def _format_tag(path: Path) -> int | None:
    """The WAVE format tag from the ``fmt `` chunk, to name non-PCM files precisely."""
    try:
        data = path.read_bytes()[:4096]
    except OSError:
        return None
    i = data.find(b"fmt ")
    if i < 0 or len(data) < i + 10:
        return None
    tag = int.from_bytes(data[i + 8:i + 10], "little")
    if tag == 0xFFFE and len(data) >= i + 8 + 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID says
        tag = int.from_bytes(data[i + 8 + 24:i + 8 + 26], "little")
    return tag


def read_wav(path: str | Path) -> WavAudio:
    """Read a mono or stereo integer-PCM WAV into int16 samples (any thread)."""
    path = Path(path)
    if not path.is_file():
        raise WavError(f"{path}: no such file")
    tag = _format_tag(path)
    if tag is not None and tag != 1:
        name = _FORMAT_NAMES.get(tag, f"format tag {tag:#x}")
        raise WavError(f"{path}: {name} WAV is not supported; convert it to 16-bit PCM, "
                       f"e.g. `sox {path.name} -b 16 -e signed-integer out.wav`")
    try:
        with wave.open(str(path), "rb") as w:
            nch, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(frames)
    except wave.Error as e:
        head = path.read_bytes()[:4]
        if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
            raise WavError(f"{path}: this is an MP3 file, not a WAV; convert it with "
                           f"`sox {path.name} -r 16000 -c 1 -b 16 out.wav`") from None
        raise WavError(f"{path}: not a readable PCM WAV file ({e})") from None
    except (EOFError, OSError) as e:
        if path.read_bytes()[:4] != b"RIFF":
            raise WavError(f"{path}: not a WAV file (it does not start with a RIFF header)") from None
        raise WavError(f"{path}: truncated or unreadable WAV file ({e or 'unexpected end of file'})") from None
    if nch not in (1, 2):
        raise WavError(f"{path}: {nch} channels; only mono (one speaker) or stereo "
                       "(agent left, customer right) are supported")
    if rate < 4000 or rate > 192000:
        raise WavError(f"{path}: sample rate {rate} Hz is not a usable audio rate")
    usable = len(raw) - len(raw) % (width * nch)
    raw = raw[:usable]
    if usable == 0:
        raise WavError(f"{path}: the file holds no audio samples")
    if width == 1:  # 8-bit WAV is unsigned
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").copy()
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        x = ((b[:, 2].astype(np.int8).astype(np.int16) << 8) | b[:, 1]).astype(np.int16)
    elif width == 4:
        x = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    else:
        raise WavError(f"{path}: {8 * width}-bit samples are not supported")
    return WavAudio(path=path, rate=rate, samples=x.reshape(-1, nch))


class WavSource:
    """Feeds ``audio`` into ``queues`` (channel name -> queue) from a thread."""

    def __init__(self, audio: WavAudio, queues: dict[Speaker, queue.Queue], speed: float | None = 1.0):
        self.audio = audio
        self._queues = queues
        self._speed = speed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fed_seconds = 0.0
        self.done = threading.Event()
        self.completed = False  # True once every block of the file was queued
        self.started_at: float | None = None  # time.monotonic() of call time 0 (for benchmarks)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wav-source", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _put(self, q: queue.Queue, item) -> bool:
        while not self._stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        """Feeder thread: slice the file into blocks and pace them."""
        audio = self.audio
        step = int(audio.rate * BLOCK_SECONDS)
        began = self.started_at = time.monotonic()
        try:
            for start in range(0, audio.samples.shape[0], step):
                t = start / audio.rate
                if self._speed:
                    delay = began + t / self._speed - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                for i, channel in enumerate(audio.channels):
                    block = AudioBlock(channel, t, audio.rate, np.ascontiguousarray(audio.samples[start:start + step, i]))
                    if not self._put(self._queues[channel], block):
                        return
                self.fed_seconds = min(audio.duration, (start + step) / audio.rate)
            self.completed = True
        finally:
            for channel in audio.channels:
                try:
                    self._queues[channel].put(END, timeout=5)
                except queue.Full:
                    pass
            self.done.set()
