"""The listening pipeline the panel and the CLI use: audio source -> recognizers -> ``Call``.

``Listener`` captures live input (the agent's microphone as ``agent``, the
softphone's output routed back as an input as ``customer``, or one mixed
input as ``unknown``); ``Replay`` feeds a WAV file through exactly the same
queues and recognizers (stereo: agent left, customer right; mono: unknown).
Both call ``call.hear(Utterance)`` from the recognizer threads and
``call.publish`` for ``AudioLevel`` / ``AudioGap`` / ``DeviceProblem``.

``start()`` runs in the caller's thread: it loads the model (seconds, once per
process) and opens the devices, so every "cannot start" problem
(``ModelMissing``, ``DeviceError``, ``WavError``) is raised there, before the
call begins. ``stop()`` drains what was already heard into final utterances
before the call ends, so nothing transcribed is lost. ``pause()`` / ``resume()``
(the panel's Ctrl+P; any thread) stop and restart recognition during a live call:
the devices stay open and the call clock runs on, what was said before the pause
becomes a final at once, nothing said during the pause is recognized or kept,
and ``ListeningPaused`` / ``ListeningResumed`` mark it for the panel and the store.
"""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from assist.asr.models import find_model
from assist.asr.recognizer import SILENCE_TIMEOUT, ChannelRecognizer, LoadedModel, load_model
from assist.audio import devices
from assist.audio.block import END, FLUSH, QUEUE_BLOCKS
from assist.audio.capture import Capture
from assist.audio.wav_source import WavSource, read_wav
from assist.events import ListeningPaused, ListeningResumed, Speaker


class _Pipeline:
    def __init__(self, call, model_path: str | Path | None, silence_timeout: float):
        self.call = call
        self._model_path = model_path
        self._silence_timeout = silence_timeout
        self.gate = True  # recognizers skip silence (assist.asr.gate); False only for A/B measurements
        self.model: LoadedModel | None = None
        self.queues: dict[Speaker, queue.Queue] = {}
        self.recognizers: dict[Speaker, ChannelRecognizer] = {}
        self._owns_call = False
        self._stopped = False
        self._stop_lock = threading.Lock()

    def _load_model(self) -> LoadedModel:
        self.model = load_model(find_model(self._model_path))
        return self.model

    def _make_channels(self, names: Iterable[Speaker]) -> None:
        assert self.model is not None, "load the model first"
        for name in names:
            q: queue.Queue = queue.Queue(maxsize=QUEUE_BLOCKS)
            self.queues[name] = q
            self.recognizers[name] = ChannelRecognizer(self.model, name, q, on_utterance=self.call.hear,
                                                       publish=self.call.publish,
                                                       silence_timeout=self._silence_timeout, gate=self.gate)

    def _start_call(self, devices_info: dict) -> None:
        if self.call.started_at is None:
            assert self.model is not None, "load the model first"
            path = self.model.path
            # packaged models sit in a folder called just "model": name the package instead
            label = path.name if path.name != "model" else f"{path.parent.name}/{path.name}"
            self.call.start(devices=devices_info, model=label)
            self._owns_call = True
        for r in self.recognizers.values():
            r.start()

    def _call_time(self) -> float:
        return time.time() - (self.call.started_at or time.time())

    def _finish(self, interrupted: bool) -> None:
        """Let each recognizer drain its queue and flush its last final, then end the call."""
        for name, q in self.queues.items():
            q.put(END)
        for r in self.recognizers.values():
            r.join(timeout=30)
        if self._owns_call:
            self.call.end(interrupted=interrupted)

    @property
    def stats(self) -> dict:
        out = {}
        for name, r in self.recognizers.items():
            s = r.stats
            out[name] = {
                "audio_seconds": round(s.audio_seconds, 2), "real_time_factor": round(s.real_time_factor, 3),
                "partials": s.partials, "finals": s.finals, "runs": s.runs, "errors": s.errors,
                "queued": self.queues[name].qsize(),
            }
        return out


