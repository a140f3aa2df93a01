"""The live transcript: one paragraph per utterance, partials greyed and replaced in place.

A recognizer sends a growing partial result several times a second for the
same stretch of speech (same ``Utterance.segment``), then the final. Each
segment owns one block of the document; new text rewrites that block instead
of appending, so the view grows by one line per utterance, not per partial.
Text a compliance rule flagged is underlined red. GUI thread only.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser

from assist.events import ComplianceWarning, Utterance
from assist.ui.theme import LIGHT, SPEAKER_LABELS, Theme


def _fmt(colour: str, bold: bool = False, italic: bool = False, underline: str | None = None,
         background: str | None = None) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(colour))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    if underline:
        f.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        f.setUnderlineColor(QColor(underline))
    if background:
        f.setBackground(QColor(background))
    return f


class TranscriptView(QTextBrowser):
    """Shows utterances as ``坐席 text`` paragraphs coloured by speaker."""

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.setPlaceholderText("通话内容会实时显示在这里（灰色斜体是正在识别的话）")
        self.theme = theme
        self._blocks: dict[str, int] = {}  # segment -> block number (blocks are only ever appended)
        self._follow = True  # keep scrolled to the bottom unless the agent scrolled up to read
        self.verticalScrollBar().valueChanged.connect(self._on_scroll)
        self._n_final = 0

    def clear_call(self) -> None:
        self.clear()
        self._blocks.clear()
        self._n_final = 0

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme  # new lines use it; old lines keep their colours until the next call

    @property
    def segments(self) -> int:
        return len(self._blocks)

    def show_utterance(self, utt: Utterance, warnings: tuple[ComplianceWarning, ...] = ()) -> None:
        """Append a new segment's paragraph or rewrite its existing one in place."""
        if not utt.text.strip() and utt.segment not in self._blocks:
            return
        doc = self.document()
        key = utt.segment or f"_anon{self._n_final}"
        number = self._blocks.get(key)
        cursor = QTextCursor(doc)
        if number is None:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            if not doc.isEmpty():
                cursor.insertBlock()
            self._blocks[key] = cursor.blockNumber()
        else:
            block = doc.findBlockByNumber(number)
            cursor = QTextCursor(block)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        t = self.theme
        colour = t.speaker_colour(utt.speaker)
        cursor.insertText(f"{SPEAKER_LABELS.get(utt.speaker, utt.speaker)}  ", _fmt(colour, bold=True))
        text_fmt = _fmt(t.text if utt.final else t.muted, italic=not utt.final)
        spans = sorted({w.span for w in warnings if w.span and w.span[1] > w.span[0]})
        pos = 0
        for a, b in spans:
            a, b = max(a, pos), min(b, len(utt.text))
            if a >= b:
                continue
            cursor.insertText(utt.text[pos:a], text_fmt)
            cursor.insertText(utt.text[a:b], _fmt(t.danger, bold=True, underline=t.danger, background=t.danger_bg))
            pos = b
        cursor.insertText(utt.text[pos:], text_fmt)
        if utt.final:
            self._n_final += 1
        if self._follow:
            sb = self.verticalScrollBar()
            sb.setValue(sb.maximum())

    def show_marker(self, text: str) -> None:
        """A line of its own between utterances, e.g. where listening was paused (muted, centred dashes)."""
        doc = self.document()
        cursor = QTextCursor(doc)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not doc.isEmpty():
            cursor.insertBlock()
        # A block of its own, keyed so a late partial of an earlier segment never rewrites it.
        self._blocks[f"_marker{len(self._blocks)}"] = cursor.blockNumber()
        cursor.insertText(f"—— {text} ——", _fmt(self.theme.muted, italic=True))
        if self._follow:
            sb = self.verticalScrollBar()
            sb.setValue(sb.maximum())

    def _on_scroll(self, value: int) -> None:
        sb = self.verticalScrollBar()
        self._follow = value >= sb.maximum() - 4
