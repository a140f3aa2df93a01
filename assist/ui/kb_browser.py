"""The knowledge-base browser: search as you type, filter, read a card, copy the answer.

Between calls the agent looks things up by hand: characters, pinyin with every
reading of a polyphone (``huankuan``, ``yinhang``), initials (``hk``) or mixed
(``征xin``), over questions, paraphrases, answers, script lines and compliance
rules with their examples, through ``assist.knowledge.search.KbSearch``. Every
hit is listed (no cap): the list is a ``QListView`` over ``HitModel``, which
only renders the rows on screen. Cards show document titles as sources, never
ids or editor's notes. The browser follows a ``KbWatcher``: when the KB files
change it re-runs the search on the new KB; when an edit breaks them it shows
a banner and keeps the last good KB. The search index of a (re)loaded KB is built
on a worker thread (seconds for 10 000 FAQs) and swapped in on the GUI thread; the
search itself runs on the GUI thread, on every keystroke: it costs a few
milliseconds, less than handing each query to a worker and back would add.
Threads: widgets, search and slots on the GUI thread; ``_build_index`` on a worker.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assist.knowledge.model import KnowledgeBase
from assist.knowledge.search import KbSearch, SearchHit
from assist.ui.kb_watcher import KbWatcher
from assist.ui.warning_banner import SEVERITY_NAMES, NoticeBanner

log = logging.getLogger(__name__)

# Searching is a few set lookups (well under the keystroke budget), so the list follows every keystroke;
# the short delay only merges the bursts of an input method committing several characters at once.
SEARCH_DELAY_MS = 15
KIND_NAMES = {"faq": "问答", "rule": "合规规则", "line": "话术"}
KIND_FILTERS = (("", "全部类型"), ("faq", "问答"), ("rule", "合规规则"), ("line", "话术"))
PREVIEW_CHARS = 60


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


class HitModel(QAbstractListModel):
    """The ranked hits as a list model: the view asks only for the rows it paints."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.hits: Sequence[SearchHit] = []

    def set_hits(self, hits: Sequence[SearchHit]) -> None:
        self.beginResetModel()
        self.hits = hits
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt's name)
        return 0 if parent.isValid() else len(self.hits)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.hits)):
            return None
        h = self.hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            preview = h.text.replace("\n", " ")
            if len(preview) > PREVIEW_CHARS:
                preview = preview[:PREVIEW_CHARS] + "…"
            return f"【{KIND_NAMES.get(h.kind, '条目')}】{h.title}\n{preview}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return h.text
        return None


