"""Session review: past calls, one call's transcript with what was shown, its summary, notes, export.

Reads the session store (``assist.store.SessionStore``: ``list_sessions``,
``bundle``, ``summary``, ``export``). The transcript shows each
final utterance with, right under it, the warnings it raised, the FAQ answers
and script lines shown for it. Notes are editable and saved as the agent types
(debounced). GUI thread only; the store is thread-safe and its reads are quick
(WAL: another program's write lock does not block them).

Writes never run on the GUI thread, so a store locked by another program cannot
freeze the window: notes are queued on the recorder (``SessionRecorder.save_notes``,
as the panel's notes are; journalled while the store refuses writes, saved when it
takes them again; the outcome comes back through ``notes_saved``), and an export,
which writes its audit row before the text is handed out, runs on a worker thread
(``export_done``).
"""
from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QLineEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assist.ui.error_words import problem_text
from assist.ui.post_call_view import post_call_html
from assist.ui.review_filters import SessionFilter, WeekRow, rollup_csv, weekly_rollup
from assist.ui.theme import SPEAKER_LABELS
from assist.zh.identifiers import mask_case_id
from assist.ui.warning_banner import SEVERITY_NAMES, NoticeBanner

if TYPE_CHECKING:
    from assist.store import SessionRecorder

NOTES_DEBOUNCE_MS = 600
EXPORT_FORMATS = {"markdown": ".md", "json": ".json", "csv": ".csv"}
STATUS_NAMES = {"open": "进行中", "ended": "已结束", "interrupted": "中断"}
SPEAKER_COLOURS = {"agent": "#1f6feb", "customer": "#b35900", "unknown": "#6e7781"}


def _esc(text) -> str:
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


def _duration(row: dict) -> str:
    if row.get("duration_s") is not None:
        secs = int(row["duration_s"])
        return f"{secs // 60}:{secs % 60:02d}"
    return "—"


def _export_problem(e: BaseException) -> str:
    """Why an export failed, in Chinese (the driver's own text only as a detail)."""
    from assist.store import driver

    if isinstance(e, driver.OperationalError) and driver.is_busy(e):
        return "记录库正被其他程序占用，无法记下这次导出（导出必须先记入审计记录）；请关闭占用它的程序后再导出"
    if isinstance(e, OSError):
        return f"{problem_text(e)}，文件写不进去；换一个可写的位置再试"
    return f"{problem_text(e)}；换一个可写的位置再试"


