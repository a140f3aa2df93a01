"""Where the Qt app is put together: one QApplication, one panel, one call at a time.

``CallController`` owns the knowledge base (through ``KbWatcher``, which loads it
on a worker thread: the panel paints at once and says 知识库加载中… until it is
ready; F8 pressed meanwhile starts the call as soon as it is), the session store,
the event bridge and the current call with its source: live audio or the demo
player. Calls are assembled by ``assist.assembly`` exactly as the CLI assembles
them: a fresh engine and ``Call`` per call, with the store's recorder and the
bridge subscribed; the panel only sees events through the bridge's queued
signals. Problems (KB broken, store unusable, model or device missing) are
``AssistError``s and become banners on the panel with their fix.

``run_panel``, ``run_demo``, ``run_browse`` and ``run_review`` are the CLI's
entry points (``assist``, ``assist demo``, ``assist browse``, ``assist
review``). Everything here runs on the GUI thread, except the demo/listener
callbacks noted as such.
"""
from __future__ import annotations

import logging
import sqlite3
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, cast

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from assist.errors import AssistError
from assist.ui.bridge import EventBridge
from assist.ui.kb_watcher import KbWatcher
from assist.ui.panel import Panel
from assist.ui.theme import apply_saved_look
from assist.ui.translations import install_chinese_translations
from assist.ui.warning_banner import PendingWarning

if TYPE_CHECKING:  # imported where used, lazily: the panel must paint before these load
    from assist.assembly import KbVectors, Recording, SpareEngine
    from assist.call import Call
    from assist.demo import DemoPlayer
    from assist.listening import Listener
    from assist.store import SessionRecorder, SessionStore
    from assist.store.ledger import ContactLedger, LedgerRecorder
    from assist.ui.kb_browser import KbBrowser
    from assist.ui.review import ReviewWindow

log = logging.getLogger(__name__)
Q = Qt.ConnectionType.QueuedConnection
DEMO_OFFER = ("demo", "播放演示通话")


def ensure_app() -> QApplication:
    """The one QApplication (created on first use, on the main thread)."""
    existing = QApplication.instance()
    if existing is not None:
        return cast(QApplication, existing)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("assist")
    app.setOrganizationName("assist")
    app.setApplicationDisplayName("坐席助手")
    install_chinese_translations(app)  # Qt's own buttons and dialogs: 确定/取消
    _add_bundled_fonts()
    return app


def _add_bundled_fonts() -> None:
    """The desktop bundle ships a CJK font (scripts/bundle.sh): offer it where the system has none."""
    base = getattr(sys, "_MEIPASS", None)  # set only inside a PyInstaller bundle
    if not base:
        return
    from PySide6.QtGui import QFontDatabase

    for font in sorted((Path(base) / "fonts").glob("*.tt[cf]")) + sorted((Path(base) / "fonts").glob("*.otf")):
        if QFontDatabase.addApplicationFont(str(font)) < 0:
            log.warning("could not load the bundled font %s", font)


class _FirstPaint(QObject):
    """Calls ``then`` once, right after ``widget`` has painted for the first time (GUI thread).

    A window that is never painted (minimised at start, a test's hidden panel) still gets
    ``then`` after ``FALLBACK_MS``.
    """

    FALLBACK_MS = 1000

    def __init__(self, widget: QWidget, then: Callable[[], None]):
        super().__init__(widget)
        self._then: Callable[[], None] | None = then
        widget.installEventFilter(self)
        QTimer.singleShot(self.FALLBACK_MS, self._fire)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self._then is not None:
            QTimer.singleShot(0, self._fire)  # after this paint has reached the screen
        return False

    def _fire(self) -> None:
        if self._then is None:
            return
        then, self._then = self._then, None
        parent = self.parent()
        if parent is not None:
            parent.removeEventFilter(self)
        then()


