"""The stage stepper: the playbook's stages, each done, current, skipped or still to come.

The engine reports the current stage and the stages covered so far
(``AssistResult.stage`` and ``stages_done``); a stage before the current one
that was never covered counts as skipped, so the agent sees what they missed
while there is still time to go back. GUI thread only.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout

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
    """A compact row of numbered stage pills plus the current stage's title (fits a narrow panel).

    Rebuilt when the playbook changes, restyled in place as the call moves on.
    """

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.setObjectName("stepper")
        self.theme = theme
        self.playbook: Playbook | None = None
        self.current: int | None = None
        self.done: tuple[int, ...] = ()
        self._pills: list[QLabel] = []
        self._title = QLabel("通话阶段", objectName="sectionTitle")
        self._title.setWordWrap(True)
        self._row = QHBoxLayout()
        self._row.setSpacing(3)
        self._row.addStretch(1)
        self._now = QLabel("自动识别话术：通话开始后显示阶段", objectName="muted")
        self._now.setWordWrap(True)
        self._skipped = QLabel()
        self._skipped.setWordWrap(True)
        self._skipped.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addWidget(self._title)
        lay.addLayout(self._row)
        lay.addWidget(self._now)
        lay.addWidget(self._skipped)

    def set_compact(self, compact: bool, tight: bool = False) -> None:
        """On a short screen drop the heading row (the playbook's name is in the picker above);
        on a very short one also the current stage's name (its pill is highlighted, the tooltip names it)."""
        self._title.setVisible(not compact)
        self._now.setVisible(not tight)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._restyle()

    def set_playbook(self, playbook: Playbook | None) -> None:
        if playbook is self.playbook:
            return
        self.playbook = playbook
        for pill in self._pills:
            self._row.removeWidget(pill)
            pill.deleteLater()
        self._pills = []
        self.current, self.done = None, ()
        if playbook is None:
            self._title.setText("通话阶段")
            self._now.setText("自动识别话术：通话开始后显示阶段")
            self._skipped.hide()
            return
        self._title.setText(f"通话阶段 · {playbook.title}")
        for stage in playbook.stages:
            pill = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
            pill.setMinimumWidth(30)
            self._row.insertWidget(self._row.count() - 1, pill)
            self._pills.append(pill)
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
        states = self.states()
        for pill, stage, state in zip(self._pills, self.playbook.stages, states):
            c = colours[state]
            filled = state in (DONE, CURRENT)
            pill.setText(f"{MARKS[state]}{stage.index}" if state != TODO else str(stage.index))
            pill.setToolTip(f"{stage.index}. {stage.title}（{STATE_NAMES[state]}）")
            pill.setStyleSheet(
                f"color: {'#ffffff' if filled else c}; background: {c if filled else 'transparent'};"
                f" border: 1px solid {c}; border-radius: 9px; padding: 1px 3px; font-weight: bold;")
        if self.current:
            st = self.playbook.stage(self.current)
            self._now.setText(f"▶ 第 {st.index}/{len(self.playbook.stages)} 阶段：{st.title}")
            self._now.setStyleSheet(f"color: {t.accent}; font-weight: bold;")
        skipped = [st for st, s in zip(self.playbook.stages, states) if s == SKIPPED]
        self._skipped.setText("已跳过：" + "；".join(f"{st.index}. {st.title}" for st in skipped))
        self._skipped.setStyleSheet(f"color: {t.skipped};")
        self._skipped.setVisible(bool(skipped))
