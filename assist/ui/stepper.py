"""The stage stepper: the playbook's stages, each done, current, skipped or still to come.

The engine reports the current stage and the stages covered so far
(``AssistResult.stage`` and ``stages_done``); a stage before the current one
that was never covered counts as skipped, so the agent sees what they missed
while there is still time to go back. GUI thread only.
"""
from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from assist.knowledge import Playbook
from assist.ui.theme import LIGHT, Theme

DONE, CURRENT, SKIPPED, TODO = "done", "current", "skipped", "todo"
MARKS = {DONE: "✓", CURRENT: "▶", SKIPPED: "!", TODO: "○"}
STATE_NAMES = {DONE: "已完成", CURRENT: "进行中", SKIPPED: "已跳过", TODO: "未开始"}


def stage_states(n_stages: int, current: int | None, done: tuple[int, ...]) -> list[str]:
    """State of each stage (1-based input, list index 0 is stage 1); pure, for tests."""
    done_set = set(done)
    states = []
    for i in range(1, n_stages + 1):
        if i == current:
            states.append(CURRENT)
        elif i in done_set:
            states.append(DONE)
        elif current is not None and i < current:
            states.append(SKIPPED)
        else:
            states.append(TODO)
    return states


class StageStepper(QFrame):
    """A vertical list of stage rows; rebuilt when the playbook changes, restyled in place."""

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.setObjectName("stepper")
        self.theme = theme
        self.playbook: Playbook | None = None
        self.current: int | None = None
        self.done: tuple[int, ...] = ()
        self._rows: list[QLabel] = []
        self._title = QLabel("通话阶段", objectName="sectionTitle")
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._lay.setSpacing(1)
        self._lay.addWidget(self._title)
        self._empty = QLabel("自动识别话术：通话开始后显示阶段", objectName="muted")
        self._lay.addWidget(self._empty)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._restyle()

    def set_playbook(self, playbook: Playbook | None) -> None:
        if playbook is self.playbook:
            return
        self.playbook = playbook
        for row in self._rows:
            row.deleteLater()
        self._rows = []
        self.current, self.done = None, ()
        self._empty.setVisible(playbook is None)
        if playbook is None:
            self._title.setText("通话阶段")
            return
        self._title.setText(f"通话阶段 · {playbook.title}")
        for stage in playbook.stages:
            row = QLabel()
            row.setWordWrap(True)
            self._lay.addWidget(row)
            self._rows.append(row)
        self._restyle()

    def update_progress(self, current: int | None, done: tuple[int, ...]) -> None:
        if (current, tuple(done)) == (self.current, self.done):
            return
        self.current, self.done = current, tuple(done)
        self._restyle()

    def states(self) -> list[str]:
        if self.playbook is None:
            return []
        return stage_states(len(self.playbook.stages), self.current, self.done)

    def _restyle(self) -> None:
        if self.playbook is None:
            return
        t = self.theme
        colours = {DONE: t.done, CURRENT: t.accent, SKIPPED: t.skipped, TODO: t.muted}
        for row, stage, state in zip(self._rows, self.playbook.stages, self.states()):
            weight = "bold" if state == CURRENT else "normal"
            row.setText(f"{MARKS[state]}  {stage.index}. {stage.title}")
            row.setToolTip(STATE_NAMES[state])
            row.setStyleSheet(f"color: {colours[state]}; font-weight: {weight};")