class CallController(QObject):
    """Starts and stops calls for a panel and routes their events to it and to the store."""

    demo_mark = Signal(int, str)  # demo line index and its mark, emitted from the demo thread
    live_failed = Signal(str, str, str)  # kind, message, fix; emitted from the listener start thread
    can_start = Signal()  # once, when the KB is loaded and the store settled: F8 starts a call at once
    _store_opened = Signal(object, object)  # Recording or AssistError, ledger or LedgerError; opener -> GUI
    _vectors_status = Signal(str, str)  # state, text; from the KB-vectors worker
    notes_saved = Signal(bool, str)  # saved?, why not; emitted from the recorder's writer thread

    def __init__(self, panel: Panel, *, kb_dir: str | Path | None = None, open_store: bool = True,
                 demo: bool = False, demo_speed: float = 2.0, demo_fast: bool = False,
                 demo_file: str | Path | None = None, pause_on_mark: bool = False, after_paint: bool = False):
        """``after_paint``: start loading the KB and opening the store only once the panel has
        painted (the entry points: the work would compete with the first paint for the GIL)."""
        super().__init__(panel)
        self.panel = panel
        self.demo_mode = demo
        self.demo_speed = demo_speed
        self.demo_fast = demo_fast
        self.demo_file = demo_file
        self.pause_on_mark = pause_on_mark
        self.call: Call | None = None
        self.player: DemoPlayer | None = None
        self.listener: Listener | None = None
        self.store: SessionStore | None = None
        self.recorder: SessionRecorder | None = None
        self.recording: Recording | None = None  # the store and its recorder, from assist.assembly
        self.browser: KbBrowser | None = None
        self.review: ReviewWindow | None = None
        self._pending_start: tuple[str, bool | None] | None = None  # F8 while the KB loads

        self.bridge = EventBridge(self)
        b = self.bridge
        b.call_started.connect(panel.on_call_started, Q)
        b.call_ended.connect(panel.on_call_ended, Q)
        b.call_ended.connect(self._on_call_ended, Q)
        b.result.connect(panel.on_result, Q)
        b.level.connect(panel.on_level, Q)
        b.device_problem.connect(panel.on_device_problem, Q)
        b.store_problem.connect(panel.on_store_problem, Q)
        b.withdrawn.connect(panel.on_withdrawn, Q)
        b.paused.connect(panel.on_listening_paused, Q)
        b.party.connect(lambda evt: panel.party_bar.show_party(evt.party), Q)
        b.contacts.connect(panel.party_bar.show_contacts, Q)

        panel.start_requested.connect(self.start)
        panel.stop_requested.connect(self.stop)
        panel.notes_edited.connect(self.save_notes)
        panel.warning_acknowledged.connect(self.acknowledge)
        panel.browse_requested.connect(self.open_browser)
        panel.review_requested.connect(self.open_review)
        panel.notice_action.connect(self._on_notice_action)
        panel.suggestion_used.connect(self.mark_used)
        panel.pause_requested.connect(self.toggle_pause)
        panel.call_identity.connect(self.save_identity)
        panel.party_bar.party_chosen.connect(self.set_party)
        # read by the ledger's subscriber on the call's thread: a plain str, replaced whole;
        # the case id is the panel's one case field (normalised there), not a second box
        self._case_id = ""
        panel.party_bar.case_edit.hide()
        panel.case_edit.case_changed.connect(self._set_case_id)
        self.ledger: ContactLedger | None = None
        self.ledger_recorder: LedgerRecorder | None = None
        self.live_failed.connect(self._on_live_failed, Q)
        self.notes_saved.connect(panel.mark_notes_saved, Q)

        # the KB's sentence vectors: built on a worker after each KB load, given to every call
        # (made in begin_loading: assist.assembly brings the engine in, which the first paint must not wait for)
        self.vectors: KbVectors | None = None
        self.spare: SpareEngine | None = None  # the next call's engine, built on a worker while idle
        self._vectors_status.connect(self._on_vectors_status, Q)
        self.kb_watcher = KbWatcher(kb_dir, self)
        self.kb_watcher.loaded.connect(self._on_kb_loaded)
        self.kb_watcher.failed.connect(self._on_kb_failed)
        self.kb_watcher.progress.connect(self._on_kb_progress)
        # The store and the ledger open on a worker too (imports, key store, checks, migrations:
        # seconds, which the first paint must not wait for); a call waits for them like for the KB.
        self._store_wanted = open_store
        self.store_opening = open_store  # until opened or failed (a call started meanwhile waits)
        self._store_opener: threading.Thread | None = None
        self._store_opened.connect(self._on_store_opened)
        self._loading_begun = False
        self._said_can_start = False
        panel.status.setText("知识库加载中…")
        if after_paint:
            _FirstPaint(panel, self.begin_loading)
        else:
            self.begin_loading()

    def begin_loading(self) -> None:
        """Start loading the KB and opening the store, each on a worker (GUI thread; once)."""
        if self._loading_begun:
            return
        self._loading_begun = True
        from assist.assembly import KbVectors, SpareEngine

        self.vectors = KbVectors(on_status=self._vectors_status.emit)
        # what F8 then imports on this thread otherwise: the demo player, or the live call's audio code
        self.spare = SpareEngine(warm_imports=("assist.demo",) if self.demo_mode else ("assist.listening",))
        self.kb_watcher.reload()  # returns at once; the KB arrives through loaded/failed
        if self._store_wanted:
            self._open_store()

    # -- setup ----------------------------------------------------------------------------------

    @property
    def kb(self):
        return self.kb_watcher.kb

    def _on_kb_progress(self, text: str) -> None:
        if not self.in_call:
            self.panel.status.setText(text)

    def _on_kb_loaded(self, kb) -> None:
        self.panel.set_kb(kb)
        self.panel.notice.dismiss("kb")
        if not self.in_call:
            self.panel.status.setText("未在通话中 · 按 F8 开始")
        self._start_pending()

    def _prepare_spare(self) -> None:
        """Idle again (a KB loaded, a call over or not started): build the next call's engine on a
        worker, so F8 does not build it here (~0.2 s with 10 000 FAQs). Not during a call: the
        build would compete with the call's own work for the CPU."""
        if self.spare is not None and self.kb is not None and not self.in_call:
            self.spare.prepare(self.kb, self.kb_watcher.take_engine(self.kb))  # the loader's, the first time

    def _on_vectors_status(self, state: str, text: str) -> None:
        """Progress of the KB's sentence vectors on the idle status line; a failure as a notice
        (not when the settings switched semantic matching off on purpose)."""
        from assist.config import encoder_name

        if state == "problem":
            if (encoder_name() or "").lower() not in ("none", "off", "0"):
                self.panel.show_problem("encoder", text, "答案仍会按字面匹配显示；重新安装本软件可恢复语义理解。")
        elif not self.in_call:
            self.panel.status.setText(text if state == "progress" else "未在通话中 · 按 F8 开始")

    def _start_pending(self) -> None:
        """The KB or the store arrived: once both are there, start what calls use next (the KB's
        vectors, the next call's engine) and a call F8 asked for meanwhile.

        The vectors and the spare engine wait for the store: started at the KB's arrival they
        competed with the store's opening for the CPU and put off the moment a call can start.
        """
        if self.kb is None or not self.store_settled:
            return
        if self.vectors is not None:
            self.vectors.build(self.kb)  # returns at once (nothing to do for a KB already built); calls are lexical until then
        if not self._said_can_start:
            self._said_can_start = True
            self.can_start.emit()
        if self._pending_start is not None:
            playbook_id, demo = self._pending_start
            self._pending_start = None
            self.start(playbook_id, demo)
        self._prepare_spare()  # not while the call just started runs: after it ends

    def _on_kb_failed(self, message: str) -> None:
        if self.kb_watcher.using_last_good:
            kept = "这次启动时知识库无法读取，正在使用上一次加载成功的知识库。"
        elif self.kb is not None:
            kept = "仍在使用上次加载成功的知识库。"
        else:
            kept = "没有可用的知识库，无法开始通话。"
            self._pending_start = None
        if not self.in_call and self.kb is None:
            self.panel.status.setText("知识库不可用")
        self.panel.show_problem(
            "kb", f"知识库有错误（{self.kb_watcher.kb_dir}）：{message}",
            f"{kept}修改出错的文件并保存后会自动重新加载；运行 assist kb check 可列出全部问题。")

    def _open_store(self) -> None:
        """Start opening the session store and the contact ledger on a worker (GUI thread)."""
        self.store_opening = True
        self._store_opener = threading.Thread(target=self._open_store_work, args=(self.demo_mode,),
                                              name="assist-store-open", daemon=True)
        self._store_opener.start()

    def _open_store_work(self, demo_mode: bool) -> None:
        """Worker thread: open the store (with its recorder) and the ledger; results go back as a signal."""
        from assist.assembly import open_recording
        from assist.store import demo_db_path
        from assist.store.ledger import LedgerError, demo_ledger_path, open_ledger

        recording: object
        ledger: object
        try:
            # on_problem runs on the recorder's (worker) thread: hand it to the bridge like any event.
            # demo mode records into the separate demo store, never among the agent's real calls
            recording = open_recording(demo_db_path() if demo_mode else None, on_problem=self.bridge)
        except AssistError as e:
            recording = e
        except Exception as e:  # anything else: a banner, never a dead opener (the call then is not saved)
            log.exception("the session store could not be opened")
            recording = AssistError(f"无法打开通话记录库：{e}", "")
        if isinstance(recording, AssistError):  # as the store: nothing counted where nothing is recorded
            self._store_opened.emit(recording, None)
            return
        try:
            # demo mode counts into the demo ledger, as it records into the demo store: a sample call
            # typed onto a real case number must not use up that debtor's calls for the day
            ledger = open_ledger(demo_ledger_path() if demo_mode else None)
        except LedgerError as e:
            ledger = e
        except Exception as e:
            log.exception("the contact ledger could not be opened")
            ledger = LedgerError(f"无法打开联系记录库：{e}")
        self._store_opened.emit(recording, ledger)
        # Then, with the call already possible, load what the end-of-call card will need (the
        # summary's promise parsing: cn2an, a quarter of a second) so the first call's end
        # does not pay for it on the GUI thread.
        try:
            import assist.store.summary  # noqa: F401
        except Exception:  # the card reports its own problems when it is shown
            log.exception("could not load the call summary")

    @property
    def store_settled(self) -> bool:
        """True once the store and ledger are open (or failed, with a banner), or were not asked for."""
        return not self.store_opening

    def _on_store_opened(self, recording, ledger) -> None:
        self.store_opening = False
        if isinstance(recording, AssistError):
            self.panel.show_problem("store", recording.message, f"{recording.fix}本次通话不会被保存。")
        else:
            self.recording = recording
            self.store, self.recorder = recording.store, recording.recorder
            if recording.warning:
                self.panel.show_problem("store", recording.warning, "旧文件已保留，可交给技术支持检查。")
            elif recording.store.key_warning and self._first_time_seen(recording.store.key_warning):
                self.panel.show_problem("store", recording.store.key_warning, "这不影响使用；详见说明文档“加密与密钥”。")
        if isinstance(ledger, Exception):
            self.panel.show_problem("ledger", str(ledger), "本次通话不会计入联系次数。")
        elif ledger is not None:
            from assist.store.ledger import LedgerRecorder

            self.ledger = ledger
            self.ledger_recorder = LedgerRecorder(ledger, on_status=self.bridge, case_id=lambda: self._case_id)
        self._start_pending()

    def _first_time_seen(self, key_warning: str) -> bool:
        """Whether to show how the store's key is kept: once per machine and wording, never in the demo.

        It is advice for whoever sets the machine up, not news for every call; the demo store
        holds no customer's data. `assist sessions key` says it again whenever asked.
        """
        settings = self.panel.settings
        if self.demo_mode or (settings is not None and settings.value("store/key_warning_shown") == key_warning):
            return False
        if settings is not None:
            settings.setValue("store/key_warning_shown", key_warning)
        return True

    def _set_case_id(self, text: str) -> None:
        self._case_id = text

    def set_party(self, kind: str, relation: str) -> None:
        """The agent's key in the panel: who is on the line (GUI thread; the engine call is quick)."""
        if self.call is not None:
            self.call.set_party(kind, relation)

    # -- calls ----------------------------------------------------------------------------------

    @property
    def in_call(self) -> bool:
        return self.call is not None

    def start(self, playbook_id: str = "", demo: bool | None = None) -> bool:
        """Start a call (demo or live); False, with a banner saying why, if it cannot."""
        if self.in_call:
            return False
        if self.kb is None:
            if self.kb_watcher.loading or not self._loading_begun:
                self._pending_start = (playbook_id, demo)
                self.panel.status.setText("知识库加载中…，加载完成后立即开始")
                return True
            self._on_kb_failed(self.kb_watcher.error or "知识库还没有加载")
            return False
        if not self.store_settled:  # the call is recorded from its first word: wait for the store
            self._pending_start = (playbook_id, demo)
            self.panel.status.setText("正在打开通话记录库…，打开后立即开始")
            return True
        from assist.assembly import make_call

        try:
            # the contact ledger counts the call (case id from the panel's field)
            counted = (self.ledger_recorder,) if self.ledger_recorder is not None else ()
            call = make_call(self.kb, playbook_id or None, (self.bridge, *counted), self.recording,
                             vectors=self.vectors, spare=self.spare)
        except AssistError as e:
            self.panel.show_problem("kb", e.message, "在下拉框里选择另一个话术或“自动识别”。")
            return False
        use_demo = self.demo_mode if demo is None else demo
        if use_demo:
            return self._start_demo(call)
        return self._start_live(call)

    def _start_demo(self, call) -> bool:
        from assist.assembly import demo_source

        try:
            player = demo_source(call, self.demo_file, speed=self.demo_speed, fast=self.demo_fast,
                                 on_line=self._on_demo_line)
        except AssistError as e:
            self.panel.show_problem("demo", e.message, e.fix)
            self._prepare_spare()
            return False
        self.call = call
        self.player = player
        self.panel.notice.dismiss("model")
        self.player.start()
        return True

    def _on_demo_line(self, index: int, line) -> None:
        """Demo thread: pause at a marked line if asked (for the screenshot), tell the GUI."""
        if line.mark:
            if self.pause_on_mark and self.player is not None:
                self.player.pause()
            self.demo_mark.emit(index, line.mark)

    def _start_live(self, call) -> bool:
        """Start listening; the model load and device checks take seconds, so they run on a worker."""
        from assist.assembly import live_source

        try:
            listener = live_source(call)
        except ImportError as e:
            missing = f"（缺少 {e.name}）" if e.name else ""
            self.panel.show_problem("model", f"实时收音所需的组件没有装好{missing}",
                                    "重新安装本软件可恢复；现在可以先播放演示通话看看效果。", DEMO_OFFER)
            self._prepare_spare()
            return False
        except AssistError as e:  # the saved settings cannot be read
            self.panel.show_problem("device", e.message, e.fix)
            self._prepare_spare()
            return False
        self.call = call
        self.listener = listener
        self.panel.status.setText("正在加载语音模型、打开耳机……")
        threading.Thread(target=self._live_start_worker, args=(self.listener,), name="assist-listen-start",
                         daemon=True).start()
        return True

    def _live_start_worker(self, listener) -> None:
        """Worker thread: Listener.start() (model load, devices); failures go back as a signal."""
        from assist.assembly import NoModel, start_source

        try:
            start_source(listener)
        except NoModel as e:
            self.live_failed.emit("model", e.message, e.fix)
        except AssistError as e:
            self.live_failed.emit("device", e.message, e.fix)
        except Exception as e:  # anything else: a banner, never a crash
            log.warning("live call could not start: %s", e)
            fix = getattr(e, "fix", "") or "运行 assist devices 检查耳机和输入设备，然后重试。"
            from assist.ui.error_words import problem_text

            self.live_failed.emit("device", f"无法开始收音：{problem_text(e)}", fix)

    def _on_live_failed(self, kind: str, message: str, fix: str) -> None:
        ended = self.call is not None and self.call.started_at is not None
        self.call = None
        self.listener = None
        self.panel.show_problem(kind, message, fix, DEMO_OFFER)
        if not ended:
            self.panel.status.setText("未在通话中 · 按 F8 开始")
        self._prepare_spare()

    def stop(self) -> None:
        """End the current call; the CallEnded event then resets the panel."""
        if self.player is not None:
            self.player.stop()  # the player ends the call on its thread
        elif self.listener is not None:
            # stop() drains the recognizers (can take a moment): not on the GUI thread.
            self.panel.status.setText("正在结束通话，整理最后几句……")
            threading.Thread(target=self.listener.stop, name="assist-listen-stop", daemon=True).start()

    def _on_call_ended(self, evt) -> None:
        self.call = None
        self.player = None
        self.listener = None
        self._show_summary(evt.session_id)
        self._prepare_spare()

    def _show_summary(self, session_id: str) -> None:
        """The end-of-call card (the recorder, subscribed before the bridge, has written the end)."""
        if self.store is None or not session_id:
            return
        from assist.store import StoreError

        try:
            summary = self.store.summary(session_id, kb=self.kb)
        except (StoreError, sqlite3.Error) as e:
            log.warning("no end-of-call summary: %s", e)
            return
        self.panel.summary_card.show_summary(summary)

    def shutdown(self) -> None:
        """Window closing: stop the call, write what is buffered (GUI thread)."""
        if self.player is not None:
            self.player.stop()
            self.player.wait(2.0)
        elif self.listener is not None:
            self.listener.stop(interrupted=True)
        if self._store_opener is not None and self.store_opening:
            # the opener may be mid-migration: let it finish so the store is closed cleanly
            self._store_opener.join(10.0)
            QApplication.processEvents()  # its result (queued signal) sets self.recorder
        if self.recorder is not None:
            self.recorder.close()

    def _on_notice_action(self, key: str) -> None:
        if key == "demo":
            self.start(self.panel.selected_playbook(), demo=True)

    # -- store writes from the panel --------------------------------------------------------------
    # Queued for the recorder's writer thread (journalled if the store is locked): the GUI thread
    # never waits on SQLite. A row not stored yet (a warning acknowledged on a partial) is retried
    # there after the call's next utterances.

    def save_notes(self, session_id: str, text: str) -> None:
        if self.recorder is None:
            self.panel.mark_notes_saved(False, "记录库不可用")
            return
        if not self.recorder.save_notes(session_id, text, on_done=self.notes_saved.emit):
            self.panel.mark_notes_saved(False, "记录库已关闭")

    def mark_used(self, session_id: str, kind: str, key: str, text: str) -> None:
        """The agent copied the answer or the next line: mark it used in the store, so review shows it."""
        if self.recorder is not None and session_id:
            self.recorder.mark_used(session_id, kind, key if kind == "faq" else text.split("\n\n")[0])

    def save_identity(self, session_id: str, agent_id: str, case_id: str) -> None:
        """Agent and case id onto the session."""
        if self.recorder is not None and session_id:
            self.recorder.set_identity(session_id, agent_id, case_id)

    def toggle_pause(self) -> None:
        """Ctrl+P: pause or resume listening (GUI thread; returns at once).

        A live call's ``Listener`` sends ``ListeningPaused``/``ListeningResumed``, which mark the
        transcript and the store through the bridge; the demo player just holds its lines.
        """
        if self.listener is not None:
            if self.listener.paused:
                self.listener.resume()
            else:
                self.listener.pause()
        elif self.player is not None:
            if self.player.paused:
                self.player.resume()
                self.panel.set_paused(False)
            else:
                self.player.pause()
                self.panel.set_paused(True)

    def acknowledge(self, session_id: str, item: PendingWarning) -> None:
        if self.recorder is not None and session_id:
            self.recorder.acknowledge(session_id, item.warning.rule_id, item.segment)

    # -- other windows ----------------------------------------------------------------------------

    def open_browser(self) -> None:
        from assist.ui.kb_browser import KbBrowser

        if self.browser is None:
            self.browser = KbBrowser(watcher=self.kb_watcher)
        self.browser.show()
        self.browser.raise_()
        self.browser.activateWindow()

    def open_review(self) -> None:
        from assist.ui.review import ReviewWindow

        if self.review is None and self.store_opening:  # a second or two after start-up
            self.panel.status.setText("通话记录库正在打开，请稍候再打开回顾")
            return
        if self.review is None:
            self.review = ReviewWindow(self.store, kb=self.kb, recorder=self.recorder)
        self.review.refresh()
        self.review.show()
        self.review.raise_()