class Listener(_Pipeline):
    """Live capture; the panel and ``assist listen`` use it."""

    def __init__(self, call, agent_device: str | None = None, customer_device: str | None = None,
                 model_path: str | Path | None = None, mixed: bool = False, *,
                 silence_timeout: float = SILENCE_TIMEOUT, rate: int | None = None, retry_seconds: float = 1.5):
        super().__init__(call, model_path, silence_timeout)
        self.channel_devices: dict[Speaker, str | None]
        if mixed:
            self.channel_devices = {"unknown": agent_device}
        else:
            self.channel_devices = {"agent": agent_device}
            if customer_device:
                self.channel_devices["customer"] = customer_device
        self._rate = rate
        self._retry = retry_seconds
        self.captures: dict[Speaker, Capture] = {}
        self._paused_at: float | None = None  # call time of the pause, while paused
        self._pause_lock = threading.Lock()

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def pause(self) -> bool:
        """Stop recognizing (any thread; returns at once); False if not listening or already paused."""
        with self._pause_lock:
            if self._paused_at is not None or self._stopped or self.call.started_at is None:
                return False
            self._paused_at = self._call_time()
            for c in self.captures.values():
                c.paused = True
            for q in self.queues.values():
                try:
                    q.put_nowait(FLUSH)  # the words so far become a final now
                except queue.Full:
                    pass  # the recognizer is behind: the >1 s gap at resume closes the words instead
            at = self._paused_at
        self.call.publish(ListeningPaused(at=round(at, 3)))
        return True

    def resume(self) -> bool:
        """Recognize again (any thread); False if not paused."""
        with self._pause_lock:
            if self._paused_at is None:
                return False
            paused_at, self._paused_at = self._paused_at, None
            for c in self.captures.values():
                c.paused = False
            at = self._call_time()
        self.call.publish(ListeningResumed(paused_at=round(paused_at, 3), at=round(at, 3)))
        return True

    def start(self) -> None:
        """Load the model, check the devices, start the call and the capture (caller's thread)."""
        self._load_model()
        for name, dev in self.channel_devices.items():
            devices.find_input(dev)  # raises NoInputDevice before the call starts
        self._make_channels(self.channel_devices)
        for name, dev in self.channel_devices.items():
            self.captures[name] = Capture(name, dev, self.queues[name], call_time=self._call_time,
                                          publish=self.call.publish, rate=self._rate, retry_seconds=self._retry)
        info = {name: (dev or "default input") for name, dev in self.channel_devices.items()}
        self._start_call(info)
        try:
            for c in self.captures.values():
                c.start()
        except devices.DeviceError:
            self.stop(interrupted=True)
            raise

    def stop(self, interrupted: bool = False) -> None:
        """Close the devices, flush what was heard, end the call (any thread; idempotent)."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        for c in self.captures.values():
            c.stop()
        with self._pause_lock:
            paused_at, self._paused_at = self._paused_at, None
        if paused_at is not None:  # the call ends while paused: the pause ends with it
            self.call.publish(ListeningResumed(paused_at=round(paused_at, 3), at=round(self._call_time(), 3)))
        self._finish(interrupted)

    @property
    def stats(self) -> dict:
        out = super().stats
        for name, c in self.captures.items():
            s = c.stats
            out[name].update(device=s.device, rate=s.rate, blocks=s.blocks, overflows=s.overflows,
                             dropped=s.dropped, lost=s.lost, reopened=s.reopened)
        return out


class Replay(_Pipeline):
    """A WAV file through the same pipeline; ``speed`` 1.0 is real time, None is as fast as possible."""

    def __init__(self, call, path: str | Path, speed: float | None = 1.0,
                 model_path: str | Path | None = None, *, silence_timeout: float = SILENCE_TIMEOUT,
                 before_feeding: Callable[[], object] | None = None, gate: bool = True):
        """``before_feeding``: called once the file and model are good, before any audio flows
        (the CLI waits there for the KB's sentence vectors, so a replay's results never depend
        on how fast it ran). ``gate=False``: the recognizers hear the silence too (A/B measurements)."""
        super().__init__(call, model_path, silence_timeout)
        self.gate = gate
        self.path = Path(path)
        self.speed = speed
        self.source: WavSource | None = None
        self.before_feeding = before_feeding

    def start(self) -> None:
        """Read the file and load the model (raising ``WavError`` / ``ModelMissing``), then start feeding."""
        audio = read_wav(self.path)
        self._load_model()
        if self.before_feeding is not None:
            self.before_feeding()
        self._make_channels(audio.channels)
        self.source = WavSource(audio, self.queues, speed=self.speed)
        self._start_call({name: f"file:{self.path.name}" for name in audio.channels})
        self.source.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the whole file is recognized (True) or ``timeout`` passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for r in self.recognizers.values():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not r.join(left):
                return False
        return True

    def stop(self, interrupted: bool = False) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        if self.source is not None:
            self.source.stop()  # its feeder thread queues END on every channel as it exits
            interrupted = interrupted or not self.source.completed
        for r in self.recognizers.values():
            r.join(timeout=30)
        if self._owns_call:
            self.call.end(interrupted=interrupted)

    def run(self) -> None:
        """start + wait + stop, for the CLI and tests (caller's thread)."""
        self.start()
        try:
            self.wait()
        finally:
            self.stop()
