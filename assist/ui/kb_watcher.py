"""Loads the knowledge base off the GUI thread, keeps it fresh, and keeps the last good one.

The panel must paint at once, also with 10 000 FAQs: ``KbWatcher.reload()``
only starts a worker thread and returns. The worker parses the KB (or takes it
from the on-disk cache when the files are unchanged, ``knowledge/kb_cache``),
then builds the matching indexes once (``assist.assembly.make_engine``, cached
by ``engine/index_cache``) so that the first call starts without building
anything. ``progress(text)`` reports the steps; ``loaded(kb)`` or
``failed(message)`` arrive on the GUI thread, where the KB is swapped in one
assignment: a call already running keeps the engine it started with.

A team lead edits the YAML files while agents have the panel open: the folder
and its files are watched (QFileSystemWatcher), edits settle for ``SETTLE_MS``,
then the KB reloads in the background. A broken edit emits ``failed`` and the
previous KB stays; a KB broken when the panel opens is replaced by the last one
that loaded cleanly from the same folder in an earlier run (if any), and
``failed`` says so (``using_last_good``). If several reloads overlap, only the
newest result is used.
Threads: construction, signals and slots on the GUI thread; ``_work`` on a worker.
"""
from __future__ import annotations

import gc
import logging
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from assist.config import choose_kb

log = logging.getLogger(__name__)
SETTLE_MS = 300
CHILD_FROM_BYTES = 1_000_000  # YAML above this is compiled in a child process (the shipped KB: ~0.15 MB)


