"""The live side panel: what the agent looks at during a call.

Top to bottom: the call button and playbook picker, a notice banner for setup
problems, the red compliance banner, the input devices with live levels, the
FAQ and next-line cards, the stage stepper, the transcript and the notes box.
The panel never talks to the engine, store or audio: it receives events in its
``on_*`` slots (connected to ``EventBridge`` signals, queued onto the GUI
thread) and asks for things through its own signals, which ``app`` wires to
the call controller. Everything here runs on the GUI thread.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assist.events import (
    AssistResult,
    AudioLevel,
    CallEnded,
    CallStarted,
    CardWithdrawn,
    DeviceProblem,
    StoreProblem,
)
from assist.ui.cards import SuggestionCards
from assist.ui.stepper import StageStepper
from assist.ui.theme import (
    DEFAULT_FONT_PT,
    MAX_FONT_PT,
    MIN_FONT_PT,
    SPEAKER_LABELS,
    THEMES,
    apply_look,
    set_style_flag,
)
from assist.ui.transcript_view import TranscriptView
from assist.ui.warning_banner import NoticeBanner, PendingWarning, WarningBanner

PANEL_WIDTH = 400
NOTES_DEBOUNCE_MS = 600
FLASH_MS, FLASH_TIMES = 250, 8
CALL_SHORTCUTS = ("F8", "Ctrl+Space")


class Panel(QWidget):
    """The narrow always-on-top window. Signals go out to the controller; events come in."""

    start_requested = Signal(str)  # playbook id, "" for automatic
    stop_requested = Signal()
    notes_edited = Signal(str, str)  # session id, text (debounced)
    warning_acknowledged = Signal(str, object)  # session id, PendingWarning
    browse_requested = Signal()
    review_requested = Signal()
    notice_action = Signal(str)  # NoticeBanner action key, e.g. "demo"

    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("assist · 坐席助手")
        self.settings = settings
        self.kb = None
        self.session_id: str | None = None
        self.live = False
        self.call_started_at: float | None = None
        self.last_result_stamp: float | None = None  # perf_counter of the last result's emit (bench)
        self.theme = THEMES.get(self._setting("theme", "light"), THEMES["light"])
        self.font_pt = int(self._setting("font_pt", DEFAULT_FONT_PT))
        self._flash_left = 0
        self._heard_until = 0.0  # call time (s) of the latest speech heard
        self._build()
        self.set_on_top(self._setting("on_top", "true") == "true")
        self.apply_look()

    # -- construction ---------------------------------------------------------------------------

    def _setting(self, key: str, default):
        if self.settings is None:
            return default
        value = self.settings.value(key, default)
        return default if value is None else value

    def _save_setting(self, key: str, value) -> None:
        if self.settings is not None:
            self.settings.setValue(key, value)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        # The frame's border is what flashes red on a critical warning.
        self.frame = QFrame()
        self.frame.setObjectName("panelFrame")
        outer.addWidget(self.frame)
        lay = QVBoxLayout(self.frame)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)

        self.call_button = QPushButton(objectName="callButton")
        self.call_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.call_button.clicked.connect(self.toggle_call)
        self.playbook_box = QComboBox()
        self.playbook_box.setToolTip("本次通话使用的话术；“自动识别”按对话判断")
        self.playbook_box.addItem("自动识别话术", "")
        self.playbook_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.playbook_box.setMinimumContentsLength(8)
        top = QHBoxLayout()
        top.addWidget(self.call_button)
        top.addWidget(self.playbook_box, 1)
        lay.addLayout(top)

        tools = QHBoxLayout()
        tools.setSpacing(4)
        self.smaller_button = self._tool("A−", "缩小字号", lambda: self.change_font(-1))
        self.larger_button = self._tool("A+", "放大字号", lambda: self.change_font(+1))
        self.theme_button = self._tool("◐", "切换浅色/深色", self.toggle_theme)
        self.top_button = self._tool("置顶", "窗口总在最前", self.set_on_top, checkable=True)
        self.dock_button = self._tool("靠右", "停靠到屏幕右侧", self.dock_right)
        self.kb_button = self._tool("知识库", "打开知识库浏览", self.browse_requested.emit)
        self.review_button = self._tool("回顾", "查看以往通话", self.review_requested.emit)
        for b in (self.smaller_button, self.larger_button, self.theme_button, self.top_button, self.dock_button):
            tools.addWidget(b)
        tools.addStretch(1)
        tools.addWidget(self.kb_button)
        tools.addWidget(self.review_button)
        lay.addLayout(tools)

        self.notice = NoticeBanner()
        self.notice.action.connect(self.notice_action.emit)
        lay.addWidget(self.notice)
        self.warning_banner = WarningBanner()
        self.warning_banner.acknowledged.connect(self._on_acknowledged)
        lay.addWidget(self.warning_banner)

        self.status = QLabel("未在通话中 · 按 F8 开始", objectName="muted")
        lay.addWidget(self.status)
        devices = QGridLayout()
        devices.setHorizontalSpacing(6)
        devices.setVerticalSpacing(2)
        self.device_labels: dict[str, QLabel] = {}
        self.level_bars: dict[str, QProgressBar] = {}
        for row, ch in enumerate(("agent", "customer", "unknown")):
            name = QLabel(f"{SPEAKER_LABELS[ch]}：未连接", objectName="muted")
            name.setMinimumWidth(10)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setTextVisible(False)
            bar.setFixedWidth(90)
            devices.addWidget(name, row, 0)
            devices.addWidget(bar, row, 1)
            self.device_labels[ch] = name
            self.level_bars[ch] = bar
        devices.setColumnStretch(0, 1)
        lay.addLayout(devices)
        self._show_channels(("agent", "customer"))

        self.stepper = StageStepper(theme=self.theme)
        lay.addWidget(self.stepper)

        # Cards, transcript and notes share the remaining height (the agent can drag the splits).
        # The cards scroll rather than being squeezed: a clipped answer is worse than a scrollbar.
        self.cards = SuggestionCards()
        self.cards_scroll = QScrollArea()
        self.cards_scroll.setWidget(self.cards)
        self.cards_scroll.setWidgetResizable(True)
        self.cards_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.cards_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards_scroll.setMinimumHeight(160)
        self.transcript = TranscriptView(theme=self.theme)
        self.transcript.setMinimumHeight(80)
        notes_box = QWidget()
        nl = QVBoxLayout(notes_box)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.setSpacing(2)
        head = QHBoxLayout()
        head.addWidget(QLabel("备注", objectName="sectionTitle"))
        self.notes_state = QLabel("", objectName="muted")
        head.addStretch(1)
        head.addWidget(self.notes_state)
        nl.addLayout(head)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("边听边记：客户承诺、待办……（自动保存）")
        self.notes.setMinimumHeight(50)
        self.notes.textChanged.connect(self._on_notes_changed)
        nl.addWidget(self.notes)
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.cards_scroll)
        split.addWidget(self.transcript)
        split.addWidget(notes_box)
        for i, stretch in enumerate((6, 3, 1)):
            split.setStretchFactor(i, stretch)
        split.setChildrenCollapsible(False)
        lay.addWidget(split, 1)

        self._notes_timer = QTimer(self, singleShot=True, interval=NOTES_DEBOUNCE_MS)
        self._notes_timer.timeout.connect(self.flush_notes)
        self._clock_timer = QTimer(self, interval=1000)
        self._clock_timer.timeout.connect(self._update_status)
        self._flash_timer = QTimer(self, interval=FLASH_MS)
        self._flash_timer.timeout.connect(self._flash_step)
        self._level_decay = QTimer(self, interval=300)
        self._level_decay.timeout.connect(self._decay_levels)
        self._level_seen: dict[str, float] = {}

        for keys in CALL_SHORTCUTS:
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.ApplicationShortcut)
            sc.activated.connect(self.toggle_call)
        self._set_live(False)

    def _show_channels(self, channels: tuple[str, ...]) -> None:
        for ch in self.device_labels:
            self.device_labels[ch].setVisible(ch in channels)
            self.level_bars[ch].setVisible(ch in channels)

    def _tool(self, text: str, tip: str, slot, checkable: bool = False) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(checkable)
        if checkable:
            b.toggled.connect(slot)
        else:
            b.clicked.connect(lambda _=False: slot())
        return b

    # -- look -----------------------------------------------------------------------------------

    def apply_look(self) -> None:
        """Apply theme and font size to the whole application (all windows share them)."""
        apply_look(self.theme, self.font_pt)
        self.transcript.set_theme(self.theme)
        self.stepper.set_theme(self.theme)
        self.cards.reserve_height()

    def change_font(self, step: int) -> None:
        self.font_pt = max(MIN_FONT_PT, min(MAX_FONT_PT, self.font_pt + step))
        self._save_setting("font_pt", self.font_pt)
        self.apply_look()

    def toggle_theme(self) -> None:
        self.theme = THEMES["dark" if self.theme.name == "light" else "light"]
        self._save_setting("theme", self.theme.name)
        self.apply_look()

    def set_on_top(self, on: bool) -> None:
        on = bool(on)
        if self.top_button.isChecked() != on:
            self.top_button.setChecked(on)  # re-enters through toggled
            return
        self._save_setting("on_top", "true" if on else "false")
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        if visible:
            self.show()  # changing window flags hides the window

    def dock_right(self) -> None:
        """Put the panel against the right edge of its screen, full height."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        width = max(PANEL_WIDTH, self.minimumSizeHint().width())
        self.setGeometry(area.right() - width + 1, area.top(), width, area.height())

    # -- knowledge base ---------------------------------------------------------------------------

    def set_kb(self, kb) -> None:
        """Use this KB for the playbook picker and the stepper (``None`` if it failed to load)."""
        self.kb = kb
        current = self.playbook_box.currentData()
        self.playbook_box.blockSignals(True)
        while self.playbook_box.count() > 1:
            self.playbook_box.removeItem(1)
        if kb is not None:
            for pid, pb in kb.playbooks.items():
                self.playbook_box.addItem(pb.title, pid)
        idx = self.playbook_box.findData(current)
        self.playbook_box.setCurrentIndex(max(idx, 0))
        self.playbook_box.blockSignals(False)

    def selected_playbook(self) -> str:
        return self.playbook_box.currentData() or ""

    def select_playbook(self, playbook_id: str) -> None:
        self.playbook_box.setCurrentIndex(max(self.playbook_box.findData(playbook_id or ""), 0))

    # -- call control ---------------------------------------------------------------------------

    def toggle_call(self) -> None:
        if self.live:
            self.stop_requested.emit()
        else:
            self.start_requested.emit(self.selected_playbook())

    def _set_live(self, live: bool) -> None:
        self.live = live
        self.call_button.setText("■ 结束通话" if live else "● 开始通话")
        self.call_button.setToolTip(("结束" if live else "开始") + "通话（F8 或 Ctrl+Space）")
        set_style_flag(self.call_button, "live", live)
        self.playbook_box.setEnabled(not live)

    def _update_status(self) -> None:
        if self.live and self.call_started_at is not None:
            # Recognizer times are call time; a replayed call runs faster than the wall clock.
            secs = int(max(time.time() - self.call_started_at, self._heard_until))
            self.status.setText(f"通话中 {secs // 60:02d}:{secs % 60:02d} · 会话 {self.session_id}")

    # -- events in (slots connected to EventBridge, GUI thread) ------------------------------------

    def on_call_started(self, evt: CallStarted) -> None:
        self.flush_notes()
        first = self.session_id is None
        self.session_id = evt.session_id
        self.call_started_at = evt.started_at
        self._heard_until = 0.0
        self.transcript.clear_call()
        self.cards.clear_call()
        self.warning_banner.clear_call()
        self._stop_flash()
        if first and self.notes.toPlainText():
            self._on_notes_changed()  # typed before the first call: they belong to this one
        else:
            self.notes.blockSignals(True)
            self.notes.clear()
            self.notes.blockSignals(False)
            self.notes_state.setText("")
        pb = self.kb.playbooks.get(evt.playbook_id) if (self.kb and evt.playbook_id) else None
        self.stepper.set_playbook(pb)
        # One mixed input records as "unknown": show that meter instead of agent/customer.
        self._show_channels(("unknown",) if set(evt.devices) == {"unknown"} else ("agent", "customer"))
        for ch, label in self.device_labels.items():
            name = evt.devices.get(ch)
            label.setText(f"{SPEAKER_LABELS[ch]}：{name}" if name else f"{SPEAKER_LABELS[ch]}：未使用")
            label.setToolTip(str(name or ""))
        self._set_live(True)
        self._update_status()
        self._clock_timer.start()
        self._level_decay.start()

    def on_call_ended(self, evt: CallEnded) -> None:
        self._set_live(False)
        self._clock_timer.stop()
        self._level_decay.stop()
        for bar in self.level_bars.values():
            bar.setValue(0)
        how = "中断" if evt.interrupted else "结束"
        self.status.setText(f"通话已{how} · 会话 {evt.session_id} · 备注仍可编辑")
        self.flush_notes()

    def on_result(self, result: AssistResult, emitted_at: float = 0.0) -> None:
        utt = result.utterance
        if result.playbook_id and self.kb is not None:
            pb = self.kb.playbooks.get(result.playbook_id)
            if pb is not None and pb is not self.stepper.playbook:
                self.stepper.set_playbook(pb)
        if utt.end is not None and utt.end > self._heard_until:
            self._heard_until = utt.end
            self._update_status()
        self.transcript.show_utterance(utt, result.warnings)
        self.cards.show_result(result)
        if result.stage is not None:
            self.stepper.update_progress(result.stage.index, result.stages_done)
        for w in result.warnings:
            item = PendingWarning(warning=w, segment=utt.segment, text=utt.text, at=utt.start)
            if self.warning_banner.add(item) and w.severity == "critical":
                self.flash()
        self.last_result_stamp = emitted_at

    def on_withdrawn(self, evt: CardWithdrawn) -> None:
        """A partial's card or warning the final did not confirm: take it off, quietly."""
        if evt.kind == "faq":
            if not evt.replaced_by and self.cards.faq_card.key == evt.key:
                self.cards.faq_card.clear_content()
        elif self.warning_banner.withdraw(evt.segment, evt.key) and self.warning_banner.current is None:
            self._stop_flash()

    def on_level(self, evt: AudioLevel) -> None:
        bar = self.level_bars.get(evt.channel)
        if bar is not None:
            bar.setValue(int(max(0.0, min(1.0, evt.rms)) * 100))
            self._level_seen[evt.channel] = time.monotonic()

    def _decay_levels(self) -> None:
        # A channel that stopped sending levels must not show a frozen meter.
        now = time.monotonic()
        for ch, bar in self.level_bars.items():
            if now - self._level_seen.get(ch, 0.0) > 0.6:
                bar.setValue(0)

    def on_device_problem(self, evt: DeviceProblem) -> None:
        if evt.recovered:
            self.notice.dismiss("device")
            return
        where = f"（{SPEAKER_LABELS.get(evt.channel, evt.channel)}声道）" if evt.channel else ""
        self.notice.show_problem("device", f"音频设备问题{where}：{evt.message}",
                                 evt.fix or "检查耳机是否插好，或运行 assist devices 选择设备。")

    def on_store_problem(self, evt: StoreProblem) -> None:
        if evt.recovered:
            self.notice.dismiss("store")
            return
        if evt.fix:  # the recorder says what is happening and what to do
            self.notice.show_problem("store", evt.message, evt.fix)
            return
        self.notice.show_problem("store", f"通话记录暂时无法保存：{evt.message}",
                                 "释放磁盘空间或检查数据目录权限；内容暂存在内存中，恢复后自动写入。")

    def show_problem(self, kind: str, message: str, fix: str = "", action: tuple[str, str] | None = None) -> None:
        self.notice.show_problem(kind, message, fix, action)

    # -- warnings -------------------------------------------------------------------------------

    def _on_acknowledged(self, item: PendingWarning) -> None:
        if self.warning_banner.current is None:
            self._stop_flash()
        self.warning_acknowledged.emit(self.session_id or "", item)

    def flash(self) -> None:
        """Flash the border red a few times, then keep it red until the warning is acknowledged."""
        self._flash_left = FLASH_TIMES
        self._flash_timer.start()
        self._set_flash(True)

    def _flash_step(self) -> None:
        self._flash_left -= 1
        if self._flash_left <= 0:
            self._flash_timer.stop()
            self._set_flash(self.warning_banner.current is not None)
            return
        self._set_flash(self.frame.property("flash") != "true")

    def _stop_flash(self) -> None:
        self._flash_timer.stop()
        self._set_flash(False)

    def _set_flash(self, on: bool) -> None:
        set_style_flag(self.frame, "flash", on)

    # -- notes ----------------------------------------------------------------------------------

    def _on_notes_changed(self) -> None:
        if self.session_id is None:
            self.notes_state.setText("通话开始后保存")
            return
        self.notes_state.setText("编辑中…")
        self._notes_timer.start()

    def flush_notes(self) -> None:
        """Send the notes now (debounce timer, call end, window close)."""
        self._notes_timer.stop()
        if self.session_id is None or self.notes_state.text() != "编辑中…":
            return
        self.notes_edited.emit(self.session_id, self.notes.toPlainText())

    def mark_notes_saved(self, ok: bool, message: str = "") -> None:
        self.notes_state.setText("已保存 ✓" if ok else f"未保存：{message}")

    def closeEvent(self, event) -> None:
        self.flush_notes()
        super().closeEvent(event)
