"""Live capture of one channel from one input device, surviving unplugs.

Threads:
- PortAudio's audio thread runs ``_callback``: it only stamps the block,
  puts it on the bounded queue and counts overflows and drops (anything
  slower there would make the driver lose audio). While ``paused`` it only
  keeps the clock: the device stays open (an unplug is still noticed) and
  resuming needs no reopen.
- A supervisor thread (``capture-<channel>``) notices drops, overflows and a
  device that stopped delivering (unplugged, server restarted, default device
  changed), publishes ``DeviceProblem`` / ``AudioGap``, and reopens the device
  by name every ``retry_seconds`` until it is back.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from assist.audio import devices
from assist.audio.block import BLOCK_SECONDS, FLUSH, AudioBlock
from assist.events import SPEAKER_LABELS, AudioGap, DeviceProblem, Speaker

_open_streams = 0  # streams open in this process; a PortAudio rescan would kill them
_open_lock = threading.Lock()


@dataclass
class CaptureStats:
    blocks: int = 0
    overflows: int = 0
    dropped: int = 0
    lost: int = 0  # times the device stopped delivering
    reopened: int = 0
    rate: int = 0
    device: str = ""


class Capture:
    """Reads ``device`` (a name, or None for the default input) into ``out`` as ``channel``."""

    def __init__(self, channel: Speaker, device: str | None, out: queue.Queue, *,
                 call_time: Callable[[], float], publish: Callable[[object], None],
                 rate: int | None = None, retry_seconds: float = 1.5, stall_seconds: float = 1.5):
        self.channel = channel
        self.device = device
        self._out = out
        self._call_time = call_time
        self._publish = publish
        self._wanted_rate = rate
        self._retry = retry_seconds
        self._stall = stall_seconds
        self._startup_grace = 3.0  # the first stream of a process can take ~2 s to start (ALSA over PulseAudio)
        self.stats = CaptureStats()
        self._stream = None
        self._rate = 0
        self._next_t = 0.0
        self._last_callback = 0.0
        self._finished = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # written by the callback, read by the supervisor (ints/floats: atomic enough under the GIL)
        self._drop_first_t: float | None = None
        self._drop_last_end = 0.0
        self._anchor_pending = False
        self.paused = False  # set by the listener (any thread): blocks are timed but not queued

    # -- audio thread -------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        self._last_callback = time.monotonic()
        if status.input_overflow:
            self.stats.overflows += 1
        if self._anchor_pending:
            # Stamp from the first block, not from stream.start(): drivers may
            # start late and never deliver what was "recorded" before that.
            self._anchor_pending = False
            self._next_t = max(self._next_t, self._call_time() - frames / self._rate)
        t = self._next_t
        self._next_t = t + frames / self._rate
        if self.paused:
            return  # the agent paused listening: the clock runs on, the audio is neither heard nor kept
        block = AudioBlock(self.channel, t, self._rate, indata[:, 0].copy())
        try:
            self._out.put_nowait(block)
            self.stats.blocks += 1
        except queue.Full:
            self.stats.dropped += 1
            if self._drop_first_t is None:
                self._drop_first_t = t
            self._drop_last_end = self._next_t

    def _on_finished(self) -> None:
        self._finished.set()

    # -- opening and closing (caller's thread or supervisor) ------------------
    def _open(self) -> None:
        global _open_streams
        sd = devices._sd()
        dev = devices.find_input(self.device)
        rate = devices.pick_rate(dev, self._wanted_rate)
        self._rate = rate
        self._finished.clear()
        try:
            stream = sd.InputStream(device=dev.index, channels=1, samplerate=rate, dtype="int16",
                                    blocksize=int(rate * BLOCK_SECONDS), callback=self._callback,
                                    # 'high' latency makes ALSA-over-PulseAudio hold the first
                                    # callback for ~2 s; 'low' delivers blocks at once
                                    latency="low",
                                    finished_callback=self._on_finished)
            self._next_t = self._call_time()
            self._anchor_pending = True
            # until the first block arrives, allow extra time for the driver to start
            self._last_callback = time.monotonic() + self._startup_grace
            stream.start()
        except Exception as e:
            raise devices.DeviceError(f"无法打开{SPEAKER_LABELS.get(self.channel, self.channel)}的输入设备 {dev.name!r}（{e}）",
                                      fix="请确认没有别的程序独占这个设备（见 assist devices）") from None
        self._stream = stream
        self.stats.rate = rate
        self.stats.device = dev.name
        with _open_lock:
            _open_streams += 1

    def _close(self) -> None:
        global _open_streams
        stream, self._stream = self._stream, None
        if stream is None:
            return
        with _open_lock:
            _open_streams -= 1
        try:
            stream.abort(ignore_errors=True)
            stream.close(ignore_errors=True)
        except Exception:
            pass  # the device is gone; nothing more to release

    def start(self) -> None:
        """Open the device now (raises ``DeviceError`` so the caller can report it) and supervise it."""
        self._open()
        self._thread = threading.Thread(target=self._supervise, name=f"capture-{self.channel}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()

    @property
    def device_label(self) -> str:
        return self.stats.device or (self.device or "default input")

    # -- supervisor thread --------------------------------------------------------
    def _stalled(self) -> bool:
        if self._stream is None:
            return True
        if self._finished.is_set():
            return True
        try:
            if not self._stream.active:
                return True
        except Exception:
            return True
        return time.monotonic() - self._last_callback > self._stall

    def _report_drops(self, dropped_seen: int) -> int:
        if self.stats.dropped > dropped_seen and self._drop_first_t is not None:
            first, self._drop_first_t = self._drop_first_t, None
            self._publish(AudioGap(self.channel, first, self._drop_last_end,
                                   reason=f"丢掉了 {self.stats.dropped - dropped_seen} 段音频：语音识别跟不上"))
            return self.stats.dropped
        return dropped_seen

    def _supervise(self) -> None:
        dropped_seen = 0
        overflows_seen = 0
        last_overflow_report = 0.0
        while not self._stop.wait(0.25):
            dropped_seen = self._report_drops(dropped_seen)
            if self.stats.overflows > overflows_seen and time.monotonic() - last_overflow_report > 10:
                self._publish(DeviceProblem(self.channel,
                                            f"{SPEAKER_LABELS.get(self.channel, self.channel)}声道的输入溢出了 "
                                            f"{self.stats.overflows} 次（有些声音没到达坐席助手就丢了）",
                                            fix="请关掉占用处理器的程序"))
                overflows_seen = self.stats.overflows
                last_overflow_report = time.monotonic()
            if self._stalled():
                self._recover()
        dropped_seen = self._report_drops(dropped_seen)

    def _recover(self) -> None:
        """The device stopped: report it, keep the call going, reopen it by name until it is back."""
        lost_at = self._next_t
        name = self.device_label
        self.stats.lost += 1
        self._close()
        try:
            # what this channel said up to the unplug becomes a final now, not when the device is back
            self._out.put_nowait(FLUSH)
        except queue.Full:
            pass  # the recognizer is behind: the gap before the next block closes the words instead
        self._publish(DeviceProblem(self.channel,
                                    f"{SPEAKER_LABELS.get(self.channel, self.channel)}的输入 {name!r} 没有声音了"
                                    "（拔掉或换了设备？），通话继续",
                                    fix="请把设备插回去，收音会自动恢复", kind="lost", device=name))
        while not self._stop.wait(self._retry):
            try:
                self._open()
            except Exception:  # DeviceError, or PortAudio itself failing: keep trying, never die
                # Only a PortAudio rescan shows a re-plugged device, and a rescan
                # would kill the other channel's stream: do it only when alone.
                with _open_lock:
                    alone = _open_streams == 0
                if alone:
                    try:
                        devices.rescan()
                    except Exception:
                        pass
                continue
            self.stats.reopened += 1
            self._publish(AudioGap(self.channel, lost_at, self._next_t, reason=f"输入 {name!r} 断开"))
            self._publish(DeviceProblem(self.channel, f"{SPEAKER_LABELS.get(self.channel, self.channel)}的输入 "
                                                      f"{self.device_label!r} 恢复了",
                                        recovered=True, kind="lost", device=self.device_label))
            return
        # the call ended while the device was still away: record the gap up to now
        self._publish(AudioGap(self.channel, lost_at, max(lost_at, self._call_time()),
                               reason=f"输入 {name!r} 断开"))
