"""Input devices: list them, find one by its saved name, pick a sample rate it accepts.

Devices are chosen by *name* (saved in the user's config) because PortAudio's
indexes change whenever a headset is plugged in. Names are matched exactly
first, then case-insensitively as a substring, so "USB Headset" finds
"USB Headset: Audio (hw:1,0)". All calls here run in whichever thread asks
(the CLI's main thread, or a capture supervisor thread when it reopens a lost
device).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from assist.errors import AssistError

_scan_lock = threading.Lock()


class DeviceError(AssistError):
    """The capture side cannot use the device; ``fix`` says what the user can do."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  处理办法：{self.fix}" if self.fix else self.message


class NoInputDevice(DeviceError):
    pass


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    channels: int
    default_rate: int
    is_default: bool = False


def _sd():
    try:
        import sounddevice
    except OSError as e:  # PortAudio library missing
        raise NoInputDevice(f"无法使用音频系统（{e}）",
                            fix="请安装 PortAudio（Debian/Ubuntu：apt-get install libportaudio2）") from None
    return sounddevice


def list_inputs() -> list[InputDevice]:
    """Every device with at least one input channel, in PortAudio's order."""
    sd = _sd()
    with _scan_lock:
        hostapis = sd.query_hostapis()
        try:
            default_in = sd.default.device[0]
        except Exception:
            default_in = -1
        found = []
        for d in sd.query_devices():
            if d["max_input_channels"] < 1:
                continue
            found.append(InputDevice(
                index=d["index"], name=d["name"], hostapi=hostapis[d["hostapi"]]["name"],
                channels=d["max_input_channels"], default_rate=int(d["default_samplerate"]),
                is_default=d["index"] == default_in,
            ))
        return found


def rescan() -> None:
    """Make PortAudio scan the devices again (needed to see a re-plugged headset).

    This restarts PortAudio, which stops every open stream in the process, so
    callers only do it when no other stream is open (see ``capture``).
    """
    sd = _sd()
    with _scan_lock:
        sd._terminate()  # sounddevice's documented way to re-enumerate devices
        sd._initialize()


def find_input(name: str | None) -> InputDevice:
    """The input device called ``name`` (or the system default input when ``name`` is None)."""
    inputs = list_inputs()
    if not inputs:
        raise NoInputDevice("找不到音频输入设备",
                            fix="请插上耳机或麦克风，然后运行 assist devices 查看")
    if name is None:
        for d in inputs:
            if d.is_default:
                return d
        return inputs[0]
    for d in inputs:
        if d.name == name:
            return d
    wanted = name.casefold()
    matches = [d for d in inputs if wanted in d.name.casefold()]
    if len(matches) == 1 or (matches and all(m.name == matches[0].name for m in matches)):
        return matches[0]
    if str(name).isdigit():
        for d in inputs:
            if d.index == int(name):
                return d
    names = "、".join(repr(d.name) for d in inputs)
    if matches:
        raise NoInputDevice(f"输入设备名 {name!r} 不唯一：它同时对应 {'、'.join(repr(m.name) for m in matches)}",
                            fix="请写出更完整的设备名（见 assist devices）")
    raise NoInputDevice(f"找不到输入设备 {name!r}（现有输入：{names}）",
                        fix="请插上这个设备，或用 --agent / --customer 选择别的设备（见 assist devices）")


def pick_rate(device: InputDevice, wanted: int | None) -> int:
    """A sample rate the device accepts: ``wanted`` if it can, else its default rate.

    The recognizer resamples whatever comes to the model's rate, so any rate works.
    """
    sd = _sd()
    for rate in ([wanted] if wanted else []) + [device.default_rate, 48000, 44100, 16000]:
        try:
            sd.check_input_settings(device=device.index, channels=1, dtype="int16", samplerate=rate)
            return int(rate)
        except Exception:
            continue
    raise DeviceError(f"输入设备 {device.name!r} 不支持任何常用的采样率",
                      fix="请用 --agent / --customer 选择别的设备（见 assist devices）")
