"""Retiring old store keys after a rekey: ``key list`` shows which files need which key; ``key retire``
first moves the demo store, a journal left by a dead process and a set-aside store to the newest key
(never in clear), keeps a key a damaged file still needs (and says what to do), then drops the keys
no file needs; audited. File key store (ASSIST_KEY_STORE=file), a key folder of this test's own."""
from __future__ import annotations

import subprocess
import sys

import pytest

from assist.cli import main
from assist.store import SessionRecorder, open_store, writes
from assist.store.key_files import fingerprint, key_of
from assist.store.keys import load_keys
from assist.store.spool import Spool, spool_path


@pytest.fixture(autouse=True)
def own_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSIST_KEY_DIR", str(tmp_path / "keys"))  # the suite's shared chain is left alone


def run(capsys, *argv):
    code = main(["sessions", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _call(path, ev, sid, text):
    with open_store(path) as store:
        rec = SessionRecorder(store)
        rec(ev.started(sid))
        rec(ev.final(text))
        rec(ev.ended(sid))
        assert rec.close() == 0
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_old_keys_are_retired_once_no_file_needs_them(db_path, ev, capsys):
    demo = db_path.with_name("demo-sessions.db")
    _call(db_path, ev, "r1", "两天内先还一万")
    _call(demo, ev, "d1", "演示通话")
    # a store set aside earlier (readable), and one with a damaged page, both on the first key
    aside = db_path.with_name("sessions.db.corrupt-20261101T000000Z")
    aside.write_bytes(db_path.read_bytes())
    damaged = db_path.with_name("sessions.db.corrupt-20261102T000000Z")
    data = bytearray(db_path.read_bytes())
    data[4096 * 2:4096 * 3] = b"\x5a" * 4096
    damaged.write_bytes(bytes(data))
    first = load_keys().current
    assert run(capsys, "--db", str(db_path), "rekey", "--yes")[0] == 0
    # a journal left on the first key by an assist that was running during the rekey and then died
    # before it could replay it (notes typed in the panel while the store was locked)
    journal = spool_path(db_path, _dead_pid())
    spool = Spool(journal, first)
    spool.add([writes.notes("r1", "客户说周五还款", "dead-1")])
    spool.close()
    chain = load_keys()
    assert len(chain.keys) == 2 and chain.keys[1] == first
    code, out, _ = run(capsys, "--db", str(db_path), "key", "list")
    assert code == 0
    assert f"密钥 {fingerprint(first)}：旧密钥，仍有文件需要它" in out
    for p in (demo, aside, damaged, journal):
        assert str(p) in out
    assert first not in out and chain.current not in out  # fingerprints only, never a key

    code, out, _ = run(capsys, "--db", str(db_path), "key", "retire")  # no terminal to ask on
    assert code == 2 and len(load_keys().keys) == 2

    code, out, _ = run(capsys, "--db", str(db_path), "key", "retire", "--yes")
    assert code == 1, out  # the damaged file still needs the first key
    assert "没有停用旧密钥" in out and str(damaged) in out and "assist sessions recover" in out
    assert load_keys().keys == chain.keys
    new = chain.current
    for p in (demo, aside):
        assert key_of(p, [new, first]) == new, p
    assert key_of(damaged, [new, first]) == first  # left exactly as it was
    assert not journal.exists()  # moved to the new key, then replayed into the store and removed
    with open_store(db_path) as store:
        assert store.get_notes("r1") == "客户说周五还款"

    damaged.unlink()  # (after recovering what it held)
    code, out, _ = run(capsys, "--db", str(db_path), "key", "retire", "--yes")
    assert code == 0, out
    assert f"停用 1 把旧密钥（指纹 {fingerprint(first)}）" in out and "key export" in out
    assert load_keys().keys == [new]
    code, out, _ = run(capsys, "--db", str(db_path), "key", "list")
    assert "共 1 把" in out and "旧密钥" not in out

    with open_store(db_path) as store:
        actions = [r["action"] for r in store.audit_entries()]
        assert actions[:2] == ["key retire", "key retire"] and "rekey" in actions
    with open_store(demo) as store:
        assert store.utterances("d1")[0]["text"] == "演示通话"
    code, out, _ = run(capsys, "--db", str(db_path), "recover", str(aside))
    assert "救回" in out


def test_nothing_to_retire_with_one_key(db_path, ev, capsys):
    _call(db_path, ev, "r2", "好的")
    code, out, _ = run(capsys, "--db", str(db_path), "key", "retire", "--yes")
    assert code == 0 and "没有可停用的旧密钥" in out
