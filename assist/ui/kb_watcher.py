"""Keeps the knowledge base fresh while the app runs, and keeps the last good one on a bad edit.

A team lead edits the YAML files under ``kb/`` while agents have the panel
open. ``KbWatcher`` watches the folder and its files (QFileSystemWatcher),
waits for the edits to settle (editors write a file in several steps), then
reloads with ``load_kb``: success emits ``loaded(kb)``; a ``KBError`` emits
``failed(message)`` and the previous KB stays in use. GUI thread; loading the
KB takes milliseconds, so it is done right here.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from assist.knowledge import KBError, default_kb_dir, load_kb

SETTLE_MS = 300


class KbWatcher(QObject):
    loaded = Signal(object)  # KnowledgeBase
    failed = Signal(str)  # what is wrong, with files and lines

    def __init__(self, kb_dir: str | Path | None = None, parent=None):
        super().__init__(parent)
        self.kb_dir = Path(kb_dir) if kb_dir else default_kb_dir()
        self.kb = None
        self.error: str | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._changed)
        self._watcher.fileChanged.connect(self._changed)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self.reload)

    def reload(self) -> bool:
        """Load the KB now; True if it loaded. Emits ``loaded`` or ``failed``."""
        self._watch()
        try:
            kb = load_kb(self.kb_dir)
        except KBError as e:
            self.error = str(e)
            self.failed.emit(self.error)
            return False
        except OSError as e:
            self.error = f"cannot read the knowledge base at {self.kb_dir}: {e.strerror or e}"
            self.failed.emit(self.error)
            return False
        self.error = None
        self.kb = kb
        self.loaded.emit(kb)
        return True

    def _changed(self, _path: str) -> None:
        self._settle.start()

    def _watch(self) -> None:
        # Editors often replace a file (write new, rename over): re-add everything after each change.
        paths = [self.kb_dir, *self.kb_dir.glob("*/"), *self.kb_dir.glob("*/*.yaml"), *self.kb_dir.glob("*/*.yml")]
        wanted = {str(p) for p in paths if p.exists()}
        have = set(self._watcher.files()) | set(self._watcher.directories())
        missing = sorted(wanted - have)
        if missing:
            self._watcher.addPaths(missing)
