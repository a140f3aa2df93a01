"""Write records: the call's events turned into plain, JSON-ready dicts the store applies.

The recorder builds one record per event on the caller's (recognizer) thread —
cheap dict building, no I/O — and its writer thread hands them to
``SessionStore.apply``. Being plain data, a record can wait in memory, be
spilled to the journal (spool.py) and be replayed by another process later.
Every record carries a ``key`` unique to that write, so a record applied twice
(a journal replayed after a crash mid-replay) is stored once.

``sanitised(record)`` is the fallback for a record the database refuses to bind
(a lone surrogate from a broken decoder, a NUL): every string with such
characters replaced by U+FFFD. Pure functions; any thread.

The panel's own writes (notes, a warning acknowledged, an answer or line marked
used, agent and case id) are records too (``PANEL_OPS``), so they take the same
queue, journal and replay as the call's utterances and the GUI thread never
waits on SQLite. They change rows that may not exist yet (the agent acknowledges
a warning shown on a partial, before its final is stored): the store returns how
many rows they changed, and the recorder retries a record that changed none
after the session's next utterances.
"""
from __future__ import annotations

import json
import re

from assist.events import (
    AssistResult,
    AudioGap,
    CallEnded,
    CallStarted,
    DeviceProblem,
    ListeningResumed,
    PartyChanged,
)

_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def begin(event: CallStarted, key: str, owner_pid: int, kind: str = "live") -> dict:
    return {"op": "begin", "key": key, "session": {
        "id": event.session_id, "playbook_id": event.playbook_id, "started_at": event.started_at,
        "devices": json.dumps(event.devices, ensure_ascii=False, default=str), "model": event.model,
        "kb_version": event.kb_version, "owner_pid": owner_pid, "kind": kind}}


def utterance(session_id: str, result: AssistResult, key: str, *, recorded_at: float, stage_changed: bool,
              new_suggestions=(), stages_done: tuple[int, ...] | None = None,
              playbook_id: str | None = None) -> dict:
    u = result.utterance
    stage = None
    if stage_changed and result.stage is not None:
        s = result.stage
        stage = {"playbook_id": s.playbook_id, "stage_index": s.index, "stage_id": s.stage_id, "title": s.title,
                 "at_s": u.start}
    return {
        "op": "utterance", "key": key, "sid": session_id, "recorded_at": recorded_at,
        "u": {"speaker": u.speaker, "text": u.text, "start_s": u.start, "end_s": u.end,
              "confidence": u.confidence, "segment": u.segment},
        "faq": [{"faq_id": h.faq_id, "question": h.question, "answer": h.answer, "score": h.score,
                 "shown": int(h.shown), "matched": h.matched} for h in result.faq],
        "suggestions": [{"text": s.text, "stage_index": s.stage_index, "kind": s.kind, "line_id": s.line_id}
                        for s in new_suggestions],
        "warnings": [{"rule_id": w.rule_id, "severity": w.severity, "title": w.title, "message": w.message,
                      "source": w.source, "span_start": w.span[0], "span_end": w.span[1], "said": w.said}
                     for w in result.warnings],
        "stage": stage,
        "stages_done": sorted(stages_done) if stages_done is not None else None,
        "playbook_id": playbook_id,
    }


def call_event(session_id: str, event: AudioGap | DeviceProblem | ListeningResumed, key: str, *,
               recorded_at: float) -> dict:
    row: dict[str, object]
    if isinstance(event, ListeningResumed):  # one row per pause, written when it ends
        row = {"kind": "listening_paused", "channel": "", "start_s": event.paused_at, "end_s": event.at,
               "message": "坐席暂停了收音", "fix": "", "recovered": 1}
    elif isinstance(event, AudioGap):
        row = {"kind": "audio_gap", "channel": event.channel, "start_s": event.start, "end_s": event.end,
               "message": event.reason, "fix": "", "recovered": 0}
    else:
        row = {"kind": "device_problem", "channel": event.channel, "start_s": None, "end_s": None,
               "message": event.message, "fix": event.fix, "recovered": int(event.recovered)}
    return {"op": "call_event", "key": key, "sid": session_id, "recorded_at": recorded_at, "row": row}


def party(session_id: str, event: PartyChanged, key: str, *, before_line: int, recorded_at: float) -> dict:
    """The agent's setting of who is on the line, after ``before_line`` stored transcript lines."""
    p = event.party
    return {"op": "party", "key": key, "sid": session_id, "recorded_at": recorded_at,
            "row": {"before_line": before_line, "kind": p.kind, "relation": p.relation, "at_s": event.at_s}}


def end(event: CallEnded, session_id: str, key: str) -> dict:
    return {"op": "end", "key": key, "sid": session_id, "ended_at": event.ended_at,
            "interrupted": bool(event.interrupted)}


PANEL_OPS = frozenset({"notes", "ack", "used", "identity"})


def notes(session_id: str, text: str, key: str) -> dict:
    return {"op": "notes", "key": key, "sid": session_id, "text": text}


def acknowledge(session_id: str, rule_id: str, segment: str, key: str, *, at: float) -> dict:
    """The first unacknowledged warning of ``rule_id`` on the utterance of ``segment``."""
    return {"op": "ack", "key": key, "sid": session_id, "rule_id": rule_id, "segment": segment, "at": at}


def used(session_id: str, kind: str, ref: str, key: str) -> dict:
    """An FAQ answer (``kind`` 'faq', ``ref`` its id) or a script line (``ref`` its text) the agent used."""
    return {"op": "used", "key": key, "sid": session_id, "kind": "faq" if kind == "faq" else "line", "ref": ref}


def identity(session_id: str, agent_id: str | None, case_id: str | None, key: str) -> dict:
    return {"op": "identity", "key": key, "sid": session_id, "agent_id": agent_id, "case_id": case_id}


def needs_sanitising(record) -> bool:
    if isinstance(record, str):
        return bool(_UNSTORABLE.search(record))
    if isinstance(record, dict):
        return any(needs_sanitising(v) for v in record.values())
    if isinstance(record, (list, tuple)):
        return any(needs_sanitising(v) for v in record)
    return False


def sanitised(record):
    """A copy with every lone surrogate and NUL replaced by U+FFFD (keeps lengths, so spans stay valid)."""
    if isinstance(record, str):
        return _UNSTORABLE.sub("\ufffd", record)
    if isinstance(record, dict):
        return {k: sanitised(v) for k, v in record.items()}
    if isinstance(record, list):
        return [sanitised(v) for v in record]
    return record


def describe(record: dict) -> str:
    """A short Chinese description of a record for messages (never its text: it may hold personal data)."""
    names = {"begin": "通话开始", "utterance": "一句话", "call_event": "设备事件", "end": "通话结束",
             "party": "对方身份设定",
             "notes": "通话笔记", "ack": "警示确认", "used": "已采用的提示", "identity": "坐席和案件编号"}
    return names.get(str(record.get("op")), "一条记录")


def to_json(record: dict) -> str:
    # ensure_ascii keeps lone surrogates as \\udxxx escapes: the journal can hold what the DB refused
    return json.dumps(record, ensure_ascii=True, default=str)


def from_json(text: str) -> dict:
    return json.loads(text)
