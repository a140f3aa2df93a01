"""The Qt-free demo player: real engine, events in call order, stop, bad files."""
import pytest

from assist.call import Call
from assist.demo import DemoError, DemoPlayer, load_demo
from assist.engine import AssistEngine
from assist.events import AssistResult, AudioLevel, CallEnded, CallStarted
from assist.knowledge import load_kb


def _call(events):
    return Call(AssistEngine(load_kb()), subscribers=(events.append,))


def test_demo_file_is_seed_000_call():
    lines = load_demo()
    assert 20 <= len(lines) <= 35
    assert {ln.speaker for ln in lines} == {"agent", "customer"}
    assert any("两天内先还一万" in ln.text for ln in lines)
    assert any("个人账户" in ln.text for ln in lines)
    assert all(a.end <= b.start for a, b in zip(lines, lines[1:]))
    assert [ln.mark for ln in lines if ln.mark] == ["screenshot"]


def test_fast_play_publishes_partials_then_finals_in_order():
    events = []
    player = DemoPlayer(_call(events), fast=True)
    player.start()
    assert player.wait(20)
    assert isinstance(events[0], CallStarted) and isinstance(events[-1], CallEnded)
    assert not events[-1].interrupted
    results = [e for e in events if isinstance(e, AssistResult)]
    finals = [r for r in results if r.utterance.final]
    assert len(finals) == len(load_demo())
    first_seg = results[0].utterance.segment
    seg_results = [r for r in results if r.utterance.segment == first_seg]
    assert not seg_results[0].utterance.final and seg_results[-1].utterance.final
    texts = [r.utterance.text for r in seg_results]
    assert all(texts[i] in texts[i + 1] for i in range(len(texts) - 1)), "partials grow"
    assert any(isinstance(e, AudioLevel) for e in events)
    assert any(w.severity == "critical" for r in finals for w in r.warnings)
    assert any(h.shown for r in finals for h in r.faq)


def test_stop_ends_the_call_as_interrupted():
    events = []
    player = DemoPlayer(_call(events), speed=1.0)
    player.start()
    player.stop()
    assert player.wait(5)
    assert isinstance(events[-1], CallEnded) and events[-1].interrupted


def test_bad_demo_file_names_the_line(tmp_path):
    f = tmp_path / "call.jsonl"
    f.write_text('{"speaker": "agent", "text": "hi", "start": 0, "end": 1}\n{"speaker": "boss"}\n', encoding="utf-8")
    with pytest.raises(DemoError, match=r"call.jsonl:2"):
        load_demo(f)
    with pytest.raises(DemoError, match="cannot read"):
        load_demo(tmp_path / "missing.jsonl")
