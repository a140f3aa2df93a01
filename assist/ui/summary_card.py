"""The end-of-call card: what the agent should see before moving on to the next call.

Shown in the panel when a call ends, from the store's post-call summary
(``SessionStore.summary``): promise to pay, warnings by rule (and how many are
still unacknowledged), the answers and lines the agent used, missed stages and
the notes. The call is already saved line by line; the card is the moment to
check it and finish the notes (they stay editable). Hidden by 完成 or when the
next call starts. GUI thread only.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class SummaryCard(QFrame):
    review_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("card")
        self.setProperty("kind", "faq")
        self.title = QLabel("本次通话小结", objectName="cardTitle")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.done_button = QPushButton("完成")
        self.done_button.clicked.connect(self.hide)
        self.review_button = QPushButton("打开回顾")
        self.review_button.clicked.connect(self.review_requested.emit)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.review_button)
        head.addWidget(self.done_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        lay.addLayout(head)
        lay.addWidget(self.body)
        self.hide()

    def show_summary(self, sm: dict) -> None:
        # imported here, not with the panel: assist.store.export pulls in the store (seconds of
        # imports) that the panel's first paint must not wait for; a call has loaded it by now
        from assist.store.export import promise_line

        lines = []
        secs = int(sm.get("duration_s") or 0)
        lines.append(f"时长 {secs // 60} 分 {secs % 60} 秒")
        promises = sm.get("promises") or []
        lines.append("还款承诺：" + ("；".join(promise_line(p) for p in promises) if promises else "无"))
        w = sm.get("warnings") or {}
        rules = [r["title"] for r in (w.get("rules") or []) if isinstance(r, dict) and r.get("title")]
        if w.get("total"):
            unack = w.get("unacknowledged") or 0
            lines.append(f"合规警告 {w['total']} 条" + (f"（{unack} 条未确认）" if unack else "") +
                         ("：" + "、".join(rules) if rules else ""))
        else:
            lines.append("合规警告：无")
        used = [f["question"] for f in (sm.get("faqs") or {}).get("shown", []) if f.get("used")]
        n_lines = (sm.get("suggestions") or {}).get("used", 0)
        lines.append("采用的答案：" + ("；".join(used) if used else "无") + f" · 采用话术 {n_lines} 句")
        missed = (sm.get("stages") or {}).get("missed")
        if missed:
            lines.append("遗漏阶段：" + "、".join(f"{s['index']}. {s['title']}" for s in missed))
        notes = (sm.get("notes") or "").strip()
        lines.append("备注：" + (notes if len(notes) <= 60 else notes[:60] + "…") if notes else "备注：未填写（下方仍可补写）")
        self.body.setText("\n".join(lines))
        self.show()
