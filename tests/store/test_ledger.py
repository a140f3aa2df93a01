"""The contact ledger on a real SQLite file: counting, limits, the dialer's CSV, the call subscriber."""
import json
import os
import subprocess
import sys
from datetime import date, datetime

import pytest

from assist.events import AssistResult, CallEnded, CallStarted, Utterance
from assist.store.ledger import LedgerError, LedgerRecorder, check_case_id, open_ledger

DAY = date(2026, 11, 23)


def ts(hhmm, day=DAY):
    h, m = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, m).timestamp()


@pytest.fixture
def ledger(tmp_path):
    with open_ledger(tmp_path / "ledger.db") as l:
        yield l


def test_counts_connected_and_attempts_per_case_per_day(ledger):
    ledger.record_call("CJ-1", ts("09:00"), connected=True)
    ledger.record_call("CJ-1", ts("10:00"), connected=False)
    ledger.record_call("CJ-1", ts("11:00"), connected=True)
    ledger.record_call("CJ-2", ts("11:00"), connected=True)
    ledger.record_call("CJ-1", ts("09:00", date(2026, 11, 24)), connected=True)
    s = ledger.status("CJ-1", DAY)
    assert (s.connected, s.attempts, s.reached) == (2, 3, False)
    ledger.record_call("CJ-1", ts("12:00"), connected=True)
    s = ledger.status("CJ-1", DAY)
    assert s.reached and "上限 3 次" in s.message and "2026-11-23" in s.message
    assert ledger.status("CJ-9", DAY).attempts == 0  # a case never called: nothing reached


def test_the_same_call_counts_once(ledger):
    assert ledger.record_call("CJ-1", ts("09:00"), connected=True)
    assert not ledger.record_call("CJ-1", ts("09:00"), connected=True)
    assert ledger.status("CJ-1", DAY).attempts == 1


@pytest.mark.parametrize("bad", ["", "   ", None, "案件 一", "a" * 65, "x;drop"])
def test_missing_or_malformed_case_id_is_a_chinese_message(bad):
    with pytest.raises(LedgerError) as e:
        check_case_id(bad)
    assert "案件号" in str(e.value)


