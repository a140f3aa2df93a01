"""Drive the real panel through the demo call (real engine, real SQLite store, fast pace)."""
import threading

from assist.demo import load_demo
from assist.ui.stepper import CURRENT, DONE


def _wait_mark(qtbot, ctl):
    marks = []
    ctl.demo_mark.connect(lambda i, m: marks.append((i, m)))
    assert ctl.start("")
    qtbot.waitUntil(lambda: bool(marks), timeout=15000)
    return marks[0]


def test_demo_mid_call_shows_cards_stepper_and_warning(qtbot, demo, panel):
    index, mark = _wait_mark(qtbot, demo)
    assert mark == "screenshot"
    lines = load_demo()
    assert lines[index].text.startswith("行吧，那我两天内先还一万")
    qtbot.waitUntil(lambda: panel.transcript.segments == index + 1, timeout=5000)
    kb = demo.kb

    # FAQ card: the answer of a real KB FAQ, with the question it matched.
    faq = kb.faq(panel.cards.faq_card.key)
    assert panel.cards.faq_card.body.text() == faq.answer
    assert faq.question in panel.cards.faq_card.head.text()
    # Next-line card: a script line of the playbook the engine settled on.
    pb = panel.stepper.playbook
    assert pb is not None and pb.id == "changjiang_extension"
    script = {ln.text for st in pb.stages for ln in st.lines} | {pb.opening, pb.closing}
    assert panel.cards.line_card.body.text().split("\n\n")[0] in script
    # Stepper: early stages done, one current.
    states = panel.stepper.states()
    assert states[0] == DONE and states.count(CURRENT) == 1
    assert states.index(CURRENT) >= 4
    # The personal-account line raised a red banner that stays until acknowledged.
    banner = panel.warning_banner
    assert banner.isVisible()
    assert "个人账户" in banner.said.text()
    assert banner.current.warning.severity == "critical"
    assert panel.frame.property("flash") in ("true", "false")  # flashing
    # The transcript underlines what was said.
    assert "转到我个人账户" in panel.transcript.toPlainText()

    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    assert panel.transcript.segments == len(lines)
    assert banner.isVisible(), "a warning must stay until acknowledged, even after the call"


def test_acknowledgement_and_notes_reach_the_store(qtbot, demo, panel):
    _wait_mark(qtbot, demo)
    demo.player.resume()
    qtbot.waitUntil(lambda: not demo.in_call, timeout=15000)
    sid = panel.session_id
    store = demo.store
    assert demo.recorder.wait_saved()  # the recorder writes on its own thread
    rows = store.warnings(sid)
    assert rows and not any(r["acknowledged"] for r in rows)

    qtbot.mouseClick(panel.warning_banner.ack_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    assert not panel.warning_banner.isVisible()
    assert panel.frame.property("flash") == "false"
    assert demo.recorder.wait_saved()  # queued for the recorder's writer thread, like utterances
    acked = [r for r in store.warnings(sid) if r["acknowledged"]]
    assert len(acked) == 1 and "个人账户" in acked[0]["said"]

    # QTest can only type ASCII keys; Chinese comes through the input method, i.e. inserted text.
    panel.notes.setFocus()
    qtbot.keyClicks(panel.notes, "10000 in 2 days ")
    panel.notes.insertPlainText("客户承诺")
    qtbot.waitUntil(lambda: store.get_notes(sid) == "10000 in 2 days 客户承诺", timeout=5000)
    assert panel.notes_state.text() == "已保存 ✓"


def test_partials_replace_in_place_and_copy(qtbot, panel):
    from PySide6.QtWidgets import QApplication

    from assist.events import AssistResult, FaqHit, Utterance

    seg = "s1"
    for text in ("展期", "展期会不会", "展期会不会影响征信"):
        panel.on_result(AssistResult(utterance=Utterance("customer", text, final=False, segment=seg)))
    panel.on_result(AssistResult(utterance=Utterance("customer", "展期会不会影响征信？", segment=seg),
                                 faq=(FaqHit("x", "征信会受影响吗？", "不会。", 0.9, True),)))
    assert panel.transcript.segments == 1
    assert panel.transcript.toPlainText() == "客户  展期会不会影响征信？"
    # a different utterance with no FAQ keeps the card; the same FAQ again changes nothing
    panel.on_result(AssistResult(utterance=Utterance("agent", "好的", segment="s2")))
    assert panel.cards.faq_card.body.text() == "不会。"
    assert not panel.cards.faq_card.set_content("x", "other")
    qtbot.mouseClick(panel.cards.faq_card.copy_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "不会。"


def test_bridge_delivers_worker_events_on_the_gui_thread(qtbot):
    from assist.events import AudioLevel
    from assist.ui.bridge import EventBridge

    bridge = EventBridge()
    seen = []
    bridge.level.connect(lambda e: seen.append((e, threading.current_thread() is threading.main_thread())))
    t = threading.Thread(target=lambda: [bridge(AudioLevel("agent", i / 100)) for i in range(50)])
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(seen) == 50, timeout=3000)
    assert all(on_main for _, on_main in seen)
    assert [e.rms for e, _ in seen] == [i / 100 for i in range(50)]


def test_signal_emit_keeps_bool_refcounts(qtbot):
    """PySide6 6.12.0 decrefs True on every emit (crash after a few hundred on Python 3.11): pin != 6.12.0."""
    import sys

    from assist.events import AudioLevel
    from assist.ui.bridge import EventBridge

    bridge = EventBridge()
    bridge.level.connect(lambda e: None)
    before = sys.getrefcount(True)
    for i in range(200):
        bridge(AudioLevel("agent", 0.1))
    assert sys.getrefcount(True) >= before - 20
