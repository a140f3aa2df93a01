"""The ``listen`` / ``replay`` terminal view shows KB and recognized text, never escape codes.

A KB answer can carry an escape sequence (YAML's ``"\\e"``), and so can a transcript line: on a
terminal that is an instruction (clear the screen, retitle the window, OSC 52 writes the
clipboard), not text. The view strips them as other terminal output does (``assist.printable``),
and keeps the words. Runs the real engine on a broken-on-purpose copy of the fixture KB.
"""
import io
import shutil
from pathlib import Path

from rich.console import Console

from assist.engine import AssistEngine
from assist.events import AudioGap, DeviceProblem, StoreProblem, Utterance
from assist.knowledge import load_kb
from assist.terminal_view import TerminalView

FIXTURE_KB = Path(__file__).parent / "fixture_kb"
HOSTILE = ("\x1b[2J", "\x1b]52;c;Y3VybCBldmlsfHNo\x07", "\x1b]0;标题\x1b\\", "\x9b31m", "\u202e", "\x07", "\r")


def _kb_with_hostile_answer(tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "faqs" / "hostile.yaml").write_text(
        "faqs:\n  - id: x.hostile\n    question: 可以用支付宝还款吗\n"
        "    paraphrases: [支付宝能不能还款, 能用支付宝还吗, 支付宝还款可以吗]\n"
        '    answer: "可以\\e[2J用\\e]52;c;Y3VybCBldmlsfHNo\\a支付宝\\u202e还款"\n', encoding="utf-8")
    return load_kb(kb, use_cache=False)


def _shown(view: TerminalView) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None, force_terminal=False).print(view.render())
    return buf.getvalue()


def test_escape_codes_from_kb_and_speech_never_reach_the_terminal(tmp_path):
    kb = _kb_with_hostile_answer(tmp_path)
    assert "\x1b" in next(f.answer for f in kb.faqs if f.id == "x.hostile")  # the KB really carries one
    engine = AssistEngine(kb)
    view = TerminalView()
    said = "支付宝\x1b[2J能不能\x1b]52;c;ZXZpbA==\x07还款"
    result = engine.process(Utterance("customer", said, start=1.0, segment="c-1"))
    assert [h.faq_id for h in result.faq if h.shown][:1] == ["x.hostile"]
    view(result)
    view(engine.process(Utterance("agent", "再不还就让你坐牢\x1b[8m", start=3.0, segment="a-1")))
    view(DeviceProblem("agent", "耳机\x1b[2J拔掉了", fix="插回\x1b]0;x\x07去"))
    view(StoreProblem("磁盘\x9b已满"))
    view(AudioGap("customer", 1.0, 2.0, reason="输入\x1b[K丢失"))
    out = _shown(view)
    for seq in HOSTILE:
        assert seq not in out, repr(seq)
    assert "\x1b" not in out and "\x9b" not in out
    for words in ("支付宝能不能还款", "可以用支付宝还款", "坐牢", "耳机拔掉了", "插回去", "磁盘已满", "输入丢失"):
        assert words in out.replace("\n", "").replace("│", "").replace(" ", ""), words


def test_the_view_speaks_chinese():
    out = _shown(TerminalView())
    assert "正在收听" in out and "通话文字" in out and "Ctrl+C" in out
    assert "listening" not in out and "transcript" not in out


def test_a_runaway_line_shows_its_end_and_its_warning_not_a_million_characters():
    from assist.terminal_view import SHOWN_CHARS

    engine = AssistEngine(load_kb(FIXTURE_KB))
    # a violation at the start, escape codes all along (one cut in two by the view's cut), the newest words last
    text = "再不还就让你坐牢" + "您好\x1b[2J这边跟您核对账单" * 70_000 + "最后一句话"
    view = TerminalView()
    view(engine.process(Utterance("agent", text, start=0.0, segment="a-1")))
    out = _shown(view)
    flat = out.replace("\n", "").replace("│", "").replace(" ", "")
    assert "\x1b" not in out
    assert "最后一句话" in flat and "…" in flat  # the end of the line, marked as cut
    assert "坐牢" in flat  # its warning, though the start of the line is not shown
    assert len(out) < 20 * SHOWN_CHARS  # a few screens, not the whole line
