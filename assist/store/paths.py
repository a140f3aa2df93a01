"""Where the session database lives.

``ASSIST_DATA_DIR`` (or an explicit path, e.g. the CLI's ``--db``) wins over the
platform's per-user data folder, so tests and several profiles never touch the
agent's real sessions. Pure functions; any thread.
"""
from __future__ import annotations

import os
from pathlib import Path

DB_FILENAME = "sessions.db"


def data_dir() -> Path:
    """The folder for assist's own data: ``$ASSIST_DATA_DIR`` or platformdirs' user data dir."""
    override = os.environ.get("ASSIST_DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("assist", appauthor=False))


def default_db_path() -> Path:
    """``<data dir>/sessions.db``; the folder may not exist yet (``open_store`` creates it)."""
    return data_dir() / DB_FILENAME
