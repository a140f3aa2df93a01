"""Reading WAV files (good, odd and broken) and feeding them as blocks."""
from __future__ import annotations

import queue
import subprocess
import time
import wave

import numpy as np
import pytest

from assist.audio.block import END
from assist.audio.wav_source import WavError, WavSource, read_wav


def _write(path, samples: np.ndarray, rate=16000, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if samples.ndim == 1 else samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def test_mono_and_stereo_channels(tmp_path):
    mono = read_wav(_write(tmp_path / "m.wav", np.arange(100, dtype="<i2")))
    assert mono.channels == ("unknown",) and mono.samples.shape == (100, 1)
    st = np.stack([np.full(50, 7, "<i2"), np.full(50, -9, "<i2")], axis=1)
    stereo = read_wav(_write(tmp_path / "s.wav", st))
    assert stereo.channels == ("agent", "customer")
    assert (stereo.samples[:, 0] == 7).all() and (stereo.samples[:, 1] == -9).all()


def test_8_and_24_bit_pcm_become_int16(tmp_path):
    eight = read_wav(_write(tmp_path / "8.wav", np.array([0, 128, 255], dtype=np.uint8), width=1))
    assert list(eight.samples[:, 0]) == [-32768, 0, 127 << 8]
    v = np.array([0x123456, -0x123456], dtype="<i4")
    raw = b"".join(int(x).to_bytes(3, "little", signed=True) for x in v)
    with wave.open(str(tmp_path / "24.wav"), "wb") as w:
        w.setnchannels(1), w.setsampwidth(3), w.setframerate(16000), w.writeframes(raw)
    assert list(read_wav(tmp_path / "24.wav").samples[:, 0]) == [0x1234, -0x1235]


def test_float_wav_is_refused_with_the_fix(tmp_path, speech):
    f = tmp_path / "float.wav"
    subprocess.run(["sox", str(speech["one"]), "-e", "floating-point", "-b", "32", str(f)], check=True)
    with pytest.raises(WavError) as e:
        read_wav(f)
    assert "float" in str(e.value) and str(f) in str(e.value) and "sox" in str(e.value)


def test_mp3_bytes_are_named(tmp_path):
    f = tmp_path / "call.wav"
    f.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 100)
    with pytest.raises(WavError, match="MP3"):
        read_wav(f)


@pytest.mark.parametrize("content", [b"", b"hello, not audio at all" * 10, b"RIFF\x10\x00\x00\x00WAVEfmt "])
def test_corrupt_files(tmp_path, content):
    f = tmp_path / "bad.wav"
    f.write_bytes(content)
    with pytest.raises(WavError) as e:
        read_wav(f)
    assert str(f) in str(e.value)


def test_truncated_data_keeps_what_is_there(tmp_path, speech):
    data = speech["one"].read_bytes()
    f = tmp_path / "cut.wav"
    f.write_bytes(data[: len(data) // 2 + 1])  # header says more than is there; odd byte count
    audio = read_wav(f)
    assert 0 < audio.samples.shape[0] < read_wav(speech["one"]).samples.shape[0]


def test_missing_and_multichannel(tmp_path):
    with pytest.raises(WavError, match="no such file"):
        read_wav(tmp_path / "nope.wav")
    f = _write(tmp_path / "3ch.wav", np.zeros((10, 3), dtype="<i2"))
    with pytest.raises(WavError, match="3 channels"):
        read_wav(f)


def _drain(q):
    items = []
    while True:
        item = q.get(timeout=5)
        if item is END:
            return items
        items.append(item)


def test_source_feeds_every_block_then_end(tmp_path):
    st = np.stack([np.arange(16000, dtype="<i2"), -np.arange(16000, dtype="<i2")], axis=1)
    audio = read_wav(_write(tmp_path / "s.wav", st))
    qs = {"agent": queue.Queue(), "customer": queue.Queue()}
    src = WavSource(audio, qs, speed=None)
    src.start()
    agent, customer = _drain(qs["agent"]), _drain(qs["customer"])
    assert src.completed
    assert np.concatenate([b.samples for b in agent]).tolist() == list(range(16000))
    assert [b.t for b in agent] == pytest.approx([i * 0.1 for i in range(10)])
    assert all(b.channel == "customer" for b in customer) and customer[3].samples[0] == -4800


def test_source_real_time_pacing_and_stop(tmp_path):
    audio = read_wav(_write(tmp_path / "m.wav", np.zeros(16000 * 3, dtype="<i2")))
    q = queue.Queue()
    src = WavSource(audio, {"unknown": q}, speed=1.0)
    began = time.monotonic()
    src.start()
    time.sleep(0.5)
    src.stop()
    items = []
    while not q.empty():
        items.append(q.get())
    assert items[-1] is END and not src.completed
    assert 3 <= len(items) - 1 <= 8  # ~0.5 s of 100 ms blocks, not the whole 3 s
    assert time.monotonic() - began < 2
