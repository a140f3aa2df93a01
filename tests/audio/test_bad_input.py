"""Bad input through the real recognizer (vosk, Korean model) and the real engine:
a minute of speech with no pause, both channels speaking at once, line noise, a stalled
recognizer. Nothing said may be lost, no channel may flood the panel, and one channel's
trouble must not hold up the other.
"""
from __future__ import annotations

import queue
import re
import subprocess
import threading

import numpy as np
import pytest

from assist.asr.recognizer import PARTIAL_INTERVAL, ChannelRecognizer
from assist.audio.block import END, AudioBlock
from assist.audio.wav_source import read_wav
from assist.engine.partials import MAX_EVALS_PER_SECOND
from assist.events import AssistResult
from assist.listening import Replay

HANGUL = re.compile(r"[\uac00-\ud7a3]")
pytestmark = pytest.mark.vosk

SENTENCES = ["이번 달 상환 금액을 확인해 주시겠어요", "연체 이자는 얼마나 되나요", "상환 기간을 연장할 수 있나요",
             "수수료를 먼저 내야 하나요", "신용 점수에 영향이 있나요", "조기 상환하면 위약금이 있나요",
             "감사합니다 내일 다시 전화 드리겠습니다", "자세한 내용은 문자로 보내 드리겠습니다"]


def _sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def _trimmed(text: str, out) -> None:
    raw = out.with_suffix(".raw.wav")
    _sh("espeak-ng", "-v", "ko", "-w", str(raw), text)
    _sh("sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out),
        "silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse")


@pytest.fixture(scope="module")
def monologue(tmp_path_factory):
    """About 60 s of speech with no pause longer than espeak's own word gaps, then 1 s of silence."""
    d = tmp_path_factory.mktemp("monologue")
    parts = []
    for i, text in enumerate(SENTENCES):
        parts.append(d / f"s{i}.wav")
        _trimmed(text, parts[-1])
    total = sum(read_wav(p).duration for p in parts)
    out = d / "monologue.wav"
    _sh("sox", *map(str, parts * max(1, round(60 / total))), str(out), "pad", "0", "1")
    return out


def _segment_partials(results):
    by = {}
    for r in results:
        if not r.utterance.final:
            by.setdefault(r.utterance.segment, []).append(r)
    return by


def _covered(finals, speech_end: float) -> None:
    """Every stretch of the speech ended up in some final: no hole over 3 s, the end reached."""
    words = sorted((w for u in finals for w in u.words), key=lambda w: w.start)
    assert words, "nothing recognized"
    holes = [b.start - a.end for a, b in zip(words, words[1:])]
    assert max([words[0].start, *holes]) < 3.0, (words[0].start, max(holes, default=0))
    assert words[-1].end > speech_end - 3.0, (words[-1].end, speech_end)


def test_a_minute_without_a_pause_loses_nothing_and_floods_nothing(ko_model_path, ko_model, monologue, make_call):
    call, rec = make_call()
    Replay(call, monologue, speed=None, model_path=ko_model_path).run()
    duration = read_wav(monologue).duration
    assert duration >= 50
    finals = [u for u in rec.utterances(final=True) if u.text]
    assert all(HANGUL.search(u.text) for u in finals)
    _covered(finals, duration - 1.0)
    partials = [u for u in rec.utterances(final=False)]
    # the recognizer's own throttle: at most one partial per PARTIAL_INTERVAL of audio
    assert len(partials) <= duration / PARTIAL_INTERVAL + len(finals)
    by_segment: dict[str, list[float]] = {}
    for u in partials:
        by_segment.setdefault(u.segment, []).append(u.end)
    for ends in by_segment.values():  # within a sentence, one partial per interval at most
        assert all(b - a >= PARTIAL_INTERVAL - 1e-6 for a, b in zip(ends, ends[1:]))


