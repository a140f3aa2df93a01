"""Suggestion cards: the next script line and the FAQ answer, each in a fixed slot.

The agent reads these aloud, so they must not move under their eyes: each
kind has one card that is updated in place, only when its content really
changes (the FAQ card keeps its answer until a *different* FAQ wins; a
repeated hit or a partial that matches nothing leaves it alone), and each body
reserves a few lines of height. A click anywhere on a card, or its button,
copies the text. GUI thread only.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from assist.events import AssistResult, FaqHit, Suggestion
from assist.ui.theme import set_style_flag

KIND_TITLES = {"current_stage": "当前阶段", "next_stage": "下一阶段", "opening": "开场白", "closing": "结束语"}


class Card(QFrame):
    """A titled text card with a copy button; ``key`` says what it shows, to skip no-op updates."""

    copied = Signal(str)

    def __init__(self, kind: str, title: str, placeholder: str, parent=None, min_lines: int = 3):
        super().__init__(parent)
        self.setObjectName("card")
        self.setProperty("kind", kind)
        self.key: str | None = None
        self.tight = False  # set by SuggestionCards on a very short screen: no small print
        self._placeholder = placeholder
        self._min_lines = min_lines
        self.title = QLabel(title, objectName="cardTitle")
        self.body = QLabel(placeholder, objectName="cardBody")
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setProperty("empty", "true")
        self.head = QLabel("", objectName="cardHead")  # e.g. the FAQ question the answer belongs to
        self.head.setWordWrap(True)
        self.head.setVisible(False)
        self.meta = QLabel("", objectName="cardMeta")
        self.meta.setWordWrap(True)
        self.copy_button = QPushButton("复制")
        self.copy_button.setToolTip("复制到剪贴板")
        self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.copy_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        lay.setSpacing(4)
        lay.addLayout(head)
        lay.addWidget(self.head)
        lay.addWidget(self.body)
        lay.addWidget(self.meta)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.reserve_height()

    def reserve_height(self, lines: int | None = None) -> None:
        """Keep room for ``min_lines`` lines of body text so short answers don't shrink the card."""
        self.body.setMinimumHeight(self.body.fontMetrics().lineSpacing() * (lines or self._min_lines) + 4)

    def text(self) -> str:
        return "" if self.key is None else self.body.text()

    def set_content(self, key: str, body: str, meta: str = "", head: str = "") -> bool:
        """Show ``body``; returns False (and changes nothing) if ``key`` is already shown."""
        if key == self.key:
            return False
        self.key = key
        self.head.setText(head)
        self.head.setVisible(bool(head) and not self.tight)
        self.setToolTip(head if self.tight else "")
        self.body.setText(body)
        self.meta.setText(meta)
        self.meta.setVisible(bool(meta) and not self.tight)
        self._set_empty(False)
        self.copy_button.setEnabled(True)
        return True

    def clear_content(self) -> None:
        self.key = None
        self.body.setText(self._placeholder)
        self.head.setText("")
        self.head.setVisible(False)
        self.meta.setText("")
        self.meta.setVisible(False)
        self._set_empty(True)
        self.copy_button.setEnabled(False)

    def _set_empty(self, empty: bool) -> None:
        set_style_flag(self.body, "empty", empty)

    def copy(self) -> None:
        if self.key is None:
            return
        QApplication.clipboard().setText(self.body.text())
        self.copy_button.setText("已复制 ✓")
        QTimer.singleShot(1200, self.copy_button, lambda: self.copy_button.setText("复制"))
        self.copied.emit(self.body.text())

    def mouseReleaseEvent(self, event) -> None:
        # One click copies, unless the agent was selecting part of the text.
        if event.button() == Qt.MouseButton.LeftButton and not self.body.hasSelectedText():
            self.copy()
        super().mouseReleaseEvent(event)


class SuggestionCards(QFrame):
    """The two fixed slots: the next script line(s) and the FAQ answer."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.compact = False
        self.tight = False
        self._suggestions: tuple[Suggestion, ...] = ()
        self.line_card = Card("line", "下一句话术", "通话开始后，这里显示当前阶段该说的话。")
        self.faq_card = Card("faq", "客户在问", "客户提问时，这里显示知识库里的答案。", min_lines=4)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        lay.addWidget(self.faq_card)
        lay.addWidget(self.line_card)

    def clear_call(self) -> None:
        self._suggestions = ()
        self.line_card.clear_content()
        self.faq_card.clear_content()

    def reserve_height(self) -> None:
        lines = 2 if self.compact else None
        self.line_card.reserve_height(lines)
        self.faq_card.reserve_height(lines)

    def set_compact(self, compact: bool, tight: bool = False) -> None:
        """On a short screen reserve two lines per card, not three or four (long text still shows in full);
        on a very short one drop the cards' small print (match score, stage), kept in their tooltips."""
        for card in (self.line_card, self.faq_card):
            card.tight = tight
            card.meta.setVisible(bool(card.meta.text()) and not tight)
            card.head.setVisible(bool(card.head.text()) and not tight)
            # Titles and copy buttons give way too: a click on the card, Ctrl+1 or Ctrl+2 still copies.
            card.title.setVisible(not tight)
            card.copy_button.setVisible(not tight)
            set_style_flag(card, "tight", tight)  # the style sheet drops the body's larger font
            card.setToolTip(card.meta.text() if tight else "")
        self.tight = tight
        if compact != self.compact:
            self.compact = compact
            self.reserve_height()
            if self._suggestions:
                self.show_suggestions(self._suggestions)

    def show_result(self, result: AssistResult) -> None:
        self.show_suggestions(result.suggestions)
        shown = [h for h in result.faq if h.shown]
        if shown:
            self.show_faq(max(shown, key=lambda h: h.score))

    def show_suggestions(self, suggestions: tuple[Suggestion, ...]) -> None:
        if not suggestions:
            return  # keep the last line: an utterance with no suggestion must not blank the card
        self._suggestions = suggestions
        top = suggestions[:1 if self.compact else 2]  # a short screen shows the one line to say now
        key = "|".join(s.line_id or s.text for s in top)
        body = "\n\n".join(s.text for s in top)
        first = top[0]
        meta = f"第 {first.stage_index} 阶段 · {KIND_TITLES.get(first.kind, first.kind)}"
        self.line_card.set_content(key, body, meta)

    def show_faq(self, hit: FaqHit) -> None:
        matched = hit.matched or hit.question
        pct = hit.score * 100 if hit.score <= 1 else hit.score  # engines report 0..1 or 0..100
        meta = f"匹配度 {pct:.0f}%" + (f" · 听到：“{matched}”" if matched != hit.question else "")
        self.faq_card.set_content(hit.faq_id, hit.answer, meta, head=f"问：{hit.question}")
