"""Plays a recorded sample call into a ``Call``, as if a recognizer were listening.

``resources/demo_call.jsonl`` holds one utterance per line (speaker, text,
start/end seconds, optional ``mark``), built from seed 000: the 长江分期 展期
script, the customer persona 张强 and his questions, one non-compliant agent
line and a promise to pay. ``DemoPlayer`` replays it on a worker thread:
each utterance grows as partial results, then a final, with input levels in
between, at the file's timing divided by ``speed``. ``fast=True`` keeps the
order but drops the waiting, for tests and benchmarks.

Qt-free: the panel watches the same ``Call`` events as for a live call.
"""
from __future__ import annotations

import json
import math
import threading
from datetime import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assist.errors import AssistError
from assist._data import demo_call_path
from assist.events import AudioLevel, Speaker, Utterance

DEMO_DEVICES = {"agent": "演示坐席麦克风 (demo)", "customer": "演示客户声道 (demo)"}
DEMO_MODEL = "demo transcript (no model)"


class DemoError(AssistError):
    """The demo file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class DemoLine:
    speaker: Speaker
    text: str
    start: float
    end: float
    mark: str = ""  # e.g. "screenshot": the moment the README screenshot shows


def load_demo(path: str | Path | None = None) -> list[DemoLine]:
    """Read a demo call file (JSON lines); raises DemoError naming the bad line."""
    p = Path(path) if path else demo_call_path()
    try:
        raw = p.read_text(encoding="utf-8")
    except OSError as e:
        raise DemoError(f"cannot read demo call {p}: {e.strerror or e}") from None
    lines: list[DemoLine] = []
    for n, text in enumerate(raw.splitlines(), 1):
        if not text.strip():
            continue
        try:
            d = json.loads(text)
            line = DemoLine(speaker=d["speaker"], text=d["text"], start=float(d["start"]),
                            end=float(d["end"]), mark=d.get("mark", ""))
        except (ValueError, KeyError, TypeError) as e:
            raise DemoError(f"{p}:{n}: not a demo utterance ({e!r}); expected "
                            '{"speaker": ..., "text": ..., "start": s, "end": s}') from None
        if line.speaker not in ("agent", "customer", "unknown"):
            raise DemoError(f"{p}:{n}: speaker must be agent, customer or unknown, not {line.speaker!r}")
        lines.append(line)
    if not lines:
        raise DemoError(f"{p}: the demo call is empty")
    return lines


class DemoPlayer:
    """Replays demo lines into a call on its own thread.

    ``on_line(index, line)`` and ``on_finished()`` run on the player thread.
    ``pause()`` may be called from ``on_line`` (e.g. to take a screenshot)
    and ``resume()`` from any thread.
    """

    PARTIAL_CHARS = 4  # a partial result every few characters, like a recognizer
    LEVEL_EVERY_S = 0.1

    def __init__(self, call, lines: list[DemoLine] | None = None, *, speed: float = 2.0,
                 fast: bool = False, on_line: Callable[[int, DemoLine], None] | None = None,
                 on_finished: Callable[[], None] | None = None):
        self.call = call
        self.lines = lines if lines is not None else load_demo()
        self.speed = max(speed, 0.01)
        self.fast = fast
        self.on_line = on_line
        self.on_finished = on_finished
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()

    # control (any thread)
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="assist-demo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set() and not self._stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # player thread
    def _sleep(self, seconds: float) -> bool:
        """Wait call-time ``seconds`` (scaled by speed); False once stopped."""
        self._running.wait()
        if self._stop.is_set():
            return False
        if self.fast:
            # Give other threads (the GUI) a moment so the demo still looks like a call.
            return not self._stop.wait(0.001)
        return not self._stop.wait(seconds / self.speed)

    def _levels(self, speaking: str, t: float) -> None:
        for ch in ("agent", "customer"):
            if ch == speaking:
                rms = 0.35 + 0.25 * abs(math.sin(t * 7.3))
            else:
                rms = 0.02 + 0.01 * abs(math.sin(t * 3.1))
            self.call.publish(AudioLevel(channel=ch, rms=round(rms, 3), peak=round(min(1.0, rms * 1.6), 3)))

    def _run(self) -> None:
        call = self.call
        call.start(devices=dict(DEMO_DEVICES), model=DEMO_MODEL, demo=True)  # kept apart from real calls
        # the engine judges the sample call as placed at 10:00, whenever it is watched: the calling-hours
        # rule must not turn the demo red after 21:00 (the stored times stay the real ones)
        engine = getattr(call, "engine", None)
        if engine is not None:
            engine.reset(call_started_at=datetime.now().replace(hour=10, minute=0, second=0, microsecond=0))
        clock = 0.0
        interrupted = False
        try:
            for i, line in enumerate(self.lines):
                if not self._sleep(max(line.start - clock, 0.0)):
                    interrupted = True
                    break
                clock = line.start
                seg = f"demo-{i:03d}"
                chars = list(range(self.PARTIAL_CHARS, len(line.text), self.PARTIAL_CHARS))
                step = (line.end - line.start) / (len(chars) + 1)
                for n in chars:
                    if not self._sleep(step):
                        interrupted = True
                        break
                    clock += step
                    if not self.fast:
                        self._levels(line.speaker, clock)
                    call.hear(Utterance(speaker=line.speaker, text=line.text[:n], start=line.start,
                                        end=clock, final=False, segment=seg))
                if interrupted or not self._sleep(max(line.end - clock, 0.0)):
                    interrupted = True
                    break
                clock = line.end
                self._levels(line.speaker, clock)
                call.hear(Utterance(speaker=line.speaker, text=line.text, start=line.start,
                                    end=line.end, final=True, segment=seg, confidence=1.0))
                if self.on_line:
                    self.on_line(i, line)
                    self._running.wait()  # on_line may have paused the player: hold everything
                self._levels("", clock)
        finally:
            call.end(interrupted=interrupted)
            self.finished.set()
            if self.on_finished:
                self.on_finished()
