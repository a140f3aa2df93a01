"""The live side panel: what the agent looks at during a call.

Top to bottom: the call button and playbook picker; the case number, 知识库,
安静 and the 更多 menu; a notice banner for setup problems; the red compliance
banner; the end-of-call card; status with the live input levels; the stage
stepper; the FAQ and next-line cards; the transcript and the notes box. On a
short screen the less urgent parts give way (``fit_to_height``). Every action
has a key (``help_overlay.SHORTCUTS``). The panel never talks to the engine, store or audio: it receives events in its
``on_*`` slots (connected to ``EventBridge`` signals, queued onto the GUI
thread) and asks for things through its own signals, which ``app`` wires to
the call controller. Everything here runs on the GUI thread.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QRect, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QInputDialog,
    QMenu,
    QScrollArea,
    QSizePolicy,
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
    ListeningPaused,
    ListeningResumed,
    StoreProblem,
)
from assist.ui.alert_throttle import AlertThrottle
from assist.ui.cards import SuggestionCards
from assist.ui.help_overlay import SHORTCUTS, HelpOverlay
from assist.ui.case_id_edit import CaseIdEdit
from assist.ui.device_words import DEVICES_MENU_TEXT, device_lost_text
from assist.ui.party_bar import PartyBar
from assist.ui.stepper import StageStepper
from assist.ui.summary_card import SummaryCard
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
from assist.zh.identifiers import normalise_case_id
from assist.ui.warning_banner import NoticeBanner, PendingWarning, WarningBanner

PANEL_WIDTH = 400
MIN_PANEL_WIDTH = 300  # logical pixels: the softphone needs the rest of a 1366-wide screen at 150 %
NOTES_DEBOUNCE_MS = 600
FLASH_MS, FLASH_TIMES = 250, 8
CALL_SHORTCUTS = ("F8", "Ctrl+Space")
CARDS_MIN_H = 60
# Panel heights (logical px) from which the panel shows everything / drops the transcript / goes
# compact; below the last it is tight. Measured with tests/ui/panel_fit_probe.py on the demo call.
FIT_FLOORS = (960, 860, 700)
ALERT_REPEAT_S = 30.0  # the same rule pops up at most once in this many seconds of call; repeats are counted


def _clock(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 60:02d}:{s % 60:02d}"


class Panel(QWidget):
    """The narrow always-on-top window. Signals go out to the controller; events come in."""

    start_requested = Signal(str)  # playbook id, "" for automatic
    stop_requested = Signal()
    notes_edited = Signal(str, str)  # session id, text (debounced)
    warning_acknowledged = Signal(str, object)  # session id, PendingWarning
    browse_requested = Signal()
    review_requested = Signal()
    notice_action = Signal(str)  # NoticeBanner action key, e.g. "demo"
    suggestion_used = Signal(str, str, str, str)  # session id, "faq" | "line", FAQ id or line key, text copied
    pause_requested = Signal()
    call_identity = Signal(str, str, str)  # session id, agent id, case id (normalised)

    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("坐席助手")
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
        self.paused = False  # listening paused (Ctrl+P): shown in the status line
        self._device_names: dict[str, str] = {}
        self.quiet = self._setting("quiet", "false") == "true"
        self.agent_id = str(self._setting("agent_id", "") or "")
        self.throttle = AlertThrottle(ALERT_REPEAT_S)
        self._fit_level: tuple[int, bool] | None = None
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

        # One row of what agents use all day; the rest (font, theme, on top, dock, shortcuts) in a menu,
        # so the panel stays narrow enough for a 1366-wide screen at 150 %.
        tools = QHBoxLayout()
        tools.setSpacing(4)
        self.kb_button = self._tool("知识库", "打开知识库浏览（Ctrl+K）", self.browse_requested.emit)
        self.quiet_button = self._tool("安静", "安静模式：只弹出严重违规提醒（Ctrl+Q）", self.set_quiet, checkable=True)
        self.menu_button = QToolButton()
        self.menu_button.setText("更多 ▾")
        self.menu_button.setToolTip("字号、深浅色、置顶、停靠、快捷键")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        self.smaller_button = menu.addAction("字号缩小", lambda: self.change_font(-1))
        self.larger_button = menu.addAction("字号放大", lambda: self.change_font(+1))
        self.theme_button = menu.addAction("切换浅色/深色", self.toggle_theme)
        self.top_button = menu.addAction("窗口置顶")
        self.top_button.setCheckable(True)
        self.top_button.toggled.connect(self.set_on_top)
        self.dock_button = menu.addAction("停靠到屏幕右侧", self.dock_right)
        self.agent_action = menu.addAction("坐席工号…", self.ask_agent_id)
        self.devices_action = menu.addAction(f"{DEVICES_MENU_TEXT}…", self.choose_devices)
        menu.addSeparator()
        self.review_button = menu.addAction("回顾以往通话", self.review_requested.emit)
        self.help_action = menu.addAction("快捷键一览（F1）", self.show_help)
        self.menu_button.setMenu(menu)
        self.case_edit = CaseIdEdit()
        self.case_edit.setMinimumWidth(60)
        tools.addWidget(self.case_edit, 1)
        for b in (self.kb_button, self.quiet_button, self.menu_button):
            tools.addWidget(b)
        lay.addLayout(tools)
        self._tool_row = (self.case_edit, self.kb_button, self.quiet_button, self.menu_button)

        self.notice = NoticeBanner()
        self.notice.action.connect(self.notice_action.emit)
        lay.addWidget(self.notice)
        self.warning_banner = WarningBanner()
        self.warning_banner.acknowledged.connect(self._on_acknowledged)
        lay.addWidget(self.warning_banner)
        self.summary_card = SummaryCard()
        self.summary_card.review_requested.connect(self.review_requested.emit)
        lay.addWidget(self.summary_card)

        self.party_bar = PartyBar()  # who is on the line (F7 sets it), today's contacts
        lay.addWidget(self.party_bar)

        # Status and the input meters share one row: call time, then a short meter per channel
        # (the device's full name is in the meter's tooltip).
        self.status_row = QWidget()
        devices = QHBoxLayout(self.status_row)
        devices.setContentsMargins(0, 0, 0, 0)
        devices.setSpacing(4)
        self.status = QLabel("未在通话中 · 按 F8 开始", objectName="muted")
        self.status.setMinimumWidth(10)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        devices.addWidget(self.status, 1)
        self.device_labels: dict[str, QLabel] = {}
        self.level_bars: dict[str, QProgressBar] = {}
        for ch in ("agent", "customer", "unknown"):
            name = QLabel(SPEAKER_LABELS[ch], objectName="muted")
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setTextVisible(False)
            bar.setFixedWidth(48)
            name.setToolTip(f"{SPEAKER_LABELS[ch]}：未连接")
            bar.setToolTip(name.toolTip())
            devices.addWidget(name)
            devices.addWidget(bar)
            self.device_labels[ch] = name
            self.level_bars[ch] = bar
        lay.addWidget(self.status_row)
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
        self.cards_scroll.setMinimumHeight(CARDS_MIN_H)
        self.transcript = TranscriptView(theme=self.theme)
        self.transcript.setMinimumHeight(60)
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
        self.notes.setMinimumHeight(40)
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
        self.notes_box = notes_box

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
            self._shortcut(keys, self.toggle_call)
        for keys, slot in ((SHORTCUTS["copy_answer"], self.copy_answer),
                           (SHORTCUTS["copy_line"], self.copy_next_line),
                           (SHORTCUTS["acknowledge"], self.acknowledge_warning),
                           (SHORTCUTS["pause"], self.toggle_pause),
                           (SHORTCUTS["note"], self.new_note),
                           (SHORTCUTS["quiet"], lambda: self.set_quiet(not self.quiet)),
                           (SHORTCUTS["kb"], self.browse_requested.emit),
                           (SHORTCUTS["help"], self.show_help)):
            self._shortcut(keys, slot)
        self.cards.faq_card.copied.connect(lambda text: self._on_card_copied("faq", self.cards.faq_card.key or "", text))
        self.cards.line_card.copied.connect(lambda text: self._on_card_copied("line", self.cards.line_card.key or "",
                                                                              text))
        self.help_overlay = HelpOverlay(self)
        self.help_overlay.hide()
        self._notes_opened = False
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self.fit_to_height)
        self.warning_banner.changed.connect(self.schedule_fit)
        self.quiet_button.setChecked(self.quiet)
        self.case_edit.case_changed.connect(lambda _c: self._send_identity())
        if self.agent_id:
            self.agent_action.setText(f"坐席工号：{self.agent_id}…")
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

    def _shortcut(self, keys: str, slot) -> None:
        sc = QShortcut(QKeySequence(keys), self)
        sc.setContext(Qt.ShortcutContext.ApplicationShortcut)
        sc.activated.connect(slot)

    # -- agent workflow: quiet mode, copying, notes, help ------------------------------------------

    def set_quiet(self, on: bool) -> None:
        """Quiet mode: only critical warnings pop up (the others are still recorded and marked)."""
        self.quiet = bool(on)
        if self.quiet_button.isChecked() != self.quiet:
            self.quiet_button.setChecked(self.quiet)
        self._save_setting("quiet", "true" if self.quiet else "false")

    def choose_devices(self) -> None:
        from assist.ui.device_dialog import DeviceDialog

        DeviceDialog(self).exec()

    def ask_agent_id(self) -> None:
        """Menu: the agent's staff number, saved on this machine and put on every call."""
        text, ok = QInputDialog.getText(self, "坐席工号", "本机坐席的工号（保存在本机，记录到每通电话）：",
                                        text=self.agent_id)
        if ok:
            self.set_agent_id(text)

    def set_agent_id(self, text: str) -> None:
        self.agent_id = normalise_case_id(text)  # same clean-up as case ids: spaces, full-width digits
        self._save_setting("agent_id", self.agent_id)
        self.agent_action.setText(f"坐席工号：{self.agent_id}…" if self.agent_id else "坐席工号…")
        self._send_identity()

    def _send_identity(self) -> None:
        if self.session_id:
            self.call_identity.emit(self.session_id, self.agent_id, self.case_edit.case_id)

    def copy_answer(self) -> None:
        self.cards.faq_card.copy()

    def copy_next_line(self) -> None:
        self.cards.line_card.copy()

    def _on_card_copied(self, kind: str, key: str, text: str) -> None:
        if self.session_id:
            self.suggestion_used.emit(self.session_id, kind, key, text)

    def acknowledge_warning(self) -> None:
        self.warning_banner.acknowledge()

    def new_note(self) -> None:
        """Start a new note line stamped with the call time, and put the cursor there."""
        self.notes_box.setVisible(True)
        self._notes_opened = True
        secs = int(max(time.time() - self.call_started_at, self._heard_until)) if (
            self.live and self.call_started_at) else None
        stamp = f"[{secs // 60:02d}:{secs % 60:02d}] " if secs is not None else ""
        text = self.notes.toPlainText()
        self.notes.moveCursor(QTextCursor.MoveOperation.End)
        self.notes.insertPlainText(("\n" if text and not text.endswith("\n") else "") + stamp)
        self.notes.setFocus()
        self.schedule_fit()

    def toggle_pause(self) -> None:
        self.pause_requested.emit()

    def toggle_shown(self) -> None:
        """The global show/hide hotkey: out of the way, or back on top with the focus."""
        if self.isVisible() and not self.isMinimized():
            self.hide()
            return
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def show_help(self) -> None:
        self.help_overlay.setParent(self)
        self.help_overlay.setGeometry(self.rect())
        self.help_overlay.show()
        self.help_overlay.raise_()
        self.help_overlay.setFocus()

    # -- fitting a short screen -------------------------------------------------------------------

    def schedule_fit(self) -> None:
        """Re-fit after this event (many results can arrive in one turn of the event loop)."""
        if not self._fit_timer.isActive():
            self._fit_timer.start()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.fit_to_height()
        if self.help_overlay.isVisible():
            self.help_overlay.setGeometry(self.rect())

    def fit_to_height(self, height: int | None = None) -> None:
        """Keep the warning, the answer and the next line on screen, unscrolled, on a short screen.

        Less urgent parts give way by the panel's height in logical pixels (so 125 % and 150 %
        scaling count): the live transcript first, then the notes (unless the agent opened them
        with Ctrl+N) with the stepper's heading, the cards' reserved lines and the warning's
        quote and source (kept in tooltips), then the small print. Decided by thresholds, not by
        measuring, so a resize never makes the layout oscillate.
        """
        h = height or self.height()
        level = next((i for i, floor in enumerate(FIT_FLOORS) if h >= floor), len(FIT_FLOORS))
        # While a warning is up on a tight panel it borrows the rows of the tools, the stepper and the
        # status with its meters (every tool has a shortcut; they return once the warning is acknowledged).
        warning_up = level >= 3 and not self.warning_banner.isHidden()
        if (level, warning_up) == self._fit_level:
            return
        self._fit_level = (level, warning_up)
        self._apply_shape(transcript=level == 0, notes=level <= 1 or self._notes_opened,
                          compact=level >= 2, tight=level >= 3)
        for w in self._tool_row:
            w.setVisible(not warning_up)
        self.stepper.setVisible(not warning_up)
        self.status_row.setVisible(not warning_up)
        self.party_bar.setVisible(not warning_up)  # F7 still works; the warning names who is on the line

    def _apply_shape(self, transcript: bool, notes: bool, compact: bool, tight: bool = False) -> None:
        self.transcript.setVisible(transcript)
        self.notes_box.setVisible(notes)
        self.stepper.set_compact(compact, tight)
        self.cards.set_compact(compact, tight)
        self.warning_banner.set_compact(compact)

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

    @staticmethod
    def width_for_screen(screen_width: int) -> int:
        """The docked width: PANEL_WIDTH, but at most a third of a small (or scaled-up) screen."""
        return max(MIN_PANEL_WIDTH, min(PANEL_WIDTH, screen_width // 3))

    def dock_right(self) -> None:
        """Put the panel against the right edge of its screen, full height."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        self.dock_in(screen.availableGeometry())

    def dock_in(self, area: QRect) -> None:
        """Fill the right edge of ``area`` (a screen's available geometry), fitted to its height first
        so the window is not held taller than the screen by parts that are about to give way."""
        width = max(self.width_for_screen(area.width()), self.minimumSizeHint().width())
        self.resize(width, self.height())  # text wraps at the final width before heights are measured
        layout = self.frame.layout()
        assert layout is not None  # the frame is built with its layout
        layout.activate()
        self.fit_to_height(area.height())
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
            paused = " · 已暂停收音（Ctrl+P 继续）" if self.paused else ""
            self.status.setText(f"通话中 {secs // 60:02d}:{secs % 60:02d}{paused}")

    def set_paused(self, paused: bool) -> None:
        """Listening paused or resumed: say so in the status line (the demo player; a live call's
        events come through ``on_listening_paused``)."""
        self.paused = paused
        self._update_status()

    # -- events in (slots connected to EventBridge, GUI thread) ------------------------------------

    def on_call_started(self, evt: CallStarted) -> None:
        self.flush_notes()
        first = self.session_id is None
        self.session_id = evt.session_id
        self.call_started_at = evt.started_at
        self._heard_until = 0.0
        self.paused = False
        self.transcript.clear_call()
        self.party_bar.clear_call()
        self.cards.clear_call()
        self.warning_banner.clear_call()
        self.summary_card.hide()
        self.throttle.clear()
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
        self._device_names = dict(evt.devices)
        for ch, label in self.device_labels.items():
            name = evt.devices.get(ch)
            tip = f"{SPEAKER_LABELS[ch]}：{name}" if name else f"{SPEAKER_LABELS[ch]}：未使用"
            label.setToolTip(tip)
            self.level_bars[ch].setToolTip(tip)
        self._set_live(True)
        self._send_identity()
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
        self.status.setText(f"通话已{how} · 备注仍可编辑")
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
        if result.party is not None and result.party != self.party_bar.party:
            self.party_bar.show_party(result.party)
        self.transcript.show_utterance(utt, result.warnings)
        self.cards.show_result(result)
        if result.stage is not None:
            self.stepper.update_progress(result.stage.index, result.stages_done)
        for w in result.warnings:
            item = PendingWarning(warning=w, segment=utt.segment, text=utt.text, at=utt.start)
            if self.quiet and w.severity != "critical":
                continue  # quiet mode: the transcript still marks it and the store keeps it
            if self.warning_banner.has(item):
                self.warning_banner.add(item)  # the same utterance grew: update the quote in place
                continue
            at = utt.start if utt.start is not None else time.monotonic()
            if not self.throttle.allow(w.rule_id, at):
                self.warning_banner.note_repeat(w.rule_id, self.throttle.count(w.rule_id))
                continue
            if self.warning_banner.add(item, repeats=self.throttle.count(w.rule_id)) and w.severity == "critical":
                self.flash()
        self.last_result_stamp = emitted_at
        self.schedule_fit()

    def on_listening_paused(self, evt: ListeningPaused | ListeningResumed) -> None:
        """The live listener paused or resumed: mark the transcript where, and the status line."""
        if isinstance(evt, ListeningPaused):
            self.transcript.show_marker(f"{_clock(evt.at)} 已暂停收音，这段时间的话不识别、不记录")
            self.set_paused(True)
        else:
            self.transcript.show_marker(f"{_clock(evt.at)} 继续收音（暂停了 {max(0, round(evt.at - evt.paused_at))} 秒）")
            self.set_paused(False)

    def on_withdrawn(self, evt: CardWithdrawn) -> None:
        """A partial's card or warning the final did not confirm: take it off, quietly."""
        if evt.kind == "faq":
            if not evt.replaced_by and self.cards.faq_card.key == evt.key:
                self.cards.faq_card.clear_content()
        elif self.warning_banner.withdraw(evt.segment, evt.key):
            self.throttle.forget(evt.key)
            if self.warning_banner.current is None:
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
        name = evt.device or (self._device_names.get(evt.channel) if evt.channel else None) or ""
        if evt.kind == "lost" and evt.channel:
            message, fix = device_lost_text(evt.channel, name, self._device_names)
            self.notice.show_problem("device", message, fix)
            return
        # Anything else the capture side reports (overflow, recognition trouble): its own Chinese
        # message, with which channel and device, and that the other channel goes on.
        where = f"（{SPEAKER_LABELS.get(evt.channel, '通话')}声道{f'「{name}」' if name else ''}）" if evt.channel else ""
        others = [SPEAKER_LABELS[c] for c in self._device_names if c != evt.channel and c in SPEAKER_LABELS]
        goes_on = f"通话继续，{'、'.join(others)}声道照常识别。" if others and self.live else ""
        self.notice.show_problem("device", f"音频设备问题{where}：{evt.message}",
                                 goes_on + (evt.fix or f"检查耳机是否插好，或在“更多 → {DEVICES_MENU_TEXT}”里选择设备。"))

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
