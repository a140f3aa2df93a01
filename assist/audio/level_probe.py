"""A short look at one input device's level, outside a call: for choosing the device.

The device picker shows how loud the chosen microphone (or softphone output) is
while the agent talks, so a wrong or muted device shows before the call, not in
it. ``LevelProbe`` opens the device by name on its own worker thread (opening can
take a second with ALSA over PulseAudio: never on the GUI thread), reads blocks
with PortAudio's blocking ``read`` and reports each block's peak (0..1) through
``on_level``; problems (device missing, cannot open, lost) go to ``on_problem``
as text for the user, and the probe ends. ``stop()`` returns at once; the worker
closes the stream itself within one block.

Threads: ``start``/``stop`` from any thread (the dialog's GUI thread);
``_run``, ``on_level`` and ``on_problem`` on the probe's worker.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import numpy as np

from assist.audio import devices

log = logging.getLogger(__name__)
BLOCK_SECONDS = 0.1  # ten readings a second: a meter that follows speech, no flood of signals


class LevelProbe:
    def __init__(self, device: str | None, on_level: Callable[[float], None],
                 on_problem: Callable[[str], None] = lambda _message: None):
        self.device = device  # a saved name, or None for the system default input
        self._on_level = on_level
        self._on_problem = on_problem
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.opened = threading.Event()  # the stream delivered its first block
        self.closed = threading.Event()  # the worker released the device (or never got it)
        self.device_name = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="level-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to close the device; returns at once."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the device is released (tests, shutdown); True if it is."""
        return self.closed.wait(timeout)

    def _run(self) -> None:
        try:
            self._read()
        except devices.NoInputDevice as e:
            log.info("level probe: %s", e)
            if not self._stop.is_set():
                self._on_problem("找不到这个设备，可能已经拔出。插好后重新选择它。")
        except Exception as e:  # PortAudio errors: the device vanished, or another program holds it
            log.info("level probe: %s", e)
            if not self._stop.is_set():
                self._on_problem("读不到这个设备的声音：它可能已经拔出，或正被其他程序独占使用。")
        finally:
            self.closed.set()

    def _read(self) -> None:
        sd = devices._sd()
        dev = devices.find_input(self.device)
        rate = devices.pick_rate(dev, 16000)
        self.device_name = dev.name
        frames = int(rate * BLOCK_SECONDS)
        with sd.InputStream(device=dev.index, channels=1, samplerate=rate, dtype="int16",
                            blocksize=frames, latency="low") as stream:
            while not self._stop.is_set():
                block, _overflowed = stream.read(frames)
                self.opened.set()
                peak = float(np.max(np.abs(block.astype(np.int32)))) / 32768.0 if len(block) else 0.0
                self._on_level(min(1.0, peak))
