"""Real capture through PortAudio from a PulseAudio null sink's monitor, into the full pipeline."""
from __future__ import annotations

import queue
import re
import time

import numpy as np
import pytest

from assist.audio import devices
from assist.audio.block import AudioBlock
from assist.audio.capture import Capture
from assist.events import AudioGap, CallEnded, DeviceProblem
from assist.listening import Listener

HANGUL = re.compile(r"[\uac00-\ud7a3]")
pytestmark = [pytest.mark.audio, pytest.mark.vosk]


def test_pulse_input_is_listed(pulse):
    names = [d.name for d in devices.list_inputs()]
    assert "pulse" in names
    d = devices.find_input("PULSE")  # case-insensitive, by name
    assert d.name == "pulse" and d.default_rate > 0
    assert devices.pick_rate(d, 16000) == 16000
    assert devices.pick_rate(d, 1234567) == d.default_rate  # unsupported: the device's own rate, resampled later


def test_unknown_device_is_a_clear_error(pulse):
    with pytest.raises(devices.NoInputDevice) as e:
        devices.find_input("USB Headset that is not here")
    assert "找不到输入设备" in str(e.value) and "pulse" in str(e.value) and "assist devices" in e.value.fix


def test_live_speech_comes_out_of_the_pipeline(pulse, player, speech, ko_model_path, ko_model, make_call):
    call, rec = make_call()
    listener = Listener(call, agent_device="pulse", model_path=ko_model_path)
    listener.start()
    try:
        time.sleep(0.5)
        player(pulse, speech["one"]).wait(timeout=20)
        got = rec.wait_for(lambda r: any(HANGUL.search(u.text) for u in r.utterances(final=True)), timeout=15)
    finally:
        listener.stop()
    assert got, f"no Korean final from live capture: {[u.text for u in rec.utterances()]}"
    finals = [u for u in rec.utterances(final=True) if u.text]
    assert all(u.speaker == "agent" for u in finals)
    assert finals[0].words and finals[0].start > 0.3  # call time: the speech began after we started
    assert any(not u.final for u in rec.utterances())
    assert isinstance(rec.events[-1], CallEnded) and not rec.events[-1].interrupted
    s = listener.stats["agent"]
    assert s["device"] == "pulse" and s["blocks"] > 20 and s["dropped"] == 0 and s["lost"] == 0


@pytest.fixture
def private_pulse(pulse, tmp_path, monkeypatch, make_private_pulse):
    server = make_private_pulse(tmp_path)
    # libpulse reads these at every stream open, so reopening finds the server again
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/native")
    monkeypatch.setenv("PULSE_SOURCE", "lostsink.monitor")
    yield server
    server.stop()


def test_unplugged_device_is_reported_and_recovered(private_pulse, ko_model_path, ko_model, make_call):
    call, rec = make_call()
    listener = Listener(call, agent_device="pulse", model_path=ko_model_path, retry_seconds=0.5)
    listener.start()
    try:
        assert rec.wait_for(lambda r: listener.stats["agent"]["blocks"] > 5, timeout=10)
        private_pulse.stop()  # the device goes away
        assert rec.wait_for(lambda r: any(not p.recovered for p in r.of(DeviceProblem)), timeout=10)
        time.sleep(1.0)  # reopening keeps failing while the device is away
        assert not any(p.recovered for p in rec.of(DeviceProblem))
        private_pulse.start()  # and comes back
        assert rec.wait_for(lambda r: any(p.recovered for p in r.of(DeviceProblem)), timeout=10)
        blocks_back = listener.stats["agent"]["blocks"]
        assert rec.wait_for(lambda r: listener.stats["agent"]["blocks"] > blocks_back + 3, timeout=10)
    finally:
        listener.stop()
    problems = rec.of(DeviceProblem)
    assert "没有声音了" in problems[0].message and problems[0].channel == "agent"
    assert problems[0].fix
    gaps = rec.of(AudioGap)
    assert len(gaps) == 1 and gaps[0].end - gaps[0].start >= 1.0 and "断开" in gaps[0].reason
    assert listener.stats["agent"]["lost"] == 1 and listener.stats["agent"]["reopened"] == 1
    assert isinstance(rec.events[-1], CallEnded) and not rec.events[-1].interrupted  # the call went on


def test_no_input_device_fails_before_the_call_starts(pulse, ko_model_path, ko_model, make_call):
    call, rec = make_call()
    listener = Listener(call, agent_device="no such microphone", model_path=ko_model_path)
    with pytest.raises(devices.NoInputDevice):
        listener.start()
    assert rec.events == [] and call.started_at is None


def test_callback_counts_drops_and_supervisor_reports_the_gap():
    """Unit edge: a full queue makes the callback drop (and count) instead of blocking the audio thread."""

    class Status:
        input_overflow = True

    events = []
    q: queue.Queue = queue.Queue(maxsize=2)
    cap = Capture("customer", None, q, call_time=lambda: 0.0, publish=events.append)
    cap._rate = 16000
    for _ in range(5):
        cap._callback(np.zeros((1600, 1), dtype=np.int16), 1600, None, Status())
    assert cap.stats.blocks == 2 and cap.stats.dropped == 3 and cap.stats.overflows == 5
    assert cap._report_drops(0) == 3
    gap = events[0]
    assert isinstance(gap, AudioGap) and gap.channel == "customer"
    assert gap.start == pytest.approx(0.2) and gap.end == pytest.approx(0.5) and "丢掉了 3 段音频" in gap.reason
    blocks = [q.get_nowait() for _ in range(2)]
    assert all(isinstance(b, AudioBlock) for b in blocks) and [b.t for b in blocks] == [0.0, 0.1]


def test_no_input_device_at_all(monkeypatch):
    """Unit edge: a machine whose PortAudio lists no inputs (fake list at the seam)."""
    monkeypatch.setattr(devices, "list_inputs", lambda: [])
    with pytest.raises(devices.NoInputDevice) as e:
        devices.find_input(None)
    assert "找不到音频输入设备" in str(e.value) and "插上耳机" in e.value.fix
