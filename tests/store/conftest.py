"""Fixtures for the session-store tests: real SQLite files under tmp_path, events built directly."""
from __future__ import annotations

import pytest

from assist.events import (
    AssistResult,
    CallEnded,
    CallStarted,
    ComplianceWarning,
    FaqHit,
    StageState,
    Suggestion,
    Utterance,
)

CALL_T0 = 1795435200.0  # 2026-11-23 (a Monday) around noon UTC: relative dates resolve from here


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Never touch the real user data dir; masking default on unless a test says otherwise."""
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path / "default-data"))
    monkeypatch.delenv("ASSIST_MASK", raising=False)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "sessions.db"


@pytest.fixture
def store(db_path):
    from assist.store import open_store

    s = open_store(db_path)
    yield s
    s.close()


class Events:
    """Builders for the events a Call would publish."""

    T0 = CALL_T0

    @staticmethod
    def started(sid="sess0001", playbook="changjiang_extension", t0=CALL_T0):
        return CallStarted(session_id=sid, playbook_id=playbook, started_at=t0,
                           devices={"agent": "mic"}, model="test-model", kb_version="kbv")

    @staticmethod
    def ended(sid="sess0001", t=CALL_T0 + 120, interrupted=False):
        return CallEnded(session_id=sid, ended_at=t, interrupted=interrupted)

    @staticmethod
    def final(text, speaker="customer", start=0.0, end=None, *, faq=(), stage=None, warnings=(),
              suggestions=(), stages_done=(), playbook="changjiang_extension", final=True):
        utt = Utterance(speaker=speaker, text=text, start=start, end=end if end is not None else start + 2.0,
                        final=final, segment=f"{speaker}-{start}")
        return AssistResult(utterance=utt, faq=tuple(faq), stage=stage, suggestions=tuple(suggestions),
                            warnings=tuple(warnings), stages_done=tuple(stages_done), playbook_id=playbook)

    @staticmethod
    def faq(faq_id="f-extend", question="能不能延期还款", shown=True):
        return FaqHit(faq_id=faq_id, question=question, answer="可以申请展期", score=0.9, shown=shown)

    @staticmethod
    def stage(index, title=None, playbook="changjiang_extension"):
        return StageState(playbook_id=playbook, index=index, stage_id=f"s{index}", title=title or f"阶段{index}")

    @staticmethod
    def warning(text, said, rule="false_criminal_threat", severity="critical"):
        start = text.index(said)
        return ComplianceWarning(rule_id=rule, severity=severity, title="以刑事后果恐吓", message="请说明合法后果",
                                 source="rules", span=(start, start + len(said)), said=said)

    @staticmethod
    def suggestion(text, index=1):
        return Suggestion(text=text, stage_index=index, kind="current_stage")


@pytest.fixture
def ev():
    return Events


def raw_connection(path, timeout=5.0):
    """A connection of our own to a store file (decrypted with the test's key), for looking underneath."""
    from assist.store import driver
    from assist.store.connection import open_keyed
    from assist.store.keys import load_keys

    conn, _fmt = open_keyed(lambda: driver.connect_encrypted(str(path), timeout=timeout, check_same_thread=False),
                            load_keys().current)
    return conn
