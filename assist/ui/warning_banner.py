"""Banners: the red compliance warning, and the yellow notice for setup problems.

``WarningBanner`` shows the rule, what was said and what to say instead, and
stays until the agent acknowledges it. When several are pending it shows the
most urgent one in full (critical before the rest; of equal severity the newest,
what the agent can still put right) and the others as one count line with their
titles (in its tooltip on a short screen); acknowledging one brings up the next.
A partial and its final reporting the same rule count once.
``NoticeBanner`` explains a problem outside the call (model missing, device
missing, KB error, store problem) with its fix and an optional action button.
GUI thread only.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from assist.events import ComplianceWarning
from assist.knowledge.citation import short_citation

MAX_LINES = 6  # of a notice's message shown in the banner
SEVERITY_NAMES = {"critical": "严重违规", "warning": "合规提醒", "info": "提示"}
_URGENCY = {"critical": 0, "warning": 1, "info": 2}  # lower shows first


@dataclass(frozen=True)
class PendingWarning:
    """A warning waiting for acknowledgement, with where it came from."""

    warning: ComplianceWarning
    segment: str
    text: str  # the whole utterance, for context
    at: float | None = None  # call time of the utterance


class WarningBanner(QFrame):
    acknowledged = Signal(object)  # PendingWarning
    changed = Signal()  # shown, hidden or its text changed: the panel re-fits its height

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("warningBanner")
        self._queue: list[PendingWarning] = []
        self._seen: set[tuple[str, str]] = set()
        self._repeats: dict[str, int] = {}  # rule id -> times it fired in this call
        self._compact = False
        self.title = QLabel(objectName="warningTitle")
        self.title.setWordWrap(True)
        self.said = QLabel()
        self.said.setWordWrap(True)
        self.instead = QLabel()
        self.instead.setWordWrap(True)
        self.source = QLabel(objectName="muted")
        self.source.setWordWrap(True)
        self.more = QLabel(objectName="muted")
        self.more.setWordWrap(True)
        self.ack_button = QPushButton("知道了")
        self.ack_button.setToolTip("确认已看到这条合规提醒（记录到本次通话）")
        self.ack_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.ack_button.clicked.connect(self.acknowledge)
        # The button sits on the title row: one row less on a short screen.
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.ack_button, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(2)
        lay.addLayout(head)
        for w in (self.said, self.instead, self.source, self.more):
            lay.addWidget(w)
        self.hide()

    @property
    def pending(self) -> list[PendingWarning]:
        return list(self._queue)

    @property
    def current(self) -> PendingWarning | None:
        """The warning shown in full: the most severe, and of those the newest."""
        if not self._queue:
            return None
        return self._queue[self._current_index()]

    def _current_index(self) -> int:
        return min(range(len(self._queue)),
                   key=lambda i: (_URGENCY.get(self._queue[i].warning.severity, 3), -i))

    def _others(self) -> list[PendingWarning]:
        """The pending warnings not shown in full, most urgent first."""
        shown = self._current_index()
        rest = [(i, q) for i, q in enumerate(self._queue) if i != shown]
        rest.sort(key=lambda iq: (_URGENCY.get(iq[1].warning.severity, 3), -iq[0]))
        return [q for _i, q in rest]

    def clear_call(self) -> None:
        self._queue.clear()
        self._seen.clear()
        self._repeats.clear()
        self.hide()
        self.changed.emit()

    def set_compact(self, compact: bool) -> None:
        """On a short screen: the rule and what to say instead; what was said and the source in the tooltip."""
        if compact != self._compact:
            self._compact = compact
            if self._queue:
                self._refresh()

    def has(self, item: PendingWarning) -> bool:
        """This utterance already raised this rule (a partial, now grown)."""
        return (item.segment, item.warning.rule_id) in self._seen

    def note_repeat(self, rule_id: str, times: int) -> None:
        """The rule fired again but was throttled: count it on the banner if it is showing."""
        self._repeats[rule_id] = times
        if self._queue:
            self._refresh()

    def add(self, item: PendingWarning, repeats: int = 1) -> bool:
        """Queue a warning unless this utterance already raised this rule; True if new.

        A partial result raises a warning as the words come; when the utterance
        grows (or becomes final) the queued warning is updated in place, so the
        banner quotes the fullest version of what was said.
        """
        key = (item.segment, item.warning.rule_id)
        if key in self._seen:
            for i, queued in enumerate(self._queue):
                if (queued.segment, queued.warning.rule_id) == key:
                    self._queue[i] = item
                    self._refresh()
            return False
        self._seen.add(key)
        self._repeats[item.warning.rule_id] = max(repeats, self._repeats.get(item.warning.rule_id, 0))
        self._queue.append(item)
        self._refresh()
        return True

    def withdraw(self, segment: str, rule_id: str) -> bool:
        """Drop a not yet acknowledged warning the final result did not confirm; True if it was queued."""
        key = (segment, rule_id)
        self._seen.discard(key)
        for i, queued in enumerate(self._queue):
            if (queued.segment, queued.warning.rule_id) == key:
                del self._queue[i]
                self._refresh()
                return True
        return False

    def acknowledge(self) -> None:
        if not self._queue:
            return
        item = self._queue.pop(self._current_index())
        self._refresh()
        self.acknowledged.emit(item)

    def _refresh(self) -> None:
        self.changed.emit()
        if not self._queue:
            self.hide()
            return
        current = self._queue[self._current_index()]
        w = current.warning
        self.title.setText(f"⚠ {SEVERITY_NAMES.get(w.severity, w.severity)}：{w.title}")
        said = f"你说了：“{w.said or current.text}”"
        if w.found_by == "example" and w.evidence:  # caught by meaning: the rule's example it is like
            said += f"\n相似：{w.evidence}"
        self.said.setText(said)
        self.instead.setText(f"应改为：{w.message}")
        # The full source (sections, quotes) is long: the narrow panel names the documents, the tooltip has it all.
        cited = short_citation(w.source)
        self.source.setText(f"依据：{cited}" if cited else "")
        self.source.setToolTip(w.source)
        self.source.setVisible(bool(cited) and not self._compact)
        self.said.setVisible(not self._compact)
        self.setToolTip(f"{self.said.text()}\n{self.source.text()}" if self._compact else "")
        others = self._others()
        times = self._repeats.get(w.rule_id, 1)
        # The others collapse to one line; their titles follow it where there is room, else in its tooltip.
        titles = "、".join(o.warning.title for o in others)
        waiting = f"还有 {len(others)} 条待确认" if others else ""
        if waiting and not self._compact:
            waiting += f"：{titles}"
        parts = [f"本次通话第 {times} 次" if times > 1 else "", waiting]
        self.more.setText(" · ".join(p for p in parts if p))
        self.more.setToolTip("\n".join(f"{SEVERITY_NAMES.get(o.warning.severity, '提醒')}：{o.warning.title}"
                                        for o in others))
        self.more.setVisible(bool(self.more.text()))
        self.show()


class NoticeBanner(QFrame):
    """A yellow banner: what is wrong, how to fix it, and maybe a button that does something."""

    action = Signal(str)  # the action key passed to show()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("noticeBanner")
        self.kind = ""
        self._action_key = ""
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fix = QLabel()
        self.fix.setWordWrap(True)
        self.fix.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.clicked.connect(lambda: self.action.emit(self._action_key))
        self.close_button = QPushButton("关闭")
        self.close_button.clicked.connect(self.dismiss)
        foot = QHBoxLayout()
        foot.addStretch(1)
        foot.addWidget(self.action_button)
        foot.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(3)
        lay.addWidget(self.message)
        lay.addWidget(self.fix)
        lay.addLayout(foot)
        self.hide()

    def show_problem(self, kind: str, message: str, fix: str = "", action: tuple[str, str] | None = None) -> None:
        """Show a problem of ``kind`` (model, device, kb, store, demo); ``action`` is (key, button text)."""
        self.kind = kind
        lines = message.splitlines()
        if len(lines) > MAX_LINES:  # e.g. a KB error listing every problem: the rest in the tooltip
            message = "\n".join(lines[:MAX_LINES] + [f"……（另有 {len(lines) - MAX_LINES} 行，悬停查看全部）"])
        self.message.setText(f"<b>{_escape(message)}</b>")
        self.message.setToolTip("\n".join(lines))
        self.fix.setText(f"怎么办：{fix}" if fix else "")
        self.fix.setVisible(bool(fix))
        self._action_key = action[0] if action else ""
        self.action_button.setText(action[1] if action else "")
        self.action_button.setVisible(action is not None)
        self.show()

    def dismiss(self, kind: str | None = None) -> None:
        """Hide the banner (only if it shows ``kind``, when given)."""
        if kind is None or kind == self.kind:
            self.kind = ""
            self.hide()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
