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
    assert "1 critical" in out and "3 of 3 sessions" in out
    code, out, _ = run(capsys, "list", "--db", str(filled_db), "--limit", "1", "--offset", "1")
    assert code == 0 and "aa11f001" in out and "aa22f002" not in out


def test_show_by_unique_prefix(filled_db, capsys):
    code, out, _ = run(capsys, "--db", str(filled_db), "show", "aa1")
    assert code == 0
    assert "Call aa11f001" in out
    assert "*******5678" in out and "13812345678" not in out
    assert "起诉你" in out and "critical" in out  # the warning inline
    assert out.index("你再不还我们就起诉你") < out.index("⚠") < out.index("两天内先还一万")
    assert "10,000 元" in out and "2026-11-25" in out
    assert "Stages missed" in out


@pytest.mark.parametrize("argv, message", [
    (["show", "zz"], "no session with id 'zz'"),
    (["show", "aa"], "ambiguous"),
    (["export", "nope", "--format", "json"], "no session"),
    (["delete", "aa11f001"], "--yes"),
    (["purge", "--older-than", "ninety days"], "90d"),
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
    assert code == 0 and text.startswith("# Call aa11f001") and "## Transcript" in text
    assert (target.stat().st_mode & 0o777) == 0o600


def test_delete_and_purge(filled_db, capsys):
    code, out, _ = run(capsys, "--db", str(filled_db), "delete", "aa22", "--yes")
    assert code == 0 and "deleted session aa22f002" in out
    code, out, _ = run(capsys, "--db", str(filled_db), "purge", "--older-than", "90d")
    assert code == 0 and "purged 1 session" in out
    with open_store(filled_db) as store:
        assert [r["id"] for r in store.list_sessions()] == ["aa11f001"]
        # children went with their sessions
        for table in ("utterances", "warnings", "faq_hits", "stages"):
            left = store.db.execute(f"SELECT DISTINCT session_id FROM {table}").fetchall()
            assert [r[0] for r in left] == ["aa11f001"], table


def test_corrupt_db_warns_on_stderr_and_goes_on(db_path, capsys):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite" * 100)
    code, out, err = run(capsys, "--db", str(db_path), "list")
    assert code == 0 and "已原样保留为" in err and "corrupt-" in err and "no sessions" in out


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
    assert "Call bb330003" in p.stdout and "Promise to pay" in p.stdout