class ReviewWindow(QWidget):
    # emitted from the recorder's writer thread (queued to the GUI thread): session id, saved?, why not
    notes_saved = Signal(str, bool, str)
    # emitted from the export worker: written?, the path or what went wrong (Chinese)
    export_done = Signal(bool, str)

    def __init__(self, store, kb=None, error: str | None = None, parent=None, recorder=None):
        """``recorder``: the process's SessionRecorder on ``store`` (the panel's); without one the window
        makes its own on first save (one recorder per store and process: pass it when there is one)."""
        super().__init__(parent)
        self.setWindowTitle("通话回顾 · 坐席助手")
        self.resize(980, 640)
        self.store = store
        self.kb = kb
        self.recorder = recorder
        self._own_recorder: SessionRecorder | None = None
        self.session_id: str | None = None
        self._loading = False
        self._unsaved: dict[str, str] = {}  # session id -> notes queued but not yet in the store
        self.exporting: threading.Thread | None = None
        self.notes_saved.connect(self._on_notes_saved)
        self.export_done.connect(self._on_export_done)

        self.notice = NoticeBanner()
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(["日期", "时长", "坐席", "案件", "话术", "警告", "状态"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_select)
        refresh = QPushButton("刷新")
        refresh.clicked.connect(self.refresh)
        # The filter bar: dates, has warning / promise, and words said in the call or its notes.
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-30), calendarPopup=True)
        self.date_to = QDateEdit(today, calendarPopup=True)
        for d in (self.date_from, self.date_to):
            d.setDisplayFormat("yyyy-MM-dd")
            d.dateChanged.connect(lambda _d: self.apply_filter())
        self.text_filter = QLineEdit(placeholderText="通话内容或备注里的词")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.returnPressed.connect(self.apply_filter)
        self.agent_filter = QLineEdit(placeholderText="坐席工号")
        self.case_filter = QLineEdit(placeholderText="案件号或卡号")
        for e in (self.agent_filter, self.case_filter):
            e.setClearButtonEnabled(True)
            e.returnPressed.connect(self.apply_filter)
        self.warning_only = QCheckBox("有合规警告")
        self.promise_only = QCheckBox("有还款承诺")
        for c in (self.warning_only, self.promise_only):
            c.toggled.connect(lambda _on: self.apply_filter())
        search = QPushButton("筛选")
        search.clicked.connect(self.apply_filter)
        self.filter_count = QLabel("", objectName="muted")
        dates = QHBoxLayout()
        dates.addWidget(QLabel("从"))
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("到"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        who = QHBoxLayout()
        who.addWidget(self.agent_filter, 1)
        who.addWidget(self.case_filter, 1)
        checks = QHBoxLayout()
        checks.addWidget(self.text_filter, 1)
        checks.addWidget(search)
        flags = QHBoxLayout()
        flags.addWidget(self.warning_only)
        flags.addWidget(self.promise_only)
        flags.addStretch(1)
        flags.addWidget(self.filter_count)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(dates)
        ll.addLayout(who)
        ll.addLayout(checks)
        ll.addLayout(flags)
        ll.addWidget(self.table, 1)
        ll.addWidget(refresh, 0, Qt.AlignmentFlag.AlignLeft)

        self.header = QLabel("选择左侧的一次通话", objectName="sectionTitle")
        self.transcript = QTextBrowser()
        self.summary_view = QTextBrowser()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.transcript, "通话记录")
        self.tabs.addTab(self.summary_view, "通话总结")
        self.compliance_view = QTextBrowser()  # the post-call check (assist.ui.post_call_view)
        self.tabs.addTab(self.compliance_view, "合规复查")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("本次通话的备注（自动保存）")
        self.notes.setMaximumHeight(110)
        self.notes.textChanged.connect(self._on_notes_changed)
        self.notes_state = QLabel("", objectName="muted")
        self.export_buttons = {}
        foot = QHBoxLayout()
        foot.addWidget(QLabel("备注", objectName="sectionTitle"))
        foot.addWidget(self.notes_state, 1)
        for fmt, label in (("markdown", "导出报告"), ("json", "导出数据"), ("csv", "导出表格 CSV")):
            b = QPushButton(label)
            b.clicked.connect(lambda _=False, f=fmt: self.export_dialog(f))
            foot.addWidget(b)
            self.export_buttons[fmt] = b
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.header)
        rl.addWidget(self.tabs, 1)
        rl.addLayout(foot)
        rl.addWidget(self.notes)

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        split.setSizes([430, 550])  # the list shows date, duration, playbook, warnings, status
        self.rollup = RollupView(self)
        self.pages = QTabWidget()
        self.pages.addTab(split, "通话")
        self.pages.addTab(self.rollup, "每周汇总")

        def show_rollup(i: int) -> None:
            if i == 1:
                self.rollup.show_rows(weekly_rollup(self.store, self.sessions) if self.store is not None else [])

        self.pages.currentChanged.connect(show_rollup)
        lay = QVBoxLayout(self)
        lay.addWidget(self.notice)
        lay.addWidget(self.pages, 1)

        self._notes_timer = QTimer(self, singleShot=True, interval=NOTES_DEBOUNCE_MS)
        self._notes_timer.timeout.connect(self.save_notes)
        self.sessions: list[dict] = []
        self._set_enabled(False)
        if store is None:
            self.notice.show_problem("store", f"无法打开通话记录库：{error or '未知原因'}",
                                     "检查数据目录（ASSIST_DATA_DIR）是否存在且可读写。")

    def _set_enabled(self, on: bool) -> None:
        self.notes.setEnabled(on)
        for b in self.export_buttons.values():
            b.setEnabled(on)

    # -- list -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.store is None:
            return
        try:
            self.all_sessions = self.store.list_sessions(limit=5000)
            self.sessions = self.current_filter().select(self.store, self.all_sessions)
        except Exception as e:  # a store problem is shown, never a crash
            self.notice.show_problem("store", f"读取通话列表失败：{problem_text(e)}", "稍后点“刷新”重试。")
            return
        self.filter_count.setText(f"{len(self.sessions)} / {len(self.all_sessions)} 次通话")
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.sessions))
        for r, s in enumerate(self.sessions):
            when = datetime.fromtimestamp(s["started_at"]).strftime("%m-%d %H:%M") if s.get("started_at") else "?"
            pid = s.get("playbook_id")
            pb = self.kb.playbooks[pid].title if (self.kb is not None and pid in self.kb.playbooks) else (
                "未识别" if not pid else "其他话术")
            warn = str(s["n_warnings"]) + (f"（严重 {s['n_critical']}）" if s.get("n_critical") else "")
            row = (when, _duration(s), s.get("agent_id") or "—", mask_case_id(s.get("case_id") or "") or "—", pb,
                   warn, STATUS_NAMES.get(s["status"], s["status"]))
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s["id"])
                if c == 5 and s["n_warnings"]:
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(r, c, item)
        self.table.blockSignals(False)
        if self.session_id:
            self._select_row(self.session_id)

    def current_filter(self) -> SessionFilter:
        return SessionFilter(start=self.date_from.date().toPython(), end=self.date_to.date().toPython(),
                             has_warning=self.warning_only.isChecked(), has_promise=self.promise_only.isChecked(),
                             text=self.text_filter.text(), agent=self.agent_filter.text(),
                             case=self.case_filter.text())

    def apply_filter(self) -> None:
        self.refresh()
        if self.pages.currentIndex() == 1 and self.store is not None:
            self.rollup.show_rows(weekly_rollup(self.store, self.sessions))

    def session_ids(self) -> list[str]:
        return [s["id"] for s in self.sessions]

    def _select_row(self, session_id: str) -> None:
        for r, s in enumerate(self.sessions):
            if s["id"] == session_id:
                self.table.blockSignals(True)
                self.table.selectRow(r)
                self.table.blockSignals(False)
                return

    def _on_select(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.open_session(self.sessions[rows[0].row()]["id"])

    # -- one session ------------------------------------------------------------------------------

    def open_session(self, session_id: str) -> bool:
        if self.store is None:
            return False
        self.save_notes()
        try:
            sid = self.store.resolve_id(session_id)
            bundle = self.store.bundle(sid)
            summary = self.store.summary(sid, kb=self.kb)
        except Exception as e:
            self.notice.show_problem("store", f"无法打开这次通话：{problem_text(e)}", "在左侧列表里选择一次通话。")
            return False
        self.notice.dismiss("store")
        self.session_id = sid
        self._select_row(sid)
        s = bundle["session"]
        when = datetime.fromtimestamp(s["started_at"]).strftime("%Y-%m-%d %H:%M") if s.get("started_at") else ""
        self.header.setText(f"{when} · {summary.get('playbook_title') or '未识别话术'}")
        self.transcript.setHtml(self._transcript_html(bundle))
        self.summary_view.setHtml(self._summary_html(summary))
        self.compliance_view.setHtml(post_call_html(self.kb, bundle))
        self._loading = True
        waiting = self._unsaved.get(sid)  # typed earlier, still queued (the store was locked): show that text
        self.notes.setPlainText(waiting if waiting is not None else s.get("notes") or "")
        self._loading = False
        self.notes_state.setText("未保存：记录库暂时写不进去，已暂存，恢复后自动保存" if waiting is not None else "")
        self._set_enabled(True)
        return True

    @staticmethod
    def _transcript_html(bundle: dict) -> str:
        by_utt: defaultdict[object, dict[str, list]] = defaultdict(lambda: {"warnings": [], "faq": [], "lines": []})
        for w in bundle["warnings"]:
            by_utt[w["utterance_id"]]["warnings"].append(w)
        for f in bundle["faq_hits"]:
            if f["shown"]:
                by_utt[f["utterance_id"]]["faq"].append(f)
        for x in bundle["suggestions"]:
            by_utt[x["utterance_id"]]["lines"].append(x)
        out = []
        for u in bundle["utterances"]:
            colour = SPEAKER_COLOURS.get(u["speaker"], "#6e7781")
            t = f"{int(u['start_s']) // 60:02d}:{int(u['start_s']) % 60:02d} " if u.get("start_s") is not None else ""
            out.append(f"<p style='margin:6px 0 0 0'><span style='color:gray'>{t}</span>"
                       f"<b style='color:{colour}'>{SPEAKER_LABELS.get(u['speaker'], u['speaker'])}</b> "
                       f"{_esc(u['text'])}</p>")
            extra = by_utt.get(u["id"])
            if not extra:
                continue
            for w in extra["warnings"]:
                ack = "已确认" if w.get("acknowledged") else "未确认"
                out.append(f"<p style='margin:0 0 0 24px;color:#cf222e'>⚠ <b>{_esc(w['title'])}</b>"
                           f"（{_esc(SEVERITY_NAMES.get(w['severity'], '提醒'))}，{ack}）：“{_esc(w['said'])}” → {_esc(w['message'])}</p>")
            for f in extra["faq"]:
                out.append(f"<p style='margin:0 0 0 24px;color:#0969da'>问答：{_esc(f['question'])} → "
                           f"{_esc(f['answer'])}</p>")
            for x in extra["lines"]:
                out.append(f"<p style='margin:0 0 0 24px;color:#1a7f37'>提示话术（第 {x['stage_index']} 阶段）："
                           f"{_esc(x['text'])}</p>")
        return "".join(out) or "<p>这次通话没有记录到语音。</p>"

    @staticmethod
    def _summary_html(sm: dict) -> str:
        rows = [f"<h3>通话总结</h3><p>状态：{_esc(STATUS_NAMES.get(str(sm.get('status')), sm.get('status')))}"
                f" · 时长 {int(sm.get('duration_s') or 0) // 60} 分 {int(sm.get('duration_s') or 0) % 60} 秒</p>"]
        st = sm.get("stages") or {}
        covered = "、".join(f"{s['index']}. {s['title']}" for s in st.get("covered") or []) or "无"
        rows.append(f"<p><b>已覆盖阶段：</b>{_esc(covered)}</p>")
        if st.get("missed") is not None:
            missed = "、".join(f"{s['index']}. {s['title']}" for s in st["missed"]) or "无"
            rows.append(f"<p><b>遗漏阶段：</b>{_esc(missed)}</p>")
        w = sm.get("warnings") or {}
        rows.append(f"<p><b>合规警告：</b>{w.get('total', 0)} 条（未确认 {w.get('unacknowledged', 0)}）</p>")
        for r in w.get("rules") or []:
            title = r.get("title") or r.get("rule_id") if isinstance(r, dict) else r
            rows.append(f"<p style='margin-left:16px;color:#cf222e'>• {_esc(title)}</p>")
        concerns = sm.get("concerns") or []
        if concerns:
            rows.append("<p><b>客户关心：</b>" + "；".join(_esc(c) for c in concerns) + "</p>")
        promises = sm.get("promises") or []
        for p in promises:
            amount = f"{p['amount']:.0f} 元" if p.get("amount") else (p.get("amount_text") or "")
            due = p.get("due") or p.get("due_text") or "未说明时间"
            rows.append(f"<p><b>还款承诺：</b>{_esc(amount)}，{_esc(due)}（“{_esc(p.get('text'))}”）</p>")
        if not promises:
            rows.append("<p><b>还款承诺：</b>无</p>")
        return "".join(rows)

    # -- notes and export -------------------------------------------------------------------------

    def _on_notes_changed(self) -> None:
        if self._loading or self.session_id is None:
            return
        self.notes_state.setText("编辑中…")
        self._notes_timer.start()

    def _writer(self):
        if self.recorder is not None:
            return self.recorder
        if self._own_recorder is None:
            from assist.store import SessionRecorder

            self._own_recorder = SessionRecorder(self.store)
        return self._own_recorder

    def save_notes(self) -> None:
        """Queue the notes on the recorder (GUI thread; returns at once, ``notes_saved`` says how it went)."""
        self._notes_timer.stop()
        if self.store is None or self.session_id is None or self.notes_state.text() != "编辑中…":
            return
        sid, text = self.session_id, self.notes.toPlainText()
        self._unsaved[sid] = text
        self.notes_state.setText("保存中…")
        queued = self._writer().save_notes(sid, text, on_done=lambda ok, why: self.notes_saved.emit(sid, ok, why))
        if not queued:
            self.notes_state.setText("未保存：记录库已关闭，请重新打开通话回顾后再写备注")

    def _on_notes_saved(self, sid: str, ok: bool, why: str) -> None:
        if ok and sid in self._unsaved:
            del self._unsaved[sid]
        # an older save's answer for this session must not overwrite the state of a newer edit
        if sid != self.session_id or self.notes_state.text() == "编辑中…":
            return
        self.notes_state.setText("已保存 ✓" if ok else f"未保存：{why}")

    def wait_saved(self, timeout: float = 10.0) -> bool:
        """Tests and shutdown: True once every queued note is in the store (blocks the calling thread)."""
        writer = self.recorder or self._own_recorder
        return writer is None or writer.wait_saved(timeout)

    def export_to(self, path: str | Path, fmt: str = "markdown", session_id: str | None = None) -> Path:
        """Write a session (default: the open one) to ``path`` in ``fmt``; returns the path (raises on
        failure). Reads and writes the store: call it on a worker (export_dialog does) or in tests."""
        text = self.store.export(session_id or self.session_id, fmt, kb=self.kb)
        p = Path(path)
        from assist.store.export import write_private

        write_private(p, text)  # a transcript: owner-only (0600), also over an existing file
        return p

    def export_dialog(self, fmt: str) -> None:
        if self.session_id is None:
            return
        suffix = EXPORT_FORMATS[fmt]
        path, _ = QFileDialog.getSaveFileName(self, "导出通话", f"通话记录{suffix}")
        if path:
            self.start_export(path, fmt)

    def start_export(self, path: str | Path, fmt: str) -> None:
        """Export the open session on a worker thread; ``export_done`` brings the outcome back."""
        if self.session_id is None or (self.exporting is not None and self.exporting.is_alive()):
            return
        self.save_notes()
        sid = self.session_id

        def work() -> None:
            self.wait_saved(5.0)  # the notes just queued belong in the export (if the store takes them)
            try:
                out = self.export_to(path, fmt, session_id=sid)
            except Exception as e:  # noqa: BLE001 - whatever it was, the agent is told in Chinese
                self.export_done.emit(False, _export_problem(e))
            else:
                self.export_done.emit(True, str(out))

        for b in self.export_buttons.values():
            b.setEnabled(False)
        self.notes_state.setText("正在导出…")
        self.exporting = threading.Thread(target=work, name="assist-review-export", daemon=True)
        self.exporting.start()

    def _on_export_done(self, ok: bool, what: str) -> None:
        for b in self.export_buttons.values():
            b.setEnabled(self.session_id is not None)
        if ok:
            self.notice.dismiss("export")
            self.notes_state.setText(f"已导出到 {what}")
        else:
            self.notes_state.setText("导出失败")
            self.notice.show_problem("export", f"导出失败：{what}", "按提示处理后再点导出。")

    def closeEvent(self, event) -> None:
        self.save_notes()
        super().closeEvent(event)

    def close_writer(self) -> None:
        """Close the recorder this window made for itself (queued notes go to the store or its journal)."""
        if self._own_recorder is not None:
            self._own_recorder.close()
            self._own_recorder = None


class WeekChart(QWidget):
    """A small bar chart: calls per week (grey) with the warnings among them (red), oldest on the left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple] = []
        self.setMinimumHeight(120)

    def set_rows(self, rows: list[WeekRow]) -> None:
        """All agents together, the last 12 weeks: (monday, calls, warnings), oldest first."""
        weeks: dict = {}
        for r in rows:
            calls, warnings = weeks.get(r.monday, (0, 0))
            weeks[r.monday] = (calls + r.calls, warnings + r.warnings)
        self.rows = [(monday, c, w) for monday, (c, w) in sorted(weeks.items())][-12:]
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt's name)
        if not self.rows:
            return
        p = QPainter(self)
        top = max(max(calls, warnings) for _m, calls, warnings in self.rows) or 1
        w = self.width() / len(self.rows)
        h = self.height() - 18
        for i, (monday, calls, warnings) in enumerate(self.rows):
            x = i * w + 4
            for value, colour, inset in ((calls, "#8a919c", 0), (warnings, "#cf222e", w * 0.25)):
                bh = h * value / top
                p.fillRect(QRectF(x + inset, h - bh, max(2.0, w - 8 - 2 * inset), bh), QColor(colour))
            p.setPen(QColor("#8a919c"))
            p.drawText(QRectF(x, h + 2, w - 8, 16), Qt.AlignmentFlag.AlignCenter, monday.strftime("%m-%d"))
        p.end()


class RollupView(QWidget):
    """Per week: calls, warnings (critical), promises and warnings by rule; a chart; CSV export."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[WeekRow] = []
        self.chart = WeekChart()
        self.chart.setToolTip("灰色：通话数；红色：合规警告数")
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["周", "坐席", "通话", "合规警告（严重）", "还款承诺", "警告按规则"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.export_button = QPushButton("导出汇总表格 CSV")
        self.export_button.clicked.connect(self.export_dialog)
        self.state = QLabel("", objectName="muted")
        foot = QHBoxLayout()
        foot.addWidget(self.state, 1)
        foot.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("按周、按坐席汇总（随左侧筛选条件变化）", objectName="sectionTitle"))
        lay.addWidget(self.chart)
        lay.addWidget(self.table, 1)
        lay.addLayout(foot)

    def show_rows(self, rows: list[WeekRow]) -> None:
        self.rows = rows
        self.chart.set_rows(rows)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            rules = "；".join(f"{t} {n}" for t, n in r.by_rule) or "无"
            for c, text in enumerate((r.week, r.agent or "未设置", str(r.calls), f"{r.warnings}（{r.critical}）",
                                      str(r.promises), rules)):
                self.table.setItem(i, c, QTableWidgetItem(text))
        self.export_button.setEnabled(bool(rows))

    def export_to(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_text(rollup_csv(self.rows), encoding="utf-8")
        return p

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "导出每周汇总", "每周汇总.csv")
        if not path:
            return
        try:
            self.export_to(path)
        except OSError as e:
            self.state.setText(f"导出失败：{problem_text(e)}（换一个可写的位置再试）")
            return
        self.state.setText(f"已导出到 {path}")