# -- entry points (CLI) -------------------------------------------------------------------------------


def _make_panel() -> tuple[QApplication, Panel]:
    app = ensure_app()
    panel = Panel(settings=QSettings())
    return app, panel


def _show_docked(panel: Panel) -> None:
    panel.show()
    panel.dock_right()


def run_panel(kb_dir: str | None = None) -> int:
    """``assist``: the live panel; start/stop listens through the headset."""
    app, panel = _make_panel()
    ctl = CallController(panel, kb_dir=kb_dir, after_paint=True)
    app.aboutToQuit.connect(ctl.shutdown)
    _show_docked(panel)
    # show/hide and pause from any window where the platform allows; after the first paint (X round trips)
    QTimer.singleShot(300, lambda: _install_global_hotkeys(panel))
    return app.exec()


def _install_global_hotkeys(panel: Panel) -> None:
    from assist.ui.global_hotkeys import install_global_hotkeys

    install_global_hotkeys(panel)


def run_demo(kb_dir: str | None = None, *, fast: bool = False, speed: float = 2.0,
             screenshot: str | None = None, quit_after: float | None = None,
             demo_file: str | None = None) -> int:
    """``assist demo``: the panel playing the sample call through the real engine and store."""
    app, panel = _make_panel()
    ctl = CallController(panel, kb_dir=kb_dir, demo=True, demo_fast=fast, demo_speed=speed,
                         demo_file=demo_file, pause_on_mark=bool(screenshot), after_paint=True)
    app.aboutToQuit.connect(ctl.shutdown)
    shot = {"taken": False}
    if screenshot:
        def take(_index: int, mark: str) -> None:
            if mark == "screenshot":
                # let the queued events before the mark reach the widgets, then grab
                QApplication.processEvents()
                layout = panel.layout()
                if layout is not None:
                    layout.activate()
                ok = panel.grab().save(screenshot)
                shot["taken"] = ok
                print(f"{'截图已保存到' if ok else '无法保存截图到'} {screenshot}", flush=True)
            if ctl.player is not None:
                ctl.player.resume()
            if quit_after is None:
                QTimer.singleShot(500, app.quit)

        ctl.demo_mark.connect(take, Q)
    if quit_after is not None:
        # Counted from the call's start, not from launch: on a fresh machine the knowledge base
        # and its sentence index can take longer to build than the whole demo call lasts.
        # A knowledge base that cannot load ends the run as well, its banner shown that long.
        armed = {"done": False}

        def quit_later(*_args) -> None:
            if not armed["done"]:
                armed["done"] = True
                QTimer.singleShot(int(quit_after * 1000), app.quit)

        ctl.bridge.call_started.connect(quit_later, Q)

        def quit_if_no_kb(_message: str) -> None:
            if ctl.kb is None:
                quit_later()

        ctl.kb_watcher.failed.connect(quit_if_no_kb)
    _show_docked(panel)
    # Start once the window is up so the first events have somewhere to go.
    QTimer.singleShot(300 if not fast else 50, lambda: ctl.start(panel.selected_playbook()))
    code = app.exec()
    if screenshot and not shot["taken"] and code == 0:
        print(f"没有保存截图 {screenshot}：演示通话没有播放到截图的位置。", file=sys.stderr, flush=True)
        return 1
    return code


def run_browse(kb_dir: str | None = None) -> int:
    """``assist browse``: the knowledge-base browser on its own."""
    from assist.ui.kb_browser import KbBrowser

    app = ensure_app()
    browser = KbBrowser(kb_dir=kb_dir)
    apply_saved_look(QSettings())
    browser.show()
    return app.exec()


def run_review(session_id: str | None = None) -> int:
    """``assist review [ID]``: past calls, with one opened if given."""
    from assist.store import StoreError, open_store
    from assist.ui.review import ReviewWindow

    app = ensure_app()
    store: SessionStore | None
    try:
        store = open_store()
    except StoreError as e:
        store = None
        err = str(e)
    else:
        err = ""
    win = ReviewWindow(store, error=err or None)
    apply_saved_look(QSettings())
    win.refresh()
    if session_id:
        win.open_session(session_id)
    win.show()
    try:
        return app.exec()
    finally:
        win.close_writer()  # notes still queued go to the store, or its journal if it is locked
