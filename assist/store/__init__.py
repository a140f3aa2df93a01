"""The call-session store: every call's transcript, suggestions, warnings and notes, in SQLite.

Public API (everything else in this package is private)::

    open_store(path=None, *, mask=None) -> SessionStore
        path None -> $ASSIST_DATA_DIR/sessions.db, else platformdirs user_data_dir("assist")/sessions.db.
        Creates folders, file 0600, WAL, migrates, closes sessions left open by a dead process as
        'interrupted'. A corrupt file is renamed sessions.db.corrupt-<UTC stamp> and a new one
        started: ``store.open_warning`` (str | None) then says so, for the UI/CLI to show.
        mask None -> on unless ASSIST_MASK=0. Raises StoreError if the file cannot be used at all.
    default_db_path() -> Path
    StoreError                      user-facing problem (unknown/ambiguous id, unusable file)
    SessionRecorder(store, on_problem=None)
        Call subscriber: recorder(event) from worker threads; recorder.close() -> unsaved count.
        on_problem(StoreProblem) once per outage, StoreProblem(recovered=True) when drained.

SessionStore (thread-safe; reads use a per-thread WAL reader that never blocks the writer;
every ``session_id`` argument may be a unique id prefix):
    list_sessions(limit=50, offset=0) -> list[dict]   newest first, with n_utterances, n_warnings,
                                                      n_critical, has_notes
    count_sessions() -> int;   resolve_id(prefix) -> str
    get_session(id) -> dict    playbook_id, started_at, ended_at, status (open|ended|interrupted),
                               devices, model, kb_version, notes, masked, stages_done
    utterances(id), warnings(id), faq_hits(id), suggestions(id), stage_timeline(id),
    call_events(id) -> list[dict];  bundle(id) -> dict of all of them from one snapshot
    get_notes(id) -> str;  set_notes(id, text)
    acknowledge_warning(warning_row_id, acknowledged=True)
    mark_suggestion_used(session_id, text_or_row_id, used=True) -> rows changed
    mark_faq_used(session_id, faq_id, used=True) -> rows changed
    summary(id, kb=None) -> dict       see assist.store.summary
    export(id, fmt='markdown'|'json'|'csv', unmask=False) -> str
    delete(id);  purge(older_than: timedelta) -> count;  close()
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from assist.lazy_names import lazy_names

if TYPE_CHECKING:
    from assist.store.errors import StoreError
    from assist.store.opening import open_store
    from assist.store.paths import default_db_path, demo_db_path
    from assist.store.recorder import SessionRecorder
    from assist.store.store import SessionStore

__all__ = ["open_store", "SessionStore", "SessionRecorder", "StoreError", "default_db_path", "demo_db_path"]

# The public names load on first use (PEP 562): importing a light part of the package
# (``assist.store.masking`` for the CLI's log filter, ``paths``) must not pull in SQLCipher,
# sqlite-utils, numpy and the summary's date parsing, seconds before the panel can paint.
_HOME = {"StoreError": "errors", "open_store": "opening", "default_db_path": "paths", "demo_db_path": "paths",
         "SessionRecorder": "recorder", "SessionStore": "store"}

__getattr__ = lazy_names(__name__, _HOME)
