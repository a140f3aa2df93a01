"""The next call's engine built ahead on a worker (``assembly.SpareEngine``): what a call gets from it.

The panel builds it while idle so that F8 does not build an engine on the GUI thread;
bench/startup.py measures the time, these tests the hand-over.
"""
import threading
import time
from pathlib import Path

import pytest

from assist import assembly
from assist.knowledge import load_kb

FIXTURE_KB = Path(__file__).parent / "fixture_kb"


@pytest.fixture(scope="module")
def kb():
    return load_kb(FIXTURE_KB)


def _wait_ready(spare, kb):
    deadline = time.monotonic() + 120  # a generous bound on a loaded machine, not a speed check
    while not spare.ready_for(kb):
        assert time.monotonic() < deadline, "the spare engine was never built"
        time.sleep(0.01)


def test_a_spare_is_built_on_a_worker_and_handed_out_once(kb, monkeypatch):
    built_on = []
    real = assembly.make_engine

    def recording_make_engine(kb_, playbook_id=None):
        engine = real(kb_, playbook_id)
        built_on.append((threading.current_thread(), engine))
        return engine

    monkeypatch.setattr(assembly, "make_engine", recording_make_engine)
    spare = assembly.SpareEngine()
    spare.prepare(kb)
    _wait_ready(spare, kb)
    [(thread, engine)] = built_on
    assert thread is not threading.current_thread()
    call = assembly.make_call(kb, spare=spare)
    assert call.engine is engine and len(built_on) == 1  # nothing built at "F8"
    assert not spare.ready_for(kb)
    other = assembly.make_call(kb, spare=spare)  # none left: built here, as before
    assert other.engine is not engine and built_on[-1][0] is threading.current_thread()


def test_a_spare_follows_the_playbook_asked_for(kb):
    spare = assembly.SpareEngine()
    spare.prepare(kb)
    _wait_ready(spare, kb)
    playbook_id = sorted(kb.playbooks)[-1]
    call = assembly.make_call(kb, playbook_id, spare=spare)
    assert call.engine.playbook_id == playbook_id
    assert call.engine.fixed_playbook_id == playbook_id


def test_an_unknown_playbook_is_still_reported_in_the_users_words(kb):
    spare = assembly.SpareEngine()
    spare.prepare(kb)
    _wait_ready(spare, kb)
    with pytest.raises(assembly.AssistError) as e:
        assembly.make_call(kb, "没有这个话术", spare=spare)
    assert "没有这个话术" in e.value.message and "可选的话术" in e.value.fix


def test_a_spare_built_for_another_kb_is_not_used(kb):
    spare = assembly.SpareEngine()
    spare.prepare(kb)
    _wait_ready(spare, kb)
    newer = load_kb(FIXTURE_KB)  # a reload: another KnowledgeBase object
    assert not spare.ready_for(newer)
    call = assembly.make_call(newer, spare=spare)
    assert call.engine.kb is newer
    spare.prepare(newer)  # the panel asks again for the new KB: the old spare is dropped
    _wait_ready(spare, newer)
    assert not spare.ready_for(kb)
    assert assembly.make_call(newer, spare=spare).engine.kb is newer


def test_modules_the_call_start_needs_are_imported_on_the_worker():
    """``warm_imports`` (the panel passes the listener's audio code) load before the spare is ready."""
    import subprocess
    import sys

    code = f"""
import sys, time
from assist import assembly
from assist.knowledge import load_kb
kb = load_kb({str(FIXTURE_KB)!r})
spare = assembly.SpareEngine(warm_imports=("assist.demo",))
assert "assist.demo" not in sys.modules and "assist.call" not in sys.modules
spare.prepare(kb)
while not spare.ready_for(kb):
    time.sleep(0.01)
print("assist.demo" in sys.modules, "assist.call" in sys.modules)
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["True", "True"]


def test_a_spare_asked_for_an_unknown_playbook_stays_for_the_next_call(kb):
    spare = assembly.SpareEngine()
    spare.prepare(kb)
    _wait_ready(spare, kb)
    assert spare.take(kb, "没有这个话术") is None
    assert spare.ready_for(kb)
