"""The case-number field of the panel: typed or pasted, normalised, masked on screen.

While the agent edits it shows what they typed; once they leave it, it holds
the normalised id (``assist.zh.identifiers``) and shows it masked, so a
shoulder-surfer or a screen share sees ``6222********1234``. GUI thread only.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit

from assist.zh.identifiers import mask_case_id, normalise_case_id


class CaseIdEdit(QLineEdit):
    case_changed = Signal(str)  # the normalised id ("" when cleared)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.case_id = ""
        self.setPlaceholderText("案件号或卡号（可粘贴，屏幕上只显示首尾四位）")
        self.setToolTip("本次通话的借据号或卡号；空格、横线和全角数字会自动整理")
        self.setClearButtonEnabled(True)
        self.editingFinished.connect(self._commit)

    def set_case_id(self, text: str) -> None:
        """Set the id from outside (or clear it with ""): normalised, shown masked."""
        self.case_id = normalise_case_id(text)
        self.setText(mask_case_id(self.case_id))

    def focusInEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.setText(self.case_id)  # edit the real id, not the stars
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._commit()
        super().focusOutEvent(event)

    def _commit(self) -> None:
        shown = self.text()
        if shown == mask_case_id(self.case_id) and "*" in shown:
            return  # nothing typed since it was masked
        new = normalise_case_id(shown)
        changed = new != self.case_id
        self.case_id = new
        self.blockSignals(True)
        self.setText(mask_case_id(new))
        self.blockSignals(False)
        if changed:
            self.case_changed.emit(new)
