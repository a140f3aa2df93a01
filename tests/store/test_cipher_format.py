"""The store's cipher format (connection.CURRENT: 2 KB pages, HMAC-SHA256) and stores made before it
(SQLCipher 4's defaults, as earlier versions wrote them): they still open, are converted at open when
nothing else has them open, lose nothing, and their journals, set-aside copies and salvage still work."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from assist.store import SessionRecorder, driver, open_store
from assist.store.connection import CURRENT, LEGACY, cipher_format, unlock
from assist.store.keys import load_keys, sql_key

from .conftest import raw_connection


def _opens_as(path, fmt) -> bool:
    conn = driver.connect_encrypted(str(path))
    try:
        unlock(conn, load_keys().current, fmt)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except driver.DatabaseError:
        return False
    finally:
        conn.close()


def make_legacy(path) -> None:
    """Rewrite a store the way earlier versions wrote it: the key and SQLCipher's default page layout."""
    key = load_keys().current
    old = path.with_name("legacy-copy.db")
    conn = raw_connection(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute(f"ATTACH DATABASE '{old}' AS old KEY {sql_key(key)}")  # no cipher pragmas: the defaults
    conn.execute("SELECT sqlcipher_export('old')")
    conn.execute(f"PRAGMA old.user_version = {version}")
    conn.execute("DETACH DATABASE old")
    conn.close()
    os.replace(old, path)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.chmod(path, 0o600)
    conn = driver.connect_encrypted(str(path))
    unlock(conn, key, LEGACY)
    assert conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"  # as earlier versions' writer left it
    conn.close()


def _record_call(path, ev, sid="old00001"):
    with open_store(path) as store:
        rec = SessionRecorder(store)
        rec(ev.started(sid))
        rec(ev.final("能不能延期还款", faq=[ev.faq()]))
        rec(ev.final("我是长江分期的客服", speaker="agent", start=3.0))
        rec.save_notes(sid, "客户说周五前还三千")
        rec(ev.ended(sid))
        assert rec.wait_saved()
        rec.close()
        return store.bundle(sid)


def test_a_new_store_uses_the_current_format_and_no_other(db_path, ev):
    _record_call(db_path, ev)
    assert _opens_as(db_path, CURRENT)
    assert not _opens_as(db_path, LEGACY)
    conn = raw_connection(db_path)
    assert cipher_format(conn) == CURRENT
    conn.close()


def test_a_store_in_the_earlier_format_is_converted_at_open_and_keeps_every_row(db_path, ev):
    before = _record_call(db_path, ev)
    make_legacy(db_path)
    assert _opens_as(db_path, LEGACY) and not _opens_as(db_path, CURRENT)
    with open_store(db_path) as store:
        assert store.open_warning is None  # nothing for the agent to do
        assert store.bundle("old00001") == before
        assert store.get_session("old00001")["notes"] == "客户说周五前还三千"
    assert _opens_as(db_path, CURRENT) and not _opens_as(db_path, LEGACY)
    assert (db_path.stat().st_mode & 0o777) == 0o600
    assert not list(db_path.parent.glob("*.converting*"))
    conn = raw_connection(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] > 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


HOLDER = textwrap.dedent("""
    import sys
    from assist.store import driver
    from assist.store.connection import open_keyed
    from assist.store.keys import load_keys
    conn, fmt = open_keyed(lambda: driver.connect_encrypted(sys.argv[1]), load_keys().current)
    conn.execute("SELECT count(*) FROM utterances").fetchone()
    print(fmt.page_size, flush=True)
    sys.stdin.readline()
    conn.close()
""")


def test_a_store_another_program_has_open_stays_in_its_format_until_a_later_open(db_path, ev):
    before = _record_call(db_path, ev)
    make_legacy(db_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == str(LEGACY.page_size)
        with open_store(db_path) as store:  # opens and records as it is: renaming under the holder would lose data
            assert store.bundle("old00001") == before
            rec = SessionRecorder(store)
            rec(ev.started("new00002"))
            rec(ev.final("下周五前还3000元"))
            rec(ev.ended("new00002"))
            assert rec.wait_saved()
            rec.close()
        assert _opens_as(db_path, LEGACY)
    finally:
        holder.communicate("\n", timeout=30)
    with open_store(db_path) as store:
        assert store.bundle("old00001") == before
        assert [u["text"] for u in store.utterances("new00002")] == ["下周五前还3000元"]
    assert _opens_as(db_path, CURRENT)


def test_set_aside_copies_and_salvage_still_read_the_earlier_format(db_path, ev, capsys):
    from assist.cli import main
    from assist.store.key_files import key_of

    before = _record_call(db_path, ev)
    make_legacy(db_path)
    aside = db_path.with_name("sessions.db.corrupt-20261101T000000Z")
    os.replace(db_path, aside)
    assert key_of(aside, load_keys().keys) == load_keys().current
    code = main(["sessions", "--db", str(db_path), "recover", str(aside)])
    out = capsys.readouterr().out
    assert code == 0, out
    with open_store(db_path) as store:
        assert [u["text"] for u in store.utterances("old00001")] == [u["text"] for u in before["utterances"]]


@pytest.mark.parametrize("fmt", [CURRENT, LEGACY])
def test_plain_sqlite_reads_nothing_in_either_format(db_path, ev, fmt):
    import sqlite3

    _record_call(db_path, ev)
    if fmt == LEGACY:
        make_legacy(db_path)
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(str(db_path)).execute("SELECT text FROM utterances").fetchall()
    assert "延期".encode() not in db_path.read_bytes()
