"""The post-call summary, computed from what the store holds for one session.

``build_summary(bundle, kb)`` takes ``SessionStore.bundle(id)`` and the knowledge
base (for the playbook's full stage list; None -> missed stages unknown) and
returns a JSON-ready dict:

    session_id, playbook_id, playbook_title, status, started_at, ended_at (ISO, local),
    duration_s, talk_time_s {speaker: seconds}, utterances {speaker: count},
    stages {covered: [{index, id, title}], missed: [...] | None, timeline: [...], total},
    warnings {total, by_severity {info, warning, critical}, unacknowledged, rules: [...]},
    faqs {shown: [{faq_id, question, times, used}], used: [faq_id...]},
    concerns: [FAQ question matched on customer speech, first-asked first],
    promises: [Promise.as_dict()...]  (see promises.py), suggestions {shown, used},
    audio_gaps, device_problems, notes

Pure (no I/O); any thread.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from datetime import date, datetime

from assist.events import SEVERITIES, SPEAKERS
from assist.store.promises import CUSTOMER_SPEAKERS, extract_promises


def call_duration(started_at: float | None, ended_at: float | None, speech_end_s: float | None) -> float | None:
    """A call's length: wall-clock, but never shorter than its speech (a replay at full speed ends at once)."""
    wall = ended_at - started_at if started_at and ended_at else None
    if wall is None and speech_end_s is None:
        return None
    return max(wall or 0.0, speech_end_s or 0.0)


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts).isoformat(timespec="seconds") if ts else None


def call_date(session: dict) -> date:
    return datetime.fromtimestamp(session["started_at"]).date() if session.get("started_at") else date.today()


def _playbook(kb, playbook_id: str | None):
    if kb is None or not playbook_id:
        return None
    return kb.playbooks.get(playbook_id)


def build_summary(bundle: dict, kb=None) -> dict:
    s = bundle["session"]
    utts = bundle["utterances"]

    talk: dict[str, float] = {sp: 0.0 for sp in SPEAKERS}
    counts: Counter = Counter()
    for u in utts:
        counts[u["speaker"]] += 1
        if u["start_s"] is not None and u["end_s"] is not None and u["end_s"] > u["start_s"]:
            talk[u["speaker"]] = talk.get(u["speaker"], 0.0) + (u["end_s"] - u["start_s"])
    speech_end = max((u["end_s"] or u["start_s"] or 0.0 for u in utts), default=0.0)
    duration = call_duration(s.get("started_at"), s.get("ended_at"), speech_end) or 0.0

    playbook = _playbook(kb, s.get("playbook_id"))
    timeline = [{"index": r["stage_index"], "id": r["stage_id"], "title": r["title"], "at_s": r["at_s"]}
                for r in bundle["stages"]]
    covered_idx = sorted({r["index"] for r in timeline} | set(s.get("stages_done") or []))
    if playbook is not None:
        by_index = {st.index: st for st in playbook.stages}
        covered = [{"index": i, "id": by_index[i].id, "title": by_index[i].title} for i in covered_idx if i in by_index]
        missed = [{"index": st.index, "id": st.id, "title": st.title} for st in playbook.stages
                  if st.index not in covered_idx]
        total = len(playbook.stages)
    else:
        titles = {r["index"]: r for r in timeline}
        covered = [{"index": i, "id": titles.get(i, {}).get("id", ""), "title": titles.get(i, {}).get("title", "")}
                   for i in covered_idx]
        missed, total = None, None

    warns = bundle["warnings"]
    by_sev = {sev: 0 for sev in SEVERITIES}
    rules: OrderedDict[str, dict] = OrderedDict()
    for w in warns:
        by_sev[w["severity"]] = by_sev.get(w["severity"], 0) + 1
        r = rules.setdefault(w["rule_id"], {"rule_id": w["rule_id"], "title": w["title"],
                                            "severity": w["severity"], "count": 0})
        r["count"] += 1

    shown: OrderedDict[str, dict] = OrderedDict()
    concerns: list[str] = []
    for h in bundle["faq_hits"]:
        if not h["shown"]:
            continue
        f = shown.setdefault(h["faq_id"], {"faq_id": h["faq_id"], "question": h["question"], "times": 0,
                                          "used": False})
        f["times"] += 1
        f["used"] = f["used"] or bool(h["used"])
        if h.get("speaker") in CUSTOMER_SPEAKERS and h["question"] not in concerns:
            concerns.append(h["question"])

    promises = extract_promises(utts, call_date(s))
    events = bundle.get("call_events", [])
    return {
        "session_id": s["id"],
        "playbook_id": s.get("playbook_id"),
        "playbook_title": playbook.title if playbook is not None else None,
        "status": s["status"],
        "started_at": _iso(s.get("started_at")),
        "ended_at": _iso(s.get("ended_at")),
        "duration_s": round(duration, 1),
        "talk_time_s": {k: round(v, 1) for k, v in talk.items()},
        "utterances": {sp: counts.get(sp, 0) for sp in talk},
        "stages": {"covered": covered, "missed": missed, "timeline": timeline, "total": total},
        "warnings": {"total": len(warns), "by_severity": by_sev,
                     "unacknowledged": sum(1 for w in warns if not w["acknowledged"]),
                     "rules": list(rules.values())},
        "faqs": {"shown": list(shown.values()), "used": [f["faq_id"] for f in shown.values() if f["used"]]},
        "concerns": concerns,
        "promises": [p.as_dict() for p in promises],
        "suggestions": {"shown": len(bundle["suggestions"]),
                        "used": sum(1 for x in bundle["suggestions"] if x["used"])},
        "audio_gaps": sum(1 for e in events if e["kind"] == "audio_gap"),
        "device_problems": sum(1 for e in events if e["kind"] == "device_problem"),
        "notes": s.get("notes") or "",
    }