class KbWatcher(QObject):
    loaded = Signal(object)  # KnowledgeBase, now in use
    failed = Signal(str)  # what is wrong, with files and lines
    progress = Signal(str)  # what the worker is doing, for the panel's status line
    _finished = Signal(int, object, str)  # generation, KnowledgeBase or None, error ("" if none); worker -> GUI

    def __init__(self, kb_dir: str | Path | None = None, parent=None):
        super().__init__(parent)
        self._kb_dir = Path(kb_dir) if kb_dir else None
        self.kb = None
        self.error: str | None = None
        self.using_last_good = False  # the KB in use is an earlier run's: the folder is broken now
        self.loading = False
        self._generation = 0
        self._engine: tuple[object, object] | None = None  # (KB, the engine built to warm its caches)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._changed)
        self._watcher.fileChanged.connect(self._changed)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self.reload)
        self._finished.connect(self._on_finished)

    @property
    def kb_dir(self) -> Path:
        """The folder loaded: as given, else what the settings choose (``knowledge.default_kb_dir``).

        Resolved on first use, not at construction: reading the saved settings needs the YAML
        parser, which the panel's first paint must not wait for.
        """
        if self._kb_dir is None:
            self._kb_dir = choose_kb().path
        return self._kb_dir

    @property
    def settled(self) -> bool:
        """True once a load has finished (with a KB or an error) and none is running."""
        return not self.loading and (self.kb is not None or self.error is not None)

    def reload(self) -> None:
        """Start loading the KB in the background (GUI thread); ``loaded``/``failed`` follow."""
        self._watch()
        self._generation += 1
        self.loading = True
        self.progress.emit("知识库加载中…")
        threading.Thread(target=self._work, args=(self._generation, self.kb is None), daemon=True,
                         name=f"assist-kb-load-{self._generation}").start()

    def _work(self, generation: int, first: bool) -> None:
        """Worker thread: parse (or take from the cache), build the indexes, hand back.

        The cyclic garbage collector is paused meanwhile and what was loaded is then frozen
        (``gc.freeze``): a full collection over the hundreds of thousands of objects of a
        10 000-FAQ index holds the GIL for a quarter of a second, a visible freeze of the
        panel, and these objects live as long as the KB anyway.
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._load(generation, first)
        finally:
            gc.freeze()
            if collecting:
                gc.enable()

    def _load(self, generation: int, first: bool) -> None:
        # imported here, on the worker: the YAML loader and pattern compiler are not needed to paint
        from assist.knowledge import KBError, load_kb

        self._prepare_in_child()
        try:
            kb = load_kb(self.kb_dir)
        except KBError as e:
            kb, error = None, str(e)
        except OSError as e:
            kb, error = None, f"无法读取知识库 {self.kb_dir}：{e.strerror or e}"
        else:
            error = ""
        if kb is None and first:
            from assist.knowledge import kb_cache

            kb = kb_cache.last_good(self.kb_dir)
        if kb is not None:
            if not error:
                self.progress.emit("正在建立索引…")
            try:
                from assist.assembly import make_engine

                # builds and caches the indexes the first call needs; the engine itself can serve
                # that call (``take_engine``: engines hold no reference cycles, so freezing it
                # below does not keep it alive after its call)
                self._engine = (kb, make_engine(kb))
            except Exception:  # a call start will report it properly; loading must not die here
                log.exception("could not prepare the engine for the knowledge base")
        self._finished.emit(generation, kb, error)

    def _prepare_in_child(self) -> None:
        """Worker thread: a KB not in the cache is parsed and compiled by a child process.

        libyaml builds a whole file's nodes in one C call and pickle loads in one too, holding
        the GIL all along: for 10 000 FAQs that froze the panel for seconds although the work
        ran on a worker thread. A child process (``assist kb prepare``) does it with its own
        GIL and leaves the result in the cache, which this process then loads piece by piece.
        If the child fails (a broken KB), ``load_kb`` here reports the problems as usual.
        Only for a large KB (``CHILD_FROM_BYTES`` of YAML): a small one parses here in well
        under the stall budget, and a child costs a second or two of start-up.
        """
        import subprocess

        from assist.knowledge import kb_cache

        try:
            if not self.kb_dir.is_dir():
                return
            size = sum(p.stat().st_size for p in self.kb_dir.rglob("*.y*ml") if p.is_file())
            if size < CHILD_FROM_BYTES or kb_cache.cached(self.kb_dir):
                return
            frozen = getattr(sys, "frozen", False)  # the desktop bundle: the program is assist itself
            cmd = [sys.executable] if frozen else [sys.executable, "-m", "assist"]
            self.progress.emit("正在编译知识库…")
            subprocess.run([*cmd, "kb", "prepare", "--kb", str(self.kb_dir)], capture_output=True,
                           timeout=600, check=False)
        except (OSError, subprocess.SubprocessError) as e:  # then this thread does it, more slowly
            log.warning("could not prepare the knowledge base in a child process: %s", e)

    def take_engine(self, kb):
        """The engine the worker built on ``kb`` while loading it, once (None if none or another KB).
        GUI thread."""
        if self._engine is None or self._engine[0] is not kb:
            return None
        engine, self._engine = self._engine[1], None
        return engine

    def _on_finished(self, generation: int, kb, error: str) -> None:
        if generation != self._generation:
            return  # a newer reload is running: its result is the one to use
        self.loading = False
        if kb is not None and (not error or self.kb is None):
            self.kb = kb  # one assignment: calls already running keep their engine
            self.using_last_good = bool(error)
            self.loaded.emit(kb)
        if error:
            self.error = error
            self.failed.emit(error)
        else:
            self.error = None
            self.using_last_good = False

    def _changed(self, _path: str) -> None:
        self._settle.start()

    def _watch(self) -> None:
        # Editors often replace a file (write new, rename over): re-add everything after each change.
        paths = [self.kb_dir, *self.kb_dir.glob("*/"), *self.kb_dir.glob("*/*.yaml"), *self.kb_dir.glob("*/*.yml"),
                 *self.kb_dir.glob("*.yaml")]
        wanted = {str(p) for p in paths if p.exists()}
        have = set(self._watcher.files()) | set(self._watcher.directories())
        missing = sorted(wanted - have)
        if missing:
            self._watcher.addPaths(missing)
