"""The panel's "who is on the line" strip: the party state, the case id, today's contact count.

Shows the call's party state (``PartyState.label``), coloured when it matters
(third party: say nothing about the debt; not yet confirmed: no details yet).
F7 (or a click on the state) steps the agent's own setting through
未确认 → 本人 → 第三人 → 拒绝确认; the choice goes out as ``party_chosen`` for the
controller to pass to the call. The case id field feeds the contact ledger; the
day's count (``ContactLimit``) shows under it, red when the limit is reached.
GUI thread only; it gets events through the panel's slots.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from assist.events import ContactLimit, PartyState

PARTY_KEY = "F7"
# the agent's key steps through these (kind, relation)
CYCLE: tuple[tuple[str, str], ...] = (("unknown", ""), ("debtor", ""), ("third_party", "other"), ("refused", ""))
_HINT = {
    "unknown": "身份未确认：先核实是否本人，再谈欠款细节",
    "debtor": "已确认是本人",
    "third_party": "对方不是本人：不得提及欠款、金额、逾期或催收，只请本人回电",
    "refused": "对方不肯确认身份：不谈欠款细节，只请本人回电",
}
_COLOUR = {"third_party": "#c62828", "refused": "#e65100", "unknown": "#8d6e00", "debtor": "#2e7d32"}


class PartyBar(QWidget):
    party_chosen = Signal(str, str)  # kind, relation: the agent's own setting
    case_id_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.party = PartyState()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(QLabel("对象", objectName="muted"))
        self.state_button = QPushButton(objectName="partyState")
        self.state_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.state_button.setToolTip(f"通话对象；按 {PARTY_KEY} 或点击可手动切换")
        self.state_button.clicked.connect(self.step)
        row.addWidget(self.state_button, 1)
        row.addWidget(QLabel("案件号", objectName="muted"))
        self.case_edit = QLineEdit()
        self.case_edit.setPlaceholderText("选填")
        self.case_edit.setMaximumWidth(110)
        self.case_edit.setToolTip("填入案件号后，开始通话时会提示该案件今天已接通几次")
        self.case_edit.textChanged.connect(lambda t: self.case_id_changed.emit(t.strip()))
        row.addWidget(self.case_edit)
        lay.addLayout(row)
        self.contacts = QLabel("", objectName="muted")
        self.contacts.setWordWrap(True)
        self.contacts.hide()
        lay.addWidget(self.contacts)
        sc = QShortcut(QKeySequence(PARTY_KEY), self)
        sc.setContext(Qt.ShortcutContext.ApplicationShortcut)
        sc.activated.connect(self.step)
        self.show_party(self.party)

    def case_id(self) -> str:
        return self.case_edit.text().strip()

    def show_party(self, party: PartyState | None) -> None:
        self.party = party or PartyState()
        who = "（坐席设定）" if self.party.source == "agent" else ""
        self.state_button.setText(self.party.label + who)
        self.state_button.setToolTip(_HINT[self.party.kind] + f"；按 {PARTY_KEY} 或点击可手动切换")
        self.state_button.setStyleSheet(f"color: {_COLOUR[self.party.kind]}; font-weight: bold; text-align: left;")

    def step(self) -> None:
        """The agent's key: the next state in the cycle."""
        now = (self.party.kind, self.party.relation if self.party.kind == "third_party" else "")
        kinds = [k for k, _ in CYCLE]
        i = kinds.index(now[0]) if now[0] in kinds else 0
        kind, relation = CYCLE[(i + 1) % len(CYCLE)]
        self.show_party(PartyState(kind, relation, "agent"))  # type: ignore[arg-type]
        self.party_chosen.emit(kind, relation)

    def show_contacts(self, evt: ContactLimit) -> None:
        self.contacts.setText(evt.message)
        self.contacts.setStyleSheet("color: #c62828; font-weight: bold;" if evt.reached else "")
        self.contacts.show()

    def clear_call(self) -> None:
        self.show_party(PartyState())
        self.contacts.hide()