def test_contact_log_bad_rows_are_named_good_rows_kept(ledger, tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("案件号,呼叫时间,是否接通,坐席\n"
                 "CJ-1,2026-11-23 09:10,接通,a01\n"
                 ",2026-11-23 10:00,接通,a01\n"
                 "CJ-1,昨天,接通,a01\n"
                 "\n"
                 "CJ-1,2026-11-23 11:00,也许,a01\n"
                 "CJ-1,2026/11/23 12:00,未接通\n", encoding="utf-8-sig")
    r = ledger.import_contact_log(p)
    assert r.added == 2 and r.duplicates == 0
    assert [m.split("：")[0] for m in r.problems] == ["第 3 行", "第 4 行", "第 6 行"]
    assert "昨天" in r.problems[1] and "也许" in r.problems[2]
    again = ledger.import_contact_log(p)
    assert (again.added, again.duplicates) == (0, 2)
    s = ledger.status("CJ-1", DAY)
    assert (s.connected, s.attempts) == (1, 2)


def test_contact_log_in_gbk_with_english_headers(ledger, tmp_path):
    p = tmp_path / "dialer.csv"
    p.write_bytes("case_id,started_at,result,agent\nCJ-7,2026-11-23T09:00,answered,张三\n".encode("gb18030"))
    assert ledger.import_contact_log(p).added == 1
    assert ledger.rows("CJ-7")[0]["agent"] == "张三"


def test_contact_log_without_the_needed_columns_says_which(ledger, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("编号,时间点\n1,2\n", encoding="utf-8")
    with pytest.raises(LedgerError) as e:
        ledger.import_contact_log(p)
    assert "案件号" in str(e.value) and "呼叫时间" in str(e.value) and "第 1 行" in str(e.value)
    with pytest.raises(LedgerError):
        ledger.import_contact_log(tmp_path / "missing.csv")


def test_export_imports_into_a_colleagues_ledger(ledger, tmp_path):
    ledger.record_call("CJ-1", ts("09:00"), connected=True, agent="a01")
    ledger.record_call("CJ-1", ts("10:00"), connected=False, agent="a01")
    p = tmp_path / "mine.csv"
    p.write_text(ledger.export_csv(), encoding="utf-8")
    with open_ledger(tmp_path / "colleague.db") as other:
        assert other.import_contact_log(p).added == 2
        assert other.status("CJ-1", DAY).connected == 1


def test_recorder_counts_the_call_and_reports_the_day_at_start(ledger):
    seen = []
    rec = LedgerRecorder(ledger, on_status=seen.append, agent="a01")
    for n in range(3):
        start = ts(f"1{n}:00")
        rec(CallStarted("s%d" % n, None, start, case_id="CJ-1"))
        rec(AssistResult(Utterance("customer", "喂")))
        rec(CallEnded("s%d" % n, start + 60))
    rec(CallStarted("s3", None, ts("14:00"), case_id="CJ-1"))
    assert [s.connected for s in seen] == [0, 1, 2, 3] and seen[-1].reached and "上限 3 次" in seen[-1].message
    rec(CallEnded("s3", ts("14:01")))  # nobody answered: an attempt
    s = ledger.status("CJ-1", DAY)
    assert (s.connected, s.attempts) == (3, 4)
    rec(CallStarted("s4", None, ts("15:00")))  # no case id: not counted, nothing reported
    rec(CallEnded("s4", ts("15:01")))
    assert ledger.status("CJ-1", DAY).attempts == 4 and len(seen) == 4


def test_analyze_warns_at_the_first_line_and_post_call_reports_contacts(tmp_path):
    with open_ledger(tmp_path / "l.db") as l:
        for h in ("09:00", "10:00", "11:00"):
            l.record_call("CJ-1", ts(h), connected=True)
    call = tmp_path / "c.jsonl"
    call.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [
        {"speaker": "agent", "text": "您好 请问是王五先生吗"}, {"speaker": "customer", "text": "是我"}]),
        encoding="utf-8")
    env = {**os.environ, "ASSIST_DATA_DIR": str(tmp_path)}
    base = [sys.executable, "-m", "assist", "analyze", str(call), "--ledger", str(tmp_path / "l.db"),
            "--started-at", "2026-11-23T15:00"]
    p = subprocess.run(base + ["--case-id", "CJ-1"], capture_output=True, text=True, env=env)
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert recs[0]["warnings"][0]["rule"] == "contact_limit"
    assert not any(w["rule"] == "contact_limit" for w in recs[1]["warnings"])
    p = subprocess.run(base + ["--case-id", "CJ-1", "--post-call"], capture_output=True, text=True, env=env)
    report = json.loads(p.stdout)
    assert report["contacts"]["reached"] and report["party"]["kind"] == "debtor"
    p = subprocess.run(base + ["--case-id", "坏的 案件号"], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "案件号" in p.stderr and not p.stdout
    # a case the ledger has never seen is not an error: nothing to warn about
    p = subprocess.run(base + ["--case-id", "CJ-NEW"], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and not json.loads(p.stdout.splitlines()[0])["warnings"]


def test_ledger_cli_import_names_bad_rows(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("案件号,呼叫时间,是否接通\nCJ-1,2026-11-23 09:10,接通\nCJ-1,不知道,接通\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "assist", "ledger", "--ledger", str(tmp_path / "l.db"), "import", str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "已导入 1 条" in r.stdout and "第 3 行" in r.stderr


def test_recorder_reads_the_panels_case_id_and_reports_a_bad_one(ledger):
    seen, case = [], ["CJ-5"]
    rec = LedgerRecorder(ledger, on_status=seen.append, case_id=lambda: case[0])
    rec(CallStarted("s1", None, ts("09:00")))
    rec(CallEnded("s1", ts("09:01")))
    assert ledger.status("CJ-5", DAY).attempts == 1 and seen[0].case_id == "CJ5"
    assert "CJ5" not in seen[0].message  # the panel shows the id masked, as its case field does
    case[0] = "坏 号"
    rec(CallStarted("s2", None, ts("10:00")))
    rec(CallEnded("s2", ts("10:01")))
    assert "格式不对" in seen[-1].message and not seen[-1].reached
    assert [r["case_id"] for r in ledger.rows()] == ["CJ5"]


def test_one_case_however_it_is_written(ledger, tmp_path):
    """The panel's field normalises ids (assist.zh.identifiers); the dialer's log keeps its dashes:
    both must land on one case, or the day's limit is never seen."""
    p = tmp_path / "log.csv"
    p.write_text("案件号,呼叫时间,是否接通\nCJ-1,2026-11-23 09:10,接通\ncj 1,2026-11-23 10:10,接通\n", encoding="utf-8")
    assert ledger.import_contact_log(p).added == 2
    rec = LedgerRecorder(ledger, case_id=lambda: "ＣＪ１")  # full-width, as pasted from a Chinese form
    rec(CallStarted("s1", None, ts("11:00")))
    rec(AssistResult(Utterance("customer", "喂")))
    rec(CallEnded("s1", ts("11:05")))
    for written in ("CJ-1", "CJ1", " cj-1 ", "C J 1"):
        assert ledger.status(written, DAY).connected == 3
    assert {r["case_id"] for r in ledger.rows()} == {"CJ1"}


def test_a_version_1_ledger_is_rekeyed_and_keeps_its_counts(tmp_path):
    import sqlite3

    from assist.store import ledger as ledger_mod

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    db = ledger_mod.sqlite_utils.Database(conn)
    ledger_mod.MIGRATIONS[0](db)
    conn.execute("PRAGMA user_version = 1")
    for case, hhmm in (("CJ-1", "09:00"), ("CJ1", "09:00"), ("CJ-1", "10:00"), ("CJ-2", "10:00")):
        at = ts(hhmm)  # "CJ-1" and "CJ1" at 09:00: the same call imported twice under two spellings
        conn.execute("INSERT INTO contacts (case_id, day, at, connected, agent, source, session_id, row_key)"
                     " VALUES (?, ?, ?, 1, '', 'import', '', ?)",
                     (case, DAY.isoformat(), at, ledger_mod._row_key(case, at, True, "")))
    conn.commit()
    conn.close()
    with open_ledger(path) as l:
        assert l.status("CJ-1", DAY).connected == 2 and l.status("CJ2", DAY).connected == 1
        assert {r["case_id"] for r in l.rows()} == {"CJ1", "CJ2"}