class KbBrowser(QWidget):
    ready = Signal()  # a KB's index is in use (GUI thread)
    _index_built = Signal(int, object, object)  # generation, KnowledgeBase, KbSearch or None; worker -> GUI

    def __init__(self, kb_dir: str | Path | None = None, watcher: KbWatcher | None = None, parent=None):
        super().__init__(parent)
        self._generation = 0
        self.indexing = False
        self._faqs: dict = {}
        self._rules: dict = {}
        self._shown: tuple[str, str] | None = None  # (kind, id) of the card on screen
        self._index_built.connect(self._indexed)
        self.setWindowTitle("知识库 · 坐席助手")
        self.resize(860, 560)
        self.watcher = watcher or KbWatcher(kb_dir, self)
        self.kb: KnowledgeBase | None = None
        self.searcher: KbSearch | None = None

        self.notice = NoticeBanner()
        self.query = QLineEdit()
        self.query.setPlaceholderText("搜索：汉字、拼音或拼音首字母（如 huankuan、征xin）")
        self.query.setClearButtonEnabled(True)
        self.kind_box = QComboBox()
        for data, text in KIND_FILTERS:
            self.kind_box.addItem(text, data)
        self.playbook_box = QComboBox()
        self.tag_box = QComboBox()
        self.count = QLabel(objectName="muted")
        filters = QHBoxLayout()
        filters.addWidget(self.query, 3)
        filters.addWidget(self.kind_box, 1)
        filters.addWidget(self.playbook_box, 1)
        filters.addWidget(self.tag_box, 1)

        self.model = HitModel(self)
        self.results = QListView()
        self.results.setModel(self.model)
        self.results.setWordWrap(True)
        self.results.setUniformItemSizes(True)  # rows are two lines: lets the view skip measuring them all
        # Lay the rows out a screenful at a time between events, not all thousands before the first paint.
        self.results.setLayoutMode(QListView.LayoutMode.Batched)
        self.results.setBatchSize(50)
        self.results.setAlternatingRowColors(True)
        self.card = QTextBrowser()
        self.card.setOpenLinks(False)
        self.copy_button = QPushButton("复制答案")
        self.copy_button.setToolTip("复制选中条目的答案或话术（Ctrl+Shift+C）")
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
        self.query.returnPressed.connect(self.run_search)
        for box in (self.kind_box, self.playbook_box, self.tag_box):
            box.currentIndexChanged.connect(lambda _i: self.run_search())
        self.results.selectionModel().currentRowChanged.connect(lambda cur, _prev: self.show_hit(cur.row()))
        sc = QShortcut(QKeySequence("Ctrl+Shift+C"), self)
        sc.activated.connect(self.copy_answer)
        focus = QShortcut(QKeySequence("Ctrl+F"), self)

        def focus_query() -> None:
            self.query.setFocus()
            self.query.selectAll()

        focus.activated.connect(focus_query)

        self.watcher.loaded.connect(self.set_kb)
        self.watcher.failed.connect(self.show_kb_error)
        if self.watcher.kb is not None:
            self.set_kb(self.watcher.kb)
        if self.watcher.error:
            self.show_kb_error(self.watcher.error)
        if self.watcher.kb is None and self.watcher.error is None:
            self.watcher.reload()

    @property
    def hits(self) -> Sequence[SearchHit]:
        return self.model.hits

    # -- KB ---------------------------------------------------------------------------------------

    def set_kb(self, kb) -> None:
        """A (re)loaded KB: build its search index on a worker, then swap it in (``_indexed``)."""
        self._generation += 1
        self.indexing = True
        if self.searcher is None:
            self.count.setText("正在建立索引…")
        threading.Thread(target=self._build_index, args=(self._generation, kb), daemon=True,
                         name=f"assist-kb-search-index-{self._generation}").start()

    def _build_index(self, generation: int, kb) -> None:
        """Worker thread: index a KB for search (a second or more for 10 000 FAQs; the browser
        keeps answering keys on the index it has meanwhile)."""
        try:
            searcher: KbSearch | None = KbSearch(kb)
        except Exception:  # a KB the loader accepted: a bug here must not kill the worker silently
            log.exception("could not index the knowledge base for search")
            searcher = None
        self._index_built.emit(generation, kb, searcher)

    def _indexed(self, generation: int, kb, searcher: KbSearch | None) -> None:
        """GUI thread: the newest KB's index is ready: use it, keep the query and filters."""
        if generation != self._generation:
            return  # a newer KB is being indexed: its index is the one to show
        self.indexing = False
        if searcher is None:
            self.notice.show_problem("kb", "知识库无法建立搜索索引。", "请重新打开知识库窗口；如果仍然出现，请联系技术支持。")
            return
        self.kb, self.searcher = kb, searcher
        self._faqs = {f.id: f for f in kb.faqs}
        self._rules = {r.id: r for r in kb.rules}
        self._shown = None
        self.notice.dismiss("kb")
        self._fill(self.playbook_box, "全部话术", [(pid, pb.title) for pid, pb in kb.playbooks.items()])
        self._fill(self.tag_box, "全部标签", [(t, t) for t in self.searcher.tags()])
        self.run_search()
        self.ready.emit()

    @property
    def settled(self) -> bool:
        """True when the KB has loaded (or failed) and its index is in use (tests, bench)."""
        return self.watcher.settled and not self.indexing and (self.searcher is not None or self.watcher.kb is None)

    def show_kb_error(self, message: str) -> None:
        kept = "正在显示上次加载成功的知识库。" if self.kb is not None else "没有可显示的知识库。"
        self.notice.show_problem("kb", f"知识库有错误：{message}",
                                 f"{kept}修正文件并保存后会自动重新加载（运行 assist kb check 可列出全部问题）。")

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
        kind = self.kind_box.currentData() or ""
        hits = self.searcher.rank(self.query.text(), playbook=self.playbook_box.currentData() or None,
                                    tag=self.tag_box.currentData() or None,
                                    kinds=(kind,) if kind else ("faq", "rule", "line"))
        self.model.set_hits(hits)
        self.count.setText(f"找到 {len(hits)} 条" if self.query.text().strip() else f"共 {len(hits)} 条")
        if hits:
            with QSignalBlocker(self.results.selectionModel()):  # the card is drawn once, below
                self.results.setCurrentIndex(self.model.index(0))
            self.show_hit(0)
        else:
            self._shown = None
            self.card.setHtml("<p>没有找到。试试拼音（如 huankuan）、首字母（如 hk），或换个说法。</p>")
            self.copy_button.setEnabled(False)

    def titles(self) -> list[str]:
        return [h.title for h in self.hits]

    def current_row(self) -> int:
        return self.results.currentIndex().row()

    def show_hit(self, row: int) -> None:
        if not (0 <= row < len(self.hits)) or self.kb is None:
            return
        h = self.hits[row]
        if (h.kind, h.id) == self._shown:
            return  # typing on often keeps the same first hit: its card is already drawn
        self._shown = (h.kind, h.id)
        self.card.setHtml(self._card_html(h))
        self.copy_button.setText("复制规范说法" if h.kind == "rule" else "复制答案" if h.kind == "faq" else "复制话术")
        self.copy_button.setEnabled(True)

    def _card_html(self, h: SearchHit) -> str:
        parts = [f"<p style='color:gray'>{KIND_NAMES.get(h.kind, '条目')}</p><h3>{_esc(h.title)}</h3>"]
        meta: list[str] = []
        assert self.kb is not None  # show_hit returns early without a KB
        if h.kind == "faq":
            faq = self._faqs.get(h.id)
            parts.append(f"<p style='font-size:large'>{_esc(h.text)}</p>")
            if faq is not None:
                if faq.paraphrases:
                    parts.append("<p><b>客户也会这样问：</b><br>" + "<br>".join(_esc(p) for p in faq.paraphrases) + "</p>")
                if faq.tags:
                    meta.append("标签：" + "、".join(faq.tags))
                titles = [self.kb.playbooks[p].title for p in faq.playbooks if p in self.kb.playbooks]
                meta.append("话术：" + ("、".join(titles) if titles else "所有话术通用"))
                if faq.source:
                    meta.append("来源：" + faq.source)
        elif h.kind == "rule":
            rule = self._rules.get(h.id)
            if rule is not None:
                parts.append(f"<p><b>级别：</b>{_esc(SEVERITY_NAMES.get(rule.severity, '提醒'))}</p>")
                parts.append(f"<p style='font-size:large'><b>应改为：</b>{_esc(rule.message)}</p>")
                if rule.triggers:
                    parts.append("<p><b>会被提醒的说法：</b><br>" + "<br>".join("✗ " + _esc(t) for t in rule.triggers) + "</p>")
                if rule.passes:
                    parts.append("<p><b>不会被提醒的说法：</b><br>" + "<br>".join("✓ " + _esc(t) for t in rule.passes) + "</p>")
                if rule.source:
                    meta.append("来源：" + rule.source)
        else:
            parts.append(f"<p style='font-size:large'>{_esc(h.text)}</p>")
            pid = h.playbooks[0] if h.playbooks else ""
            pb = self.kb.playbooks.get(pid)
            if pb is not None and pb.source:
                meta.append("来源：" + pb.source)
        if meta:
            parts.append("<p style='color:gray'>" + "<br>".join(_esc(m) for m in meta) + "</p>")
        return "".join(parts)

    def copy_answer(self) -> None:
        row = self.current_row()
        if 0 <= row < len(self.hits):
            QApplication.clipboard().setText(self.hits[row].text)
            label = self.copy_button.text()
            self.copy_button.setText("已复制 ✓")
            QTimer.singleShot(1200, self.copy_button, lambda: self.copy_button.setText(label))