def test_crosstalk_both_channels_at_once(ko_model_path, ko_model, tmp_path, make_call):
    left, right = tmp_path / "l.wav", tmp_path / "r.wav"
    _trimmed(" ".join(SENTENCES[:3]), left)
    _trimmed(" ".join(SENTENCES[4:7]), right)
    both = tmp_path / "both.wav"
    _sh("sox", "-M", str(left), str(right), str(both), "pad", "0.3", "1")
    call, rec = make_call()
    Replay(call, both, speed=None, model_path=ko_model_path).run()
    for speaker, side in (("agent", left), ("customer", right)):
        finals = [u for u in rec.utterances(final=True) if u.text and u.speaker == speaker]
        assert finals and all(HANGUL.search(u.text) for u in finals), speaker
        _covered(finals, 0.3 + read_wav(side).duration)
    agent = " ".join(u.text for u in rec.utterances(final=True) if u.speaker == "agent")
    customer = " ".join(u.text for u in rec.utterances(final=True) if u.speaker == "customer")
    assert agent != customer


def test_line_noise_gives_no_flood(ko_model_path, ko_model, tmp_path, make_call):
    """Crackling, humming line noise (with bursts) for 20 s: whatever junk the recognizer
    hears, each channel's results stay under the caps."""
    noise = tmp_path / "noise.wav"
    _sh("sox", "-n", "-r", "16000", "-c", "2", "-b", "16", str(noise), "synth", "20", "pinknoise",
        "synth", "20", "sine", "amod", "3", "tremolo", "7", "90", "vol", "0.4")
    call, rec = make_call()
    Replay(call, noise, speed=None, model_path=ko_model_path).run()
    for speaker in ("agent", "customer"):
        results = [r for r in rec.of(AssistResult) if r.utterance.speaker == speaker]
        partials = [r for r in results if not r.utterance.final]
        assert len(partials) <= 20 / PARTIAL_INTERVAL + 1
        # no second of audio carries more partial results than the call's cap
        per_second: dict[int, int] = {}
        for r in partials:
            per_second[int(r.utterance.end)] = per_second.get(int(r.utterance.end), 0) + 1
        assert max(per_second.values(), default=0) <= MAX_EVALS_PER_SECOND
    assert not [e for e in rec.events if type(e).__name__ == "CardWithdrawn" and e.kind == "faq"]


class StallingRecognizer(ChannelRecognizer):
    """The real recognizer, except that vosk hangs on its first block until ``release`` is set
    (a fake at the one edge that cannot be made to stall for real)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.release = threading.Event()
        self.stalled = threading.Event()

    def _new_run(self, block):
        super()._new_run(block)
        real, outer = self._rec, self

        class Hanging:
            def __getattr__(self, name):
                return getattr(real, name)

            def AcceptWaveform(self, data):
                if not outer.release.is_set():
                    outer.stalled.set()
                    outer.release.wait(60)
                return real.AcceptWaveform(data)

        self._rec = Hanging()


def _blocks(path, channel):
    audio = read_wav(path)
    n = 1600
    x = audio.samples[:, 0]
    return [AudioBlock(channel, i / audio.rate, audio.rate, x[i:i + n].copy()) for i in range(0, len(x), n)]


def test_a_stalled_recognizer_holds_up_neither_the_other_channel_nor_its_own_words(ko_model, speech, make_call):
    call, rec = make_call()
    call.start()
    qa, qc = queue.Queue(), queue.Queue()
    agent = StallingRecognizer(ko_model, "agent", qa, on_utterance=call.hear, publish=call.publish)
    customer = ChannelRecognizer(ko_model, "customer", qc, on_utterance=call.hear, publish=call.publish)
    for b in _blocks(speech["one"], "agent"):
        qa.put(b)
    for b in _blocks(speech["two"], "customer"):
        qc.put(b)
    qa.put(END)
    qc.put(END)
    agent.start()
    customer.start()
    assert agent.stalled.wait(30)
    # while the agent's recognizer hangs, the customer's words still come through the call
    assert rec.wait_for(lambda r: any(u.speaker == "customer" and u.final and HANGUL.search(u.text)
                                      for u in r.utterances()), timeout=60)
    assert not [u for u in rec.utterances() if u.speaker == "agent"]
    agent.release.set()
    assert agent.join(60) and customer.join(60)
    finals = [u for u in rec.utterances(final=True) if u.speaker == "agent" and u.text]
    assert finals and HANGUL.search(" ".join(u.text for u in finals))  # the stalled words are not lost
