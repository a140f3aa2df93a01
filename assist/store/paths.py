"""Where the session database lives.

``ASSIST_DATA_DIR`` (or an explicit path, e.g. the CLI's ``--db``) wins over the
platform's per-user data folder, so tests and several profiles never touch the
agent's real sessions. Pure functions; any thread.
"""
from __future__ import annotations

from pathlib import Path

from assist import config

DB_FILENAME = "sessions.db"
# demo and training calls (``assist demo``, the panel's demo mode) go here, never among real calls
DEMO_FILENAME = "demo-sessions.db"


def data_dir() -> Path:
    """The folder for assist's own data (``assist.config.data_dir``)."""
    return config.data_dir()


def default_db_path() -> Path:
    """``<data dir>/sessions.db``; the folder may not exist yet (``open_store`` creates it)."""
    return data_dir() / DB_FILENAME


def demo_db_path() -> Path:
    """``<data dir>/demo-sessions.db``: the demo store, kept apart from the agent's real calls."""
    return data_dir() / DEMO_FILENAME
