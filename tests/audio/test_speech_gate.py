"""The speech gate: silence between turns is not recognized, and nothing said is lost or mistimed.

The detector tests run on synthetic noise and espeak-ng speech; the recognizer
tests run the real Korean vosk model gated and ungated on the same blocks.
"""
from __future__ import annotations

import queue
import re

import numpy as np
import pytest

from assist.asr.gate import PREROLL, SpeechGate
from assist.asr.recognizer import ChannelRecognizer
from assist.audio.block import END, AudioBlock
from assist.audio.wav_source import read_wav

HANGUL = re.compile(r"[\uac00-\ud7a3]")
NOISE = 60  # std of the line noise in samples, about -55 dBFS: a quiet but never silent line


def _noise(rng, seconds: float) -> np.ndarray:
    return rng.normal(0, NOISE, int(16000 * seconds))


def _chunks(x: np.ndarray, t0: float = 0.0, n: int = 1600):
    x = np.clip(x, -32768, 32767).astype(np.int16)
    return [(t0 + i / 16000, x[i:i + n].copy()) for i in range(0, len(x), n)]


def test_steady_line_noise_is_not_speech_and_espeak_speech_is(speech):
    rng = np.random.default_rng(7)
    gate = SpeechGate(16000)
    heard = [gate.hear(b) for _, b in _chunks(_noise(rng, 4.0))]
    assert not any(h.speech for h in heard[10:])  # webrtcvad adapts to the noise within a second
    assert gate.quiet_for >= 3.0
    voice = read_wav(speech["one"]).samples[:, 0].astype(np.float64)
    heard = [gate.hear(b) for _, b in _chunks(voice + _noise(rng, len(voice) / 16000)[:len(voice)])]
    assert sum(h.speech for h in heard) >= len(heard) // 2
    assert any(h.loud for h in heard)
    assert gate.quiet_for < 1.5  # the file ends with 1 s of padding


def test_odd_rates_fall_back_to_the_energy_rule():
    gate = SpeechGate(22050)  # webrtcvad takes 8/16/32/48 kHz only
    loud = (np.sin(np.arange(2205) / 5) * 8000).astype(np.int16)
    assert gate.hear(np.zeros(2205, dtype=np.int16)).speech is False
    assert gate.hear(loud).speech is True


def test_preroll_keeps_the_last_audio_and_starts_afresh_after_a_jump():
    gate = SpeechGate(16000)
    for t, b in _chunks(np.ones(16000, dtype=np.int16)):
        gate.hold(t, b)
    held = gate.release()
    seconds = sum(len(b) for _, b in held) / 16000
    assert PREROLL <= seconds < PREROLL + 0.1
    assert held[-1][0] == pytest.approx(0.9)
    assert all(b[0] == pytest.approx(a[0] + 0.1) for a, b in zip(held, held[1:]))  # contiguous, oldest first
    assert gate.release() == []  # released blocks are forgotten
    gate.hold(0.0, np.ones(1600, dtype=np.int16))
    gate.hold(5.0, np.ones(1600, dtype=np.int16))  # a gap: what came before is not this speech's onset
    assert [t for t, _ in gate.release()] == [5.0]


def _recognize(model, x: np.ndarray, gate: bool):
    q: queue.Queue = queue.Queue()
    out: list = []
    r = ChannelRecognizer(model, "agent", q, on_utterance=out.append, publish=lambda e: None, gate=gate)
    for t, b in _chunks(x):
        q.put(AudioBlock("agent", t, 16000, b))
    q.put(END)
    r.start()
    assert r.join(timeout=120)
    return [u for u in out if u.final and u.text], r.stats


@pytest.mark.vosk
def test_silence_between_turns_is_skipped_and_words_keep_their_call_times(ko_model, speech):
    """Two sentences 6 s apart on a noisy line: gated, vosk hears little of the noise, the same
    sentences come out, and every word sits where the ungated recognizer puts it on the call clock."""
    rng = np.random.default_rng(3)
    one = read_wav(speech["one"]).samples[:, 0].astype(np.float64)
    two = read_wav(speech["two"]).samples[:, 0].astype(np.float64)
    parts = [_noise(rng, 3.0), one + _noise(rng, len(one) / 16000)[:len(one)], _noise(rng, 6.0),
             two + _noise(rng, len(two) / 16000)[:len(two)], _noise(rng, 2.0)]
    x = np.concatenate(parts)
    second_at = sum(len(p) for p in parts[:3]) / 16000
    gated, gs = _recognize(ko_model, x, gate=True)
    plain, ps = _recognize(ko_model, x, gate=False)

    assert ps.fed_seconds == pytest.approx(ps.audio_seconds, abs=0.01) and ps.gate_opened == 0
    assert gs.fed_seconds < gs.audio_seconds - 7.0  # most of the 11 s of noise was never recognized
    assert gs.gate_opened >= 2
    for finals in (gated, plain):
        first = [u for u in finals if u.end < second_at]
        second = [u for u in finals if u.start >= second_at - PREROLL]
        assert first and second and len(first) + len(second) == len(finals), [(u.text, u.start) for u in finals]
        assert HANGUL.search(" ".join(u.text for u in first)) and HANGUL.search(" ".join(u.text for u in second))
    # the end of each sentence (its last word) is where the ungated recognizer hears it
    for cut in (lambda u: u.end < second_at, lambda u: u.start >= second_at - PREROLL):
        g = max(w.end for u in gated if cut(u) for w in u.words)
        p = max(w.end for u in plain if cut(u) for w in u.words)
        assert g == pytest.approx(p, abs=0.15)
    words = [w for u in gated for w in u.words]
    assert all(w.start <= w.end for w in words) and [w.start for w in words] == sorted(w.start for w in words)


@pytest.mark.vosk
def test_a_blip_that_gives_no_words_closes_without_a_final(ko_model):
    """A knock on a quiet line opens the gate; it closes again soon after (vosk settles it with a final)."""
    rng = np.random.default_rng(5)
    x = _noise(rng, 6.0)
    for at in (2.0, 4.0):
        i = int(at * 16000)
        x[i:i + 400] += np.hanning(400) * 12000  # 25 ms knock
    _, stats = _recognize(ko_model, x, gate=True)
    assert stats.gate_opened == 2
    assert stats.fed_seconds < 4.0  # pre-roll + knock + the quiet it waits before closing, twice
