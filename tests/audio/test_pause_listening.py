"""Pausing a live call (Ctrl+P) on the real pipeline: PulseAudio null sink -> PortAudio -> vosk -> Call -> store.

What was said before the pause is a final at once; what is said during the pause is neither recognized
nor stored; after resuming, speech is heard again; the pause is marked for the panel (events) and in
the store (a call event with its start and end). Fixture KB; Korean espeak-ng speech.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from assist.events import CallEnded, ListeningPaused, ListeningResumed
from assist.listening import Listener

HANGUL = re.compile(r"[\uac00-\ud7a3]")
FIXTURE_KB = Path(__file__).resolve().parents[1] / "engine" / "fixture_kb"
pytestmark = [pytest.mark.audio, pytest.mark.vosk]


def test_pause_stops_recognition_marks_the_store_and_resumes(pulse, player, speech, ko_model_path, ko_model,
                                                              tmp_path, recorded):
    from assist.assembly import make_call, open_recording
    from assist.knowledge import load_kb

    recording = open_recording(tmp_path / "sessions.db")
    rec = recorded
    call = make_call(load_kb(FIXTURE_KB), None, (rec,), recording)
    listener = Listener(call, agent_device="pulse", model_path=ko_model_path)
    listener.start()
    try:
        time.sleep(0.5)
        player(pulse, speech["one"]).wait(timeout=20)
        assert rec.wait_for(lambda r: any(HANGUL.search(u.text) for u in r.utterances(final=True)), timeout=15)
        assert listener.pause() and listener.paused and not listener.pause()  # a second pause does nothing
        heard_before = len(rec.utterances())
        player(pulse, speech["two"]).wait(timeout=20)  # said while paused
        time.sleep(1.0)
        during = rec.utterances()[heard_before:]
        assert listener.resume() and not listener.paused and not listener.resume()
        player(pulse, speech["one"]).wait(timeout=20)
        assert rec.wait_for(lambda r: any(HANGUL.search(u.text) and u.start > resumed.at
                                          for u in r.utterances(final=True)
                                          for resumed in r.of(ListeningResumed)), timeout=15)
    finally:
        listener.stop()
    assert during == [], [u.text for u in during]
    (paused,), (resumed,) = rec.of(ListeningPaused), rec.of(ListeningResumed)
    assert 0 < paused.at < resumed.at and resumed.paused_at == paused.at and resumed.at - paused.at >= 2.0
    finals = [u for u in rec.utterances(final=True) if u.text]
    assert not any(paused.at < u.start < resumed.at for u in finals), "speech from the pause was recognized"
    before = [u for u in finals if u.end <= paused.at + 0.2]
    assert before and all(HANGUL.search(u.text) for u in before)  # closed as a final by the pause
    assert isinstance(rec.events[-1], CallEnded) and not rec.events[-1].interrupted
    assert recording.recorder.wait_saved(10)
    sid = rec.events[-1].session_id
    events = recording.store.call_events(sid)
    pauses = [e for e in events if e["kind"] == "listening_paused"]
    assert len(pauses) == 1 and pauses[0]["start_s"] == paused.at and pauses[0]["end_s"] == resumed.at
    stored = [u for u in recording.store.utterances(sid) if u["text"]]
    assert stored and not any(paused.at < u["start_s"] < resumed.at for u in stored)
    assert any(u["start_s"] > resumed.at for u in stored)  # heard again after resuming
    recording.recorder.close()


def test_a_call_ending_while_paused_closes_the_pause(pulse, ko_model_path, ko_model, make_call):
    call, rec = make_call()
    listener = Listener(call, agent_device="pulse", model_path=ko_model_path)
    listener.start()
    try:
        time.sleep(0.5)
        assert listener.pause()
        time.sleep(0.5)
    finally:
        listener.stop()
    (paused,), (resumed,) = rec.of(ListeningPaused), rec.of(ListeningResumed)
    assert resumed.paused_at == paused.at and resumed.at >= paused.at
    assert not listener.paused and isinstance(rec.events[-1], CallEnded)
