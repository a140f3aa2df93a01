"""``assist sessions`` through main([...]) with --db, plus one real subprocess run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from assist.cli import main
from assist.store import SessionRecorder, open_store


@pytest.fixture
def filled_db(db_path, ev):
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        for sid, t0 in (("aa11f001", ev.T0), ("aa22f002", ev.T0 + 3600), ("bb330003", time.time() - 200 * 86400)):
            rec(ev.started(sid, t0=t0))
            threat = "你再不还我们就起诉你"
            rec(ev.final("我手机13812345678", start=1.0, faq=[ev.faq()]))
            rec(ev.final(threat, speaker="agent", start=3.0, warnings=[ev.warning(threat, "起诉你")],
                         stage=ev.stage(1, "身份确认"), stages_done=(1,)))
            rec(ev.final("两天内先还一万", start=6.0))
            rec(ev.ended(sid, t=t0 + 60))
        assert rec.close() == 0
    return db_path


def run(capsys, *argv):
    code = main(["sessions", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list(filled_db, capsys):
    code, out, _ = run(capsys, "--db", str(filled_db), "list")
    assert code == 0
    assert out.index("aa22f002") < out.index("aa11f001") < out.index("bb330003")  # newest first
    assert "严重 1" in out and "共 3 个会话" in out
    code, out, _ = run(capsys, "list", "--db", str(filled_db), "--limit", "1", "--offset", "1")
    assert code == 0 and "aa11f001" in out and "aa22f002" not in out


def test_show_by_unique_prefix(filled_db, capsys):
    code, out, _ = run(capsys, "--db", str(filled_db), "show", "aa1")
    assert code == 0
    assert "通话 aa11f001" in out
    assert "*******5678" in out and "13812345678" not in out
    assert "起诉你" in out and "严重" in out  # the warning inline
    assert out.index("你再不还我们就起诉你") < out.index("⚠") < out.index("两天内先还一万")
    assert "10,000 元" in out and "2026-11-25" in out
    assert "遗漏阶段" in out


@pytest.mark.parametrize("argv, message", [
    (["show", "zz"], "没有编号为 'zz' 的会话"),
    (["show", "aa"], "不唯一"),
    (["export", "nope", "--format", "json"], "没有编号为"),
    (["delete", "aa11f001"], "--yes"),
    (["purge", "--older-than", "90d"], "--yes"),  # no terminal to ask on: refuse, delete nothing
    (["purge", "--older-than", "ninety days"], "90d"),
    (["purge", "--older-than", "99999999999999d"], "太长"),
    (["rekey"], "--yes"),
])
def test_user_errors_exit_2_with_a_message(filled_db, capsys, argv, message):
    code, out, err = run(capsys, "--db", str(filled_db), *argv)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_notes_roundtrip(filled_db, capsys):
    assert run(capsys, "--db", str(filled_db), "notes", "aa11", "客户同意两天内还一万")[0] == 0
    code, out, _ = run(capsys, "--db", str(filled_db), "notes", "aa11")
    assert code == 0 and out.strip() == "客户同意两天内还一万"


def test_export_formats_and_file(filled_db, capsys, tmp_path):
    code, out, _ = run(capsys, "--db", str(filled_db), "export", "aa11", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["session"]["id"] == "aa11f001"
    assert doc["summary"]["promises"][0]["amount"] == 10000
    code, out, _ = run(capsys, "--db", str(filled_db), "export", "aa11", "--format", "csv")
    assert out.splitlines()[0].startswith("\ufeffsession_id,utterance_id") and len(out.splitlines()) == 4
    target = tmp_path / "call.md"
    code, _, err = run(capsys, "--db", str(filled_db), "export", "aa11", "--format", "markdown", "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert code == 0 and text.startswith("# 通话记录 aa11f001") and "## 文字记录" in text
    assert (target.stat().st_mode & 0o777) == 0o600


def test_delete_and_purge(filled_db, capsys):
    code, out, _ = run(capsys, "--db", str(filled_db), "delete", "aa22", "--yes")
    assert code == 0 and "已删除会话 aa22f002" in out
    code, out, _ = run(capsys, "--db", str(filled_db), "purge", "--older-than", "90d", "--yes")
    assert code == 0 and "bb330003" in out and "已删除 1 个" in out
    with open_store(filled_db) as store:
        assert [r["id"] for r in store.list_sessions()] == ["aa11f001"]
        # children went with their sessions
        for table in ("utterances", "warnings", "faq_hits", "stages"):
            left = store.db.execute(f"SELECT DISTINCT session_id FROM {table}").fetchall()
            assert [r[0] for r in left] == ["aa11f001"], table


@pytest.mark.parametrize("argv, declined", [
    (["delete", "aa22"], "未删除"), (["purge", "--older-than", "90d"], "未删除"),
    (["retention", "--apply"], "未执行"), (["rekey"], "未换密钥"),
])
def test_answering_no_does_nothing_and_says_so(filled_db, capsys, monkeypatch, argv, declined):
    monkeypatch.setenv("ASSIST_RETAIN_TRANSCRIPT_DAYS", "100")  # so that retention has something to do
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, _ = run(capsys, "--db", str(filled_db), *argv)
    assert code == 1 and out.rstrip().endswith(declined)
    with open_store(filled_db) as store:
        assert len(store.list_sessions()) == 3 and len(store.utterances("bb330003")) == 3
        assert store.audit_entries() == []


def test_corrupt_db_warns_on_stderr_and_goes_on(db_path, capsys):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite" * 100)
    code, out, err = run(capsys, "--db", str(db_path), "list")
    assert code == 0 and "已原样保留为" in err and "corrupt-" in err and "没有通话记录" in out


def test_default_db_comes_from_assist_data_dir(tmp_path, capsys, monkeypatch, ev):
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path / "profile"))
    with open_store() as store:
        rec = SessionRecorder(store)
        rec(ev.started("prof01"))
        rec.close()
    assert (tmp_path / "profile" / "sessions.db").exists()
    code, out, _ = run(capsys, "list")
    assert code == 0 and "prof01" in out


def test_real_subprocess_show(filled_db):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    p = subprocess.run([sys.executable, "-m", "assist", "sessions", "--db", str(filled_db), "show", "bb3"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "通话 bb330003" in p.stdout and "还款承诺" in p.stdout


def test_purge_lists_what_goes_and_dry_run_deletes_nothing(filled_db, capsys):
    code, out, _ = run(capsys, "--db", str(filled_db), "purge", "--older-than", "90d", "--dry-run")
    assert code == 0 and "bb330003" in out and "试运行" in out
    with open_store(filled_db) as store:
        assert store.count_sessions() == 3
        assert store.audit_entries() == []


def test_export_delete_purge_are_audited_append_only(filled_db, capsys, tmp_path):
    run(capsys, "--db", str(filled_db), "export", "aa11", "-f", "csv", "-o", str(tmp_path / "a.csv"))
    run(capsys, "--db", str(filled_db), "delete", "aa22", "--yes")
    run(capsys, "--db", str(filled_db), "purge", "--older-than", "90d", "--yes")
    code, out, _ = run(capsys, "--db", str(filled_db), "audit")
    assert code == 0
    for word in ("导出", "删除", "清理", "aa11f001", "aa22f002"):
        assert word in out, word
    with open_store(filled_db) as store:
        actions = [r["action"] for r in store.audit_entries()]
        assert actions == ["purge", "delete", "export"]
        assert all(r["who"] and r["at"] for r in store.audit_entries())
        from assist.store import driver

        for sql in ("UPDATE audit SET who='someone else'", "DELETE FROM audit"):
            with pytest.raises(driver.DatabaseError, match="audit rows cannot be"):
                store.db.execute(sql)


def test_csv_export_neutralises_formulas_and_is_private_over_an_existing_file(db_path, ev, capsys, tmp_path):
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("csv01"))
        for i, text in enumerate(["=HYPERLINK(\"http://x\",\"点\")", "+1", "-2+3", "@SUM(A1)", "\t制表", "正常的话"]):
            rec(ev.final(text, start=float(i)))
        assert rec.close() == 0
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    assert run(capsys, "--db", str(db_path), "export", "csv01", "-f", "csv", "-o", str(target))[0] == 0
    assert (target.stat().st_mode & 0o777) == 0o600
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel on a Chinese desktop reads UTF-8
    import csv
    import io

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    texts = [r[5] for r in rows[1:]]
    assert texts == ["'=HYPERLINK(\"http://x\",\"点\")", "'+1", "'-2+3", "'@SUM(A1)", "'\t制表", "正常的话"]
    code, out, _ = run(capsys, "--db", str(db_path), "export", "csv01", "-f", "csv", "--no-bom")
    assert code == 0 and out.startswith("session_id")


def test_recover_salvages_rows_from_a_file_damaged_in_several_places(db_path, ev, capsys):
    long = "客户说我现在手头确实很紧张" * 30
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        for c in range(6):
            rec(ev.started(f"call{c}", t0=ev.T0 + c * 3600))
            for i in range(60):
                rec(ev.final(f"第{c}通第{i}句 {long}", start=float(i)))
            rec(ev.ended(f"call{c}", t=ev.T0 + c * 3600 + 300))
        assert rec.close() == 0
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        total = store.db.execute("SELECT count(*) FROM utterances").fetchone()[0]
    data = bytearray(db_path.read_bytes())
    pages = len(data) // 4096
    assert pages > 40
    for page in (pages // 4, pages // 2, (3 * pages) // 4):  # three pages overwritten in the middle
        data[page * 4096:(page + 1) * 4096] = b"\x5a" * 4096
    db_path.write_bytes(bytes(data))

    code, out, err = run(capsys, "--db", str(db_path), "list")
    assert code == 0 and "assist sessions recover" in err
    code, out, err = run(capsys, "--db", str(db_path), "recover")
    assert "救回" in out and "无法读出" in out, out + err
    with open_store(db_path) as store:
        saved = store.db.execute("SELECT count(*) FROM utterances").fetchone()[0]
        assert total * 0.8 < saved < total  # most rows back, the ones on wrecked pages not
        assert store.count_sessions() >= 5
        assert store.audit_entries()[0]["action"] == "recover"


def test_rekey_and_key_escrow(db_path, ev, capsys, tmp_path, monkeypatch):
    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("k01"))
        rec(ev.final("两天内先还一万"))
        assert rec.close() == 0
    from assist.store.keys import load_keys

    old = load_keys().current
    assert run(capsys, "--db", str(db_path), "rekey", "--yes")[0] == 0
    chain = load_keys()
    assert chain.current != old and old in chain.keys
    with open_store(db_path) as store:
        assert store.utterances("k01")[0]["text"] == "两天内先还一万"
    escrow = tmp_path / "keys.json"
    code, out, _ = run(capsys, "--db", str(db_path), "key", "export", str(escrow))
    assert code == 0 and (escrow.stat().st_mode & 0o777) == 0o600
    # a new machine (empty key folder) cannot read the store until the escrow is imported
    monkeypatch.setenv("ASSIST_KEY_DIR", str(tmp_path / "new-machine"))
    copy = tmp_path / "copy" / "sessions.db"
    copy.parent.mkdir()
    copy.write_bytes(db_path.read_bytes())
    assert run(capsys, "key", "import", str(escrow))[0] == 0
    with open_store(copy) as store:
        assert store.utterances("k01")[0]["text"] == "两天内先还一万"
    with open_store(db_path) as store:
        assert [r["action"] for r in store.audit_entries()] == ["key export", "rekey"]


def test_plain_sqlite_cannot_read_a_transcript(db_path, ev):
    import sqlite3

    with open_store(db_path) as store:
        rec = SessionRecorder(store)
        rec(ev.started("enc01"))
        rec(ev.final("我叫张强 欠款两万元"))
        assert rec.close() == 0
    data = db_path.read_bytes()
    assert b"SQLite format 3" not in data[:16] and "张强".encode() not in data
    conn = sqlite3.connect(str(db_path))
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT text FROM utterances").fetchall()
    conn.close()


def test_plaintext_store_from_an_earlier_version_is_encrypted_in_place_with_a_backup(db_path):
    import sqlite3

    import sqlite_utils

    from assist.store.migrations import migrate

    db_path.parent.mkdir(parents=True)
    db = sqlite_utils.Database(sqlite3.connect(str(db_path)))
    migrate(db, target=2)
    db["sessions"].insert({"id": "plain01", "started_at": 1790000000.0, "status": "ended", "notes": "旧备注"})
    db.conn.close()
    with open_store(db_path) as store:
        assert "加密" in store.open_warning and "plain-backup" in store.open_warning
        assert store.get_session("plain01")["notes"] == "旧备注"
    (backup,) = db_path.parent.glob("sessions.db.plain-backup-*")
    assert (backup.stat().st_mode & 0o777) == 0o600
    assert sqlite3.connect(str(backup)).execute("SELECT notes FROM sessions").fetchone()[0] == "旧备注"
    assert db_path.read_bytes()[:16] != b"SQLite format 3\x00"


def test_retention_dry_run_lists_and_apply_keeps_summaries(filled_db, capsys, monkeypatch):
    monkeypatch.setenv("ASSIST_RETAIN_TRANSCRIPT_DAYS", "100")
    monkeypatch.setenv("ASSIST_RETAIN_SUMMARY_DAYS", "300")
    code, out, _ = run(capsys, "--db", str(filled_db), "retention")
    assert code == 0 and "bb330003" in out and "只保留摘要" in out and "加 --apply" in out
    with open_store(filled_db) as store:
        assert len(store.utterances("bb330003")) == 3
    code, out, _ = run(capsys, "--db", str(filled_db), "retention", "--apply", "--yes")
    assert code == 0
    with open_store(filled_db) as store:
        assert store.utterances("bb330003") == []
        s = store.summary("bb330003")
        assert s["promises"][0]["amount"] == 10000  # the promise outlives the transcript
        assert store.audit_entries()[0]["action"] == "retention"
        assert len(store.utterances("aa11f001")) == 3  # recent calls untouched
    monkeypatch.setenv("ASSIST_RETAIN_SUMMARY_DAYS", "50")
    code, _, err = run(capsys, "--db", str(filled_db), "retention")
    assert code == 2 and "不能短于" in err


def test_sessions_never_rename_or_replace_a_document_given_as_db(tmp_path, capsys):
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"PK\x03\x04" + b"word" * 500)
    before = doc.read_bytes()
    code, _, err = run(capsys, "list", "--db", str(doc))
    assert code == 2 and "不是 assist 的通话记录库" in err and "Traceback" not in err
    assert doc.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["report.docx"]


def test_the_recorder_applies_retention_when_it_starts(filled_db, ev, monkeypatch):
    monkeypatch.setenv("ASSIST_RETAIN_TRANSCRIPT_DAYS", "30")
    monkeypatch.setenv("ASSIST_RETAIN_SUMMARY_DAYS", "100")  # bb330003 is 200 days old: it goes
    with open_store(filled_db) as store:
        rec = SessionRecorder(store)
        rec(ev.started("today01", t0=time.time()))
        assert rec.checked.wait(60)
        assert rec.close() == 0
        ids = {r["id"] for r in store.list_sessions()}
        assert "bb330003" not in ids and "today01" in ids
        assert store.audit_entries()[0]["who"] == "自动（保留策略）"
