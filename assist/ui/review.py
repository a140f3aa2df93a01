"""Session review: past calls, one call's transcript with what was shown, its summary, notes, export.

Reads the session store (``assist.store.SessionStore``: ``list_sessions``,
``bundle``, ``summary``, ``set_notes``, ``export``). The transcript shows each
final utterance with, right under it, the warnings it raised, the FAQ answers
and script lines shown for it. Notes are editable and saved as the agent types
(debounced). GUI thread only; the store is thread-safe and its reads are quick.
"""
from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
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

from assist.ui.post_call_view import post_call_html
from assist.ui.theme import SPEAKER_LABELS
from assist.ui.warning_banner import NoticeBanner

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


class ReviewWindow(QWidget):
    def __init__(self, store, kb=None, error: str | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("assist · 通话回顾")
        self.resize(980, 640)
        self.store = store
        self.kb = kb
        self.session_id: str | None = None
        self._loading = False

        self.notice = NoticeBanner()
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["日期", "时长", "话术", "警告", "状态"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_select)
        refresh = QPushButton("刷新")
        refresh.clicked.connect(self.refresh)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
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
        for fmt, label in (("markdown", "导出 Markdown"), ("json", "导出 JSON"), ("csv", "导出 CSV")):
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
        lay = QVBoxLayout(self)
        lay.addWidget(self.notice)
        lay.addWidget(split, 1)

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
            self.sessions = self.store.list_sessions(limit=500)
        except Exception as e:  # a store problem is shown, never a crash
            self.notice.show_problem("store", f"读取通话列表失败：{e}", "稍后点“刷新”重试。")
            return
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.sessions))
        for r, s in enumerate(self.sessions):
            when = datetime.fromtimestamp(s["started_at"]).strftime("%m-%d %H:%M") if s.get("started_at") else "?"
            pb = s.get("playbook_id") or "未识别"
            if self.kb is not None and pb in self.kb.playbooks:
                pb = self.kb.playbooks[pb].title
            warn = str(s["n_warnings"]) + (f"（严重 {s['n_critical']}）" if s.get("n_critical") else "")
            for c, text in enumerate((when, _duration(s), pb, warn, STATUS_NAMES.get(s["status"], s["status"]))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s["id"])
                if c == 3 and s["n_warnings"]:
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(r, c, item)
        self.table.blockSignals(False)
        if self.session_id:
            self._select_row(self.session_id)

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
            self.notice.show_problem("store", f"无法打开会话 {session_id}：{e}", "在左侧列表里选择一次通话。")
            return False
        self.notice.dismiss("store")
        self.session_id = sid
        self._select_row(sid)
        s = bundle["session"]
        when = datetime.fromtimestamp(s["started_at"]).strftime("%Y-%m-%d %H:%M") if s.get("started_at") else ""
        self.header.setText(f"会话 {sid} · {when} · {summary.get('playbook_title') or s.get('playbook_id') or '自动'}")
        self.transcript.setHtml(self._transcript_html(bundle))
        self.summary_view.setHtml(self._summary_html(summary))
        self.compliance_view.setHtml(post_call_html(self.kb, bundle))
        self._loading = True
        self.notes.setPlainText(s.get("notes") or "")
        self._loading = False
        self.notes_state.setText("")
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
                           f"（{_esc(w['severity'])}，{ack}）：“{_esc(w['said'])}” → {_esc(w['message'])}</p>")
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

    def save_notes(self) -> None:
        self._notes_timer.stop()
        if self.store is None or self.session_id is None or self.notes_state.text() != "编辑中…":
            return
        try:
            self.store.set_notes(self.session_id, self.notes.toPlainText())
        except Exception as e:
            self.notes_state.setText(f"未保存：{e}")
            return
        self.notes_state.setText("已保存 ✓")

    def export_to(self, path: str | Path, fmt: str = "markdown") -> Path:
        """Write the open session to ``path`` in ``fmt``; returns the path (raises on failure)."""
        self.save_notes()
        text = self.store.export(self.session_id, fmt, kb=self.kb)
        p = Path(path)
        from assist.store.export import write_private

        write_private(p, text)  # a transcript: owner-only (0600), also over an existing file
        return p

    def export_dialog(self, fmt: str) -> None:
        if self.session_id is None:
            return
        suffix = EXPORT_FORMATS[fmt]
        path, _ = QFileDialog.getSaveFileName(self, "导出通话", f"assist-{self.session_id}{suffix}")
        if not path:
            return
        try:
            self.export_to(path, fmt)
        except (OSError, sqlite3.Error, Exception) as e:
            self.notice.show_problem("export", f"导出失败：{e}", "换一个可写的位置再试。")
            return
        self.notes_state.setText(f"已导出到 {path}")

    def closeEvent(self, event) -> None:
        self.save_notes()
        super().closeEvent(event)
