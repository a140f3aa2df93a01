"""An unplugged headset mid-call, end to end: two named inputs, the real panel, PulseAudio underneath.

PortAudio lists user-defined ALSA PCMs, so an ``.asoundrc`` in a private HOME gives two PulseAudio
sources names of their own (``assist_e2e_headset``, ``assist_e2e_phone``), chosen in the user's
settings like real devices. The softphone's output is a null sink's monitor on the test server. The
headset is a null sink on a PulseAudio server of its own: stopping that server takes the device
away for real (the capture's stream dies). Unloading a sink would not: PulseAudio moves a recording
stream whose source goes away to the fallback source (here the test sink's monitor, on a desk the
laptop's microphone), so the stream goes on and nothing is lost from PortAudio's point of view.

The panel's ``CallController`` starts a live call on both (fixture KB, Korean vosk, real SQLCipher
store); the headset goes while the agent is speaking. Checked: the banner names the device in
Chinese and says the call goes on; what the agent said up to the unplug is a final at once (not
only when the call ends) and is stored; the customer's channel is still recognised and stored after
the unplug; plugging the headset back in clears the banner and the agent is heard again; the call
ends cleanly with the gap recorded, nothing shown lost from the store.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HANGUL = re.compile(r"[\uac00-\ud7a3]")
FIXTURE_KB = Path(__file__).resolve().parents[1] / "engine" / "fixture_kb"
HEADSET, PHONE = "assist_e2e_headset", "assist_e2e_phone"
HEADSET_SINK = "e2e_headset"  # on the headset's own server
pytestmark = [pytest.mark.audio, pytest.mark.vosk]
# Two recognizers on a 2-core machine other people load too can run several times slower than
# real time: waits for recognised words are long (they are limits, not measurements).
RECOGNISED_MS = 300_000


def _pactl(*args: str) -> str:
    return subprocess.run(["pactl", *args], check=True, capture_output=True, text=True, timeout=30).stdout


class Inputs:
    """The two named inputs: the headset's own server (unplug = stop it) and the phone's sink."""

    def __init__(self, headset_server):
        self.headset_server = headset_server
        self.players: list[subprocess.Popen] = []

    def play(self, device: str, wav: Path) -> None:
        if device == HEADSET:
            cmd, env = ["paplay", f"--device={HEADSET_SINK}", str(wav)], dict(os.environ,
                                                                               PULSE_SERVER=self.headset_server.server)
        else:
            cmd, env = ["paplay", f"--device={PHONE}", str(wav)], None
        self.players.append(subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL))

    def wait_played(self) -> None:
        for p in self.players:
            p.wait(timeout=30)

    def unplug_headset(self) -> None:
        self.headset_server.stop()

    def plug_headset_back(self) -> None:
        self.headset_server.start()


@pytest.fixture
def named_inputs(null_sink, make_private_pulse, tmp_path, monkeypatch):
    """Two inputs PortAudio lists by name (see the module's docstring)."""
    from assist.audio import devices

    null_sink(PHONE)
    (tmp_path / "hs").mkdir()
    headset_server = make_private_pulse(tmp_path / "hs", HEADSET_SINK)
    main = next(line.split(":", 1)[1].strip() for line in _pactl("info").splitlines()
                if line.startswith("Server String"))
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(
        f'pcm.{HEADSET} {{ type pulse; server "{headset_server.server}"; device "{HEADSET_SINK}.monitor" }}\n'
        f'pcm.{PHONE} {{ type pulse; device "{PHONE}.monitor" }}\n')
    monkeypatch.setenv("HOME", str(home))
    # with HOME moved, libpulse finds the test's server only through its runtime directory
    monkeypatch.setenv("PULSE_RUNTIME_PATH", str(Path(main).parent))
    devices.rescan()
    names = {d.name for d in devices.list_inputs()}
    assert {HEADSET, PHONE} <= names, f"PortAudio does not list the named inputs: {sorted(names)}"
    inputs = Inputs(headset_server)
    yield inputs
    for p in inputs.players:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    monkeypatch.undo()
    devices.rescan()  # leave PortAudio as the other audio tests expect it


def _finals(results, speaker, *, ended_after=-1.0, ended_by=float("inf")):
    """Final utterances of ``speaker`` with Hangul whose speech ended in (ended_after, ended_by] (call time).

    By end time: a segment's start is where the channel's previous final ended, its end is the speech's.
    """
    return [r.utterance for r in results
            if r.utterance.speaker == speaker and r.utterance.final and HANGUL.search(r.utterance.text)
            and ended_after < r.utterance.end <= ended_by]


def _wait(qtbot, predicate, what: str, results, problems, timeout: int, stats=lambda: None) -> None:
    """waitUntil that says, when it gives up, what was heard and reported, and the channels' figures."""
    try:
        qtbot.waitUntil(lambda: bool(predicate()), timeout=timeout)
    except Exception:
        heard = [(r.utterance.speaker, r.utterance.final, r.utterance.start, r.utterance.end, r.utterance.text)
                 for r in results]
        raise AssertionError(f"{what}: not seen; heard {heard}; problems {problems}; stats {stats()}") from None


def test_unplugged_headset_mid_call_keeps_the_call_going(qtbot, named_inputs, speech, ko_model_path,
                                                          ko_model, tmp_path, monkeypatch, latin_words):
    from PySide6.QtCore import QSettings

    import assist.listening
    from assist.config import UserConfig, save_config
    from assist.ui.app import CallController
    from assist.ui.panel import Panel

    monkeypatch.setenv("ASSIST_MODEL", str(ko_model_path))
    monkeypatch.setenv("ASSIST_ENCODER", "none")  # lexical engine: no sentence vectors to build
    # The scenario runs in real time; recognition is checked afterwards. On this shared 2-core machine
    # two recognizers can run several times slower than real time, and past 10 s of backlog the product
    # drops audio (by design: memory stays bounded). Here the queues hold the whole call, so every word
    # is recognised in the end, late; no block may be dropped (asserted below).
    monkeypatch.setattr(assist.listening, "QUEUE_BLOCKS", 10 * 60 * 10)
    save_config(UserConfig().with_changes(agent_device=HEADSET, customer_device=PHONE))
    panel = Panel(settings=QSettings(str(tmp_path / "panel.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(panel)
    panel.resize(420, 1000)
    panel.show()
    ctl = CallController(panel, kb_dir=FIXTURE_KB)
    results: list = []
    problems: list = []
    ended: list = []
    ctl.bridge.result.connect(lambda r, _t: results.append(r))
    ctl.bridge.device_problem.connect(problems.append)
    ctl.bridge.call_ended.connect(ended.append)
    qtbot.waitUntil(lambda: ctl.kb is not None and ctl.store_settled, timeout=30000)
    assert ctl.recorder is not None, panel.notice.message.text()

    try:
        assert ctl.start("", demo=False)
        qtbot.waitUntil(lambda: panel.live and ctl.listener is not None and len(ctl.listener.captures) == 2,
                        timeout=30000)
        listener = ctl.listener
        agent_capture = listener.captures["agent"]
        inputs = named_inputs

        def stats():
            return listener.stats

        # -- the call, in real time -------------------------------------------------------------------
        inputs.play(HEADSET, speech["one"])  # both channels speak before anything goes wrong
        inputs.play(PHONE, speech["two"])
        inputs.wait_played()
        before_agent_speaks = listener._call_time()
        blocks = agent_capture.stats.blocks
        inputs.play(HEADSET, speech["two"])  # 0.3 s of silence, then 3.4 s of speech ...
        # ... pulled out 2 s into it (counted in captured audio, not wall time: the machine may be busy)
        qtbot.waitUntil(lambda: agent_capture.stats.blocks >= blocks + 20, timeout=20000)
        inputs.unplug_headset()
        unplugged_at = listener._call_time()
        qtbot.waitUntil(lambda: any(p.kind == "lost" for p in problems), timeout=15000)

        # the banner: which device went, in Chinese, that the customer's channel goes on, what to do
        qtbot.waitUntil(lambda: panel.notice.isVisible() and panel.notice.kind == "device", timeout=5000)
        shown = panel.notice.message.toolTip() + "\n" + panel.notice.fix.text()
        assert f"「{HEADSET}」" in shown and "坐席耳机" in shown and "断开" in shown
        assert "客户声道照常识别" in shown and "通话没有中断" in shown and "接回去" in shown
        assert latin_words(shown.replace(HEADSET, "")) == [], shown

        inputs.wait_played()
        customer_speaks = listener._call_time()
        inputs.play(PHONE, speech["one"])  # the customer talks on while the headset is away
        inputs.wait_played()
        inputs.plug_headset_back()  # and the headset comes back: the banner goes
        qtbot.waitUntil(lambda: any(p.recovered for p in problems), timeout=20000)
        qtbot.waitUntil(lambda: not panel.notice.isVisible(), timeout=5000)
        back_at = listener._call_time()
        inputs.play(HEADSET, speech["one"])
        inputs.wait_played()
        assert not ended

        # -- what was recognised (late, on a busy machine) ---------------------------------------------
        # what the agent said up to the unplug is a final (closed by the unplug, not by the call's end)
        _wait(qtbot, lambda: _finals(results, "agent", ended_after=before_agent_speaks, ended_by=unplugged_at + 0.5),
              "the agent's words up to the unplug", results, problems, RECOGNISED_MS, stats)
        cut_short = _finals(results, "agent", ended_after=before_agent_speaks, ended_by=unplugged_at + 0.5)
        # the other channel went on: the customer's words after the unplug were recognised
        _wait(qtbot, lambda: _finals(results, "customer", ended_after=customer_speaks),
              "the customer after the unplug", results, problems, RECOGNISED_MS, stats)
        after_unplug = _finals(results, "customer", ended_after=customer_speaks)
        # and the agent is heard again once the headset is back
        _wait(qtbot, lambda: _finals(results, "agent", ended_after=back_at),
              "the agent after plugging back in", results, problems, RECOGNISED_MS, stats)
        assert not ended
        assert listener.captures["customer"].stats.lost == 0
        assert all(s["dropped"] == 0 for s in listener.stats.values()), listener.stats

        ctl.stop()
        qtbot.waitUntil(lambda: bool(ended), timeout=RECOGNISED_MS)
        assert not ended[0].interrupted
        assert ctl.recorder.wait_saved(10)
        sid = ended[0].session_id
        stored = ctl.store.utterances(sid)
        shown_finals = [u for r in results for u in [r.utterance] if u.final and HANGUL.search(u.text)]
        # nothing said is lost: every final the panel showed is in the store, on its channel
        assert {(u.speaker, u.segment, u.text) for u in shown_finals} <= {
            (s["speaker"], s["segment"], s["text"]) for s in stored}
        assert cut_short and after_unplug
        events = ctl.store.call_events(sid)
        gaps = [e for e in events if e["kind"] == "audio_gap" and e["channel"] == "agent"]
        assert len(gaps) == 1 and "断开" in gaps[0]["message"]
        assert unplugged_at - 0.5 <= gaps[0]["start_s"] <= unplugged_at + 2 and gaps[0]["end_s"] <= back_at
        assert [e["recovered"] for e in events if e["kind"] == "device_problem" and e["channel"] == "agent"] == [0, 1]
        # the customer's device never went (a busy machine may still report an input overflow there)
        assert not any(e["channel"] == "customer" and ("断开" in e["message"] or "没有声音" in e["message"])
                       for e in events)
        assert ctl.store.get_session(sid)["ended_at"]
    finally:
        ctl.shutdown()  # a failed check must not leave the devices open


def test_a_lost_device_closes_what_its_channel_said_at_once(pulse, make_private_pulse, tmp_path, monkeypatch):
    """The capture puts FLUSH after the last block when its device goes: the recognizer makes the words
    so far a final then, not when the device is back or the call ends (no recognizer here: the queue itself)."""
    import queue

    from assist.audio.block import FLUSH, AudioBlock
    from assist.audio.capture import Capture
    from assist.events import DeviceProblem

    server = make_private_pulse(tmp_path, "gone")
    monkeypatch.setenv("PULSE_SERVER", server.server)  # libpulse reads it at every stream open
    monkeypatch.setenv("PULSE_SOURCE", "gone.monitor")
    q: queue.Queue = queue.Queue()
    events: list = []
    cap = Capture("agent", "pulse", q, call_time=lambda: 0.0, publish=events.append, retry_seconds=0.5)
    cap.start()
    try:
        deadline = time.monotonic() + 20
        while cap.stats.blocks < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cap.stats.blocks >= 5
        server.stop()  # the device goes
        while not any(isinstance(e, DeviceProblem) for e in events) and time.monotonic() < deadline + 20:
            time.sleep(0.05)
        lost = [e for e in events if isinstance(e, DeviceProblem)]
        assert lost and lost[0].kind == "lost" and lost[0].device == "pulse" and not lost[0].recovered
        items = []
        while not q.empty():
            items.append(q.get_nowait())
        assert items[-1] is FLUSH and all(isinstance(i, AudioBlock) for i in items[:-1]) and len(items) > 5
    finally:
        cap.stop()
