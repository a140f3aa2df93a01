"""The review's 合规复查 tab: the post-call check of one stored call, as HTML.

``post_call_html(kb, bundle)`` runs ``assist.engine.post_call`` over the stored
transcript (well under a second for a long call) and renders who was on the
line, the required disclosures and each finding with its evidence (time and
words). The agent's own settings during the call (F7, stored with the session)
stand over what the transcript suggests, as they did live, and are listed with
where in the call they were made. GUI thread; pure apart from the check itself.
"""
from __future__ import annotations

from datetime import datetime
from html import escape

from assist.engine.post_call import post_call_check
from assist.events import PartyState, Utterance

SEVERITY_NAMES = {"critical": "严重", "warning": "警告", "info": "提示"}
SEVERITY_COLOURS = {"critical": "#cf222e", "warning": "#bc4c00", "info": "#6e7781"}
SPEAKERS = {"agent": "坐席", "customer": "客户", "unknown": "未区分"}


def _when(start) -> str:
    if start is None:
        return ""
    return f"{int(start) // 60:02d}:{int(start) % 60:02d} "


def _label(setting: dict) -> str:
    try:
        return PartyState(setting["kind"], setting.get("relation") or "").label
    except KeyError:  # a kind this version does not know (a newer program wrote it)
        return "身份未确认"


def post_call_html(kb, bundle: dict) -> str:
    if kb is None:
        return "<p>知识库不可用，无法做合规复查。请先修正知识库（assist kb check）。</p>"
    session = bundle.get("session") or {}
    utts = [Utterance(u["speaker"] if u["speaker"] in SPEAKERS else "unknown", u["text"] or "",
                      start=u.get("start_s"), end=u.get("end_s")) for u in bundle.get("utterances") or []]
    started = datetime.fromtimestamp(session["started_at"]) if session.get("started_at") else None
    settings = bundle.get("party_settings") or []
    agent_party = [(int(s["before_line"] or 0), s["kind"], s.get("relation") or "") for s in settings]
    report = post_call_check(kb, utts, started_at=started, agent_party=agent_party,
                             playbook_id=session.get("playbook_id") or None)
    basis = (f"（依据：“{escape(report.party.evidence)}”）" if report.party.evidence
             else "（坐席在通话中设定）" if report.party.source == "agent" else "")
    out = ["<h3>合规复查</h3>", f"<p>通话对象：<b>{escape(report.party.label)}</b>{basis}</p>"]
    if settings:
        steps = "；".join(f"第 {int(s['before_line'] or 0) + 1} 句起设为“{escape(_label(s))}”" for s in settings)
        out.append(f"<p style='color:gray'>坐席的设定（按 F7）：{steps}。复查以坐席的设定为准，直到下一次设定。</p>")
    if len(report.party_history) > 1:
        steps = " → ".join(escape(p.label) for _, p in report.party_history)
        out.append(f"<p style='color:gray'>对方身份的变化：{steps}</p>")
    needed = [d for d in report.disclosures.values() if d["needed"]]
    if needed:
        items = "".join(f"<li>{'✓' if d['made'] else '✗'} {escape(d['label'])}</li>" for d in needed)
        out.append(f"<p><b>必要告知</b></p><ul>{items}</ul>")
    c = report.counts
    out.append(f"<p><b>发现的问题</b>：严重 {c['critical']} · 警告 {c['warning']}</p>")
    if not report.findings:
        out.append("<p>没有发现问题。</p>")
    for f in report.findings:
        colour = SEVERITY_COLOURS.get(f.severity, "#6e7781")
        out.append(f"<p style='margin:8px 0 0 0;color:{colour}'><b>{escape(f.title)}</b>"
                   f"（{SEVERITY_NAMES.get(f.severity, f.severity)}）</p>"
                   f"<p style='margin:0 0 0 16px'>{escape(f.message)}</p>")
        for e in f.evidence:
            out.append(f"<p style='margin:0 0 0 16px;color:gray'>第 {e.index + 1} 句 {_when(e.start)}"
                       f"{SPEAKERS.get(e.speaker, e.speaker)}：“{escape(e.text)}”</p>")
    return "".join(out)
