"""The knowledge-base browser: search as you type, filter, read a card, copy the answer.

Between calls the agent looks things up by hand: characters, pinyin or pinyin
initials (``zq`` finds 展期) over questions, paraphrases, answers and script
lines, through ``assist.knowledge.search.KbSearch``. The browser follows a
``KbWatcher``: when the KB files change it re-runs the search on the new KB;
when an edit breaks them it shows a banner and keeps the last good KB.
GUI thread only.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assist.knowledge.search import KbSearch
from assist.ui.kb_watcher import KbWatcher
from assist.ui.warning_banner import NoticeBanner

SEARCH_DELAY_MS = 120  # coalesce fast typing; each search scans the whole KB
KIND_NAMES = {"faq": "问答", "line": "话术"}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


class KbBrowser(QWidget):
    def __init__(self, kb_dir: str | Path | None = None, watcher: KbWatcher | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("assist · 知识库")
        self.resize(820, 560)
        self.watcher = watcher or KbWatcher(kb_dir, self)
        self.kb = None
        self.searcher: KbSearch | None = None
        self.hits: list = []

        self.notice = NoticeBanner()
        self.query = QLineEdit()
        self.query.setPlaceholderText("搜索：汉字、拼音或首字母（如 zq = 展期）")
        self.query.setClearButtonEnabled(True)
        self.playbook_box = QComboBox()
        self.tag_box = QComboBox()
        self.count = QLabel(objectName="muted")
        filters = QHBoxLayout()
        filters.addWidget(self.query, 3)
        filters.addWidget(self.playbook_box, 1)
        filters.addWidget(self.tag_box, 1)

        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(False)
        self.card = QTextBrowser()
        self.card.setOpenLinks(False)
        self.copy_button = QPushButton("复制答案")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_answer)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.card, 1)
        rl.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignRight)
        split = QSplitter()
        split.addWidget(self.results)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)

        lay = QVBoxLayout(self)
        lay.addWidget(self.notice)
        lay.addLayout(filters)
        lay.addWidget(self.count)
        lay.addWidget(split, 1)

        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        self.playbook_box.currentIndexChanged.connect(lambda _i: self.run_search())
        self.tag_box.currentIndexChanged.connect(lambda _i: self.run_search())
        self.results.currentRowChanged.connect(self.show_hit)

        self.watcher.loaded.connect(self.set_kb)
        self.watcher.failed.connect(self.show_kb_error)
        if self.watcher.kb is not None:
            self.set_kb(self.watcher.kb)
        if self.watcher.error:
            self.show_kb_error(self.watcher.error)
        if self.watcher.kb is None and self.watcher.error is None:
            self.watcher.reload()

    # -- KB ---------------------------------------------------------------------------------------

    def set_kb(self, kb) -> None:
        """A (re)loaded KB: rebuild the index and filters, keep the query and filters."""
        self.kb = kb
        self.searcher = KbSearch(kb)
        self.notice.dismiss("kb")
        self._fill(self.playbook_box, "全部话术", [(pid, pb.title) for pid, pb in kb.playbooks.items()])
        self._fill(self.tag_box, "全部标签", [(t, t) for t in self.searcher.tags()])
        self.run_search()

    def show_kb_error(self, message: str) -> None:
        kept = "正在显示上次加载成功的知识库。" if self.kb is not None else "没有可显示的知识库。"
        self.notice.show_problem("kb", f"知识库有错误：{message}",
                                 f"{kept}修正文件并保存后会自动重新加载（assist kb check 列出全部问题）。")

    @staticmethod
    def _fill(box: QComboBox, all_text: str, items: list[tuple[str, str]]) -> None:
        current = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(all_text, "")
        for data, text in items:
            box.addItem(text, data)
        box.setCurrentIndex(max(box.findData(current), 0))
        box.blockSignals(False)

    # -- search -----------------------------------------------------------------------------------

    def run_search(self) -> None:
        self._timer.stop()
        if self.searcher is None:
            return
        hits = self.searcher.search(self.query.text(), playbook=self.playbook_box.currentData() or None,
                                    tag=self.tag_box.currentData() or None, limit=100)
        self.hits = hits
        self.results.blockSignals(True)
        self.results.clear()
        for h in hits:
            item = QListWidgetItem(f"[{KIND_NAMES.get(h.kind, h.kind)}] {h.title}\n{h.text[:60]}")
            item.setToolTip(h.text)
            self.results.addItem(item)
        self.results.blockSignals(False)
        self.count.setText(f"{len(hits)} 条结果" if self.query.text() else f"共 {len(hits)} 条")
        if hits:
            self.results.setCurrentRow(0)
            self.show_hit(0)
        else:
            self.card.setHtml("<p>没有找到。试试拼音首字母，或换个说法。</p>")
            self.copy_button.setEnabled(False)

    def titles(self) -> list[str]:
        return [h.title for h in self.hits]

    def show_hit(self, row: int) -> None:
        if not (0 <= row < len(self.hits)) or self.kb is None:
            return
        h = self.hits[row]
        parts = [f"<h3>{_esc(h.title)}</h3>"]
        if h.kind == "faq":
            try:
                faq = self.kb.faq(h.id)
            except KeyError:
                faq = None
            parts.append(f"<p style='font-size:large'>{_esc(h.text)}</p>")
            if faq is not None:
                if faq.paraphrases:
                    parts.append("<p><b>客户也会这样问：</b><br>" + "<br>".join(_esc(p) for p in faq.paraphrases) + "</p>")
                meta = []
                if faq.tags:
                    meta.append("标签：" + "、".join(faq.tags))
                if faq.playbooks:
                    meta.append("话术：" + "、".join(self.kb.playbooks[p].title for p in faq.playbooks
                                                    if p in self.kb.playbooks))
                if faq.source:
                    meta.append("来源：" + faq.source)
                parts.append("<p style='color:gray'>" + "<br>".join(_esc(m) for m in meta) + "</p>")
        else:
            parts.append(f"<p style='font-size:large'>{_esc(h.text)}</p>")
        self.card.setHtml("".join(parts))
        self.copy_button.setEnabled(True)

    def copy_answer(self) -> None:
        row = self.results.currentRow()
        if 0 <= row < len(self.hits):
            QApplication.clipboard().setText(self.hits[row].text)
            self.copy_button.setText("已复制 ✓")
            QTimer.singleShot(1200, self.copy_button, lambda: self.copy_button.setText("复制答案"))
