"""The real vosk recognizer (Korean model) on espeak-ng speech, through ChannelRecognizer and Replay."""
from __future__ import annotations

import queue
import re

import numpy as np
import pytest

from assist.asr.recognizer import SILENCE_TIMEOUT, ChannelRecognizer
from assist.audio.block import END, AudioBlock
from assist.audio.wav_source import read_wav
from assist.events import AudioLevel, CallEnded, CallStarted
from assist.listening import Replay

HANGUL = re.compile(r"[\uac00-\ud7a3]")
pytestmark = pytest.mark.vosk


def _recognize(model, blocks, channel="agent"):
    q: queue.Queue = queue.Queue()
    utterances, events = [], []
    r = ChannelRecognizer(model, channel, q, on_utterance=utterances.append, publish=events.append)
    for b in blocks:
        q.put(b)
    q.put(END)
    r.start()
    assert r.join(timeout=180)  # a hang guard: under load 10+ a few seconds of audio took over 60 s
    return utterances, events, r.stats


def _blocks(path, channel="agent", offset=0.0, step=0.1, index=0):
    audio = read_wav(path)
    n = int(audio.rate * step)
    x = audio.samples[:, index]
    return [AudioBlock(channel, offset + i / audio.rate, audio.rate, x[i:i + n].copy()) for i in range(0, len(x), n)]


def test_partials_then_final_with_word_times(ko_model, speech):
    utts, events, stats = _recognize(ko_model, _blocks(speech["one"]))
    finals = [u for u in utts if u.final]
    assert finals, "no final utterance"
    final = finals[0]
    assert HANGUL.search(final.text), final.text
    assert final.speaker == "agent" and final.segment == "agent-1"
    first_final = utts.index(final)
    partials = [u for u in utts[:first_final] if not u.final]
    assert partials and all(p.segment == "agent-1" for p in partials)
    # partials are only published when their text changes, or once more when the words held in a pause
    repeats = [b for a, b in zip(partials, partials[1:]) if a.text == b.text]
    assert len(repeats) == len({r.text for r in repeats})  # once per text at most
    ends = [p.end for p in partials]
    assert ends == sorted(ends) and len(set(ends)) == len(ends)  # a repeat comes later in the audio
    assert final.words and all(w.text for w in final.words)
    starts = [w.start for w in final.words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in final.words)
    assert 0.0 <= final.start < final.end <= read_wav(speech["one"]).duration + 0.01
    assert all(0.0 <= w.confidence <= 1.0 for w in final.words)
    assert final.confidence is not None
    assert any(isinstance(e, AudioLevel) and e.rms > 0 for e in events)
    assert stats.audio_seconds == pytest.approx(read_wav(speech["one"]).duration, abs=0.11)


def test_second_run_after_a_gap_keeps_call_times(ko_model, speech):
    blocks = _blocks(speech["one"]) + _blocks(speech["two"], offset=20.0)
    utts, _, stats = _recognize(ko_model, blocks)
    finals = [u for u in utts if u.final and u.text]
    assert len(finals) >= 2
    assert stats.runs == 2
    late = [u for u in finals if u.start >= 20.0]
    assert late and all(HANGUL.search(u.text) for u in late)
    assert [u.segment for u in finals] == [f"agent-{i}" for i in range(1, len(finals) + 1)]


def test_speech_cut_off_at_end_of_source_still_gives_a_final(ko_model, speech):
    audio = read_wav(speech["one"])
    cut = int(audio.rate * 1.6)  # stop mid-sentence: no trailing silence for the endpointer
    blocks = [b for b in _blocks(speech["one"]) if b.t * audio.rate < cut]
    utts, _, _ = _recognize(ko_model, blocks)
    finals = [u for u in utts if u.final]
    assert len(finals) == 1 and HANGUL.search(finals[0].text)


@pytest.mark.parametrize("key", ["8k", "44k"])
def test_other_sample_rates_are_resampled(ko_model, speech, key):
    assert read_wav(speech[key]).rate != 16000
    utts, _, _ = _recognize(ko_model, _blocks(speech[key]))
    finals = [u for u in utts if u.final]
    assert finals and HANGUL.search(" ".join(u.text for u in finals))


def test_stereo_replay_gives_agent_and_customer(ko_model_path, ko_model, speech, make_call):
    call, rec = make_call()
    replay = Replay(call, speech["stereo"], speed=None, model_path=ko_model_path)
    replay.run()
    finals = rec.utterances(final=True)
    by_speaker = {u.speaker for u in finals if HANGUL.search(u.text)}
    assert by_speaker == {"agent", "customer"}
    agent = " ".join(u.text for u in finals if u.speaker == "agent")
    customer = " ".join(u.text for u in finals if u.speaker == "customer")
    assert agent != customer  # different speech on each side
    assert isinstance(rec.events[0], CallStarted) and isinstance(rec.events[-1], CallEnded)
    assert rec.events[-1].interrupted is False
    assert replay.stats["agent"]["finals"] >= 1 and replay.stats["customer"]["finals"] >= 1


def test_mono_replay_is_unknown_speaker_at_real_time(ko_model_path, ko_model, speech, make_call):
    call, rec = make_call()
    replay = Replay(call, speech["one"], speed=4.0, model_path=ko_model_path)
    import time

    began = time.monotonic()
    replay.run()
    took = time.monotonic() - began
    duration = read_wav(speech["one"]).duration
    assert took >= duration / 4 * 0.9  # paced, not max speed
    finals = rec.utterances(final=True)
    assert finals and {u.speaker for u in finals} == {"unknown"}
    assert finals[0].segment == "unknown-1"


def test_silence_gives_no_utterances(ko_model):
    blocks = [AudioBlock("customer", i * 0.1, 16000, np.zeros(1600, dtype=np.int16)) for i in range(30)]
    utts, events, _ = _recognize(ko_model, blocks, channel="customer")
    assert [u for u in utts if u.text] == []
    assert any(isinstance(e, AudioLevel) and e.rms == 0 for e in events)


def test_final_comes_promptly_after_the_speaker_stops(ko_model, speech):
    """Measured in audio time: the final must not wait for vosk's 1 s rule or for the next speech."""
    one = _blocks(speech["one"])
    # steady low noise after the speech, well above digital silence
    rng = np.random.default_rng(1)
    t = one[-1].end
    noise = [AudioBlock("agent", t + i * 0.1, 16000, (rng.normal(0, 60, 1600)).astype(np.int16)) for i in range(40)]
    utts, _, stats = _recognize(ko_model, one + noise)
    finals = [u for u in utts if u.final and u.text]
    assert len(finals) == 1
    assert stats.final_lags and max(stats.final_lags) <= SILENCE_TIMEOUT + 0.3, (stats.final_lags, [(u.text, u.end, u.final) for u in utts][-3:])


def test_a_block_the_recognizer_cannot_read_is_reported_in_chinese_and_the_rest_is_heard(ko_model, speech):
    # a block that cannot be fed (its samples are not numbers) must not end the channel: the agent
    # is told once, in Chinese, and the speech after it is still recognised
    bad = AudioBlock("agent", 0.0, 16000, np.array(["x"] * 1600))
    utts, events, stats = _recognize(ko_model, [bad] + _blocks(speech["one"], offset=0.1))
    problems = [e for e in events if type(e).__name__ == "DeviceProblem"]
    assert stats.errors >= 1 and len(problems) == 1
    assert "语音识别出错" in problems[0].message and not re.search(r"[A-Za-z]", problems[0].message)
    assert any(HANGUL.search(u.text) for u in utts)
