"""``assist analyze TRANSCRIPT``: run the engine over a JSON Lines transcript.

The output format is a contract (QA teams script it; ../shared/eval scores
it): one JSON record per input line, in order. The whole file is read and
checked before anything is printed, so a malformed line gives an error naming
it (exit 2) and no half output.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime

from assist.cli.common import UsageError, add_kb_option, open_kb
from assist.events import SPEAKERS, AssistResult, Utterance


def register(sub) -> None:
    p = sub.add_parser("analyze", help="用助手引擎分析一份 JSON Lines 通话文字稿，逐行输出 JSON")
    p.add_argument("transcript", help='每行一个 JSON：{"speaker": "agent|customer|unknown", "text": …, "start": 秒, "end": 秒}；用 - 从标准输入读')
    p.add_argument("--playbook", help="话术编号（默认：按通话内容自动判断）")
    p.add_argument("--started-at", metavar="ISO", help="通话开始时间，用于催收时段规则（例如 2026-11-23T21:30）")
    p.add_argument("--post-call", action="store_true",
                   help="改为输出整通电话的通话后合规复查报告（一个 JSON 对象）")
    p.add_argument("--case-id", metavar="案件号", help="债务人的案件号：联系记录显示当天接通次数已达上限时，在第一行给出警告（分析本身不计入次数）")
    p.add_argument("--ledger", metavar="文件", help="联系记录库文件（默认：数据目录下的 ledger.db）")
    add_kb_option(p)
    p.set_defaults(func=cmd_analyze)


def read_transcript(path: str) -> list[Utterance]:
    try:
        if path == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror}") from None
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(rec, dict):
            raise UsageError(f"{where}: each line must be a JSON object")
        speaker = rec.get("speaker", "unknown")
        if speaker not in SPEAKERS:
            raise UsageError(f"{where}: speaker must be one of {', '.join(SPEAKERS)}, not {speaker!r}")
        text = rec.get("text")
        if not isinstance(text, str):
            raise UsageError(f"{where}: missing \"text\" (a string)")
        times = []
        for key in ("start", "end"):
            v = rec.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise UsageError(f"{where}: \"{key}\" must be a number of seconds, not {v!r}")
            times.append(float(v) if v is not None else None)
        final = rec.get("final", True)
        out.append(Utterance(speaker=speaker, text=text, start=times[0], end=times[1],
                             final=bool(final), segment=f"{speaker}-{n}"))
    return out


def result_record(index: int, r: AssistResult) -> dict:
    u = r.utterance
    return {
        "index": index,
        "speaker": u.speaker,
        "text": u.text,
        "faq": [{"id": h.faq_id, "question": h.question, "answer": h.answer, "score": h.score, "shown": h.shown}
                for h in r.faq],
        "stage": None if r.stage is None else {
            "playbook": r.stage.playbook_id, "index": r.stage.index, "id": r.stage.stage_id, "title": r.stage.title},
        "suggestions": [{"text": s.text, "stage_index": s.stage_index, "kind": s.kind} for s in r.suggestions],
        "warnings": [{"rule": w.rule_id, "severity": w.severity, "message": w.message, "span": list(w.span),
                      "source": w.source, "evidence": w.evidence, "found_by": w.found_by} for w in r.warnings],
        "party": None if r.party is None else party_record(r.party, r.party_changed),
    }


def _semantics_or_notice(kb):
    """The KB's sentence vectors, or None with one Chinese notice on stderr (results are then lexical)."""
    from assist.engine.kb_semantics import build_semantics
    from assist.semantics import EncoderUnavailable, load_encoder

    try:
        return build_semantics(kb, load_encoder())
    except EncoderUnavailable as e:
        reason = str(e)
    except Exception as e:  # a broken model must not cost the transcript its analysis
        reason = f"语义模型出错（{type(e).__name__}）"
    print(f"提示：{reason}，本次只按字面匹配（结果照常输出，理解换种说法的能力较弱）。", file=sys.stderr)
    return None
def party_record(p, changed: bool = False) -> dict:
    """Who is on the line, as analyze and the post-call report print it."""
    return {"kind": p.kind, "relation": p.relation, "label": p.label, "source": p.source,
            "evidence": p.evidence, "at_index": p.at_index, "changed": changed}


def cmd_analyze(args) -> int:
    from assist.engine import AssistEngine, UnknownPlaybook

    started = None
    if args.started_at:
        try:
            started = datetime.fromisoformat(args.started_at)
        except ValueError:
            raise UsageError(f"--started-at: not an ISO date-time: {args.started_at!r}") from None
    utterances = read_transcript(args.transcript)
    kb = open_kb(args)
    try:
        # a transcript with customer (or mixed) lines had a channel that carried the answers
        heard = any(u.speaker in ("customer", "unknown") for u in utterances)
        engine = AssistEngine(kb, playbook_id=args.playbook, call_started_at=started, customer_channel=heard)
    except UnknownPlaybook as e:
        raise UsageError(str(e)) from None
    contacts = _contact_status(args, started)
    out = sys.stdout
    semantics = _semantics_or_notice(kb)
    if args.post_call:
        from assist.engine.post_call import post_call_check

        report = post_call_check(kb, utterances, started_at=started, customer_channel=heard,
                                 semantics=semantics).as_dict()
        if contacts is not None:
            report["contacts"] = {"case_id": contacts.case_id, "day": contacts.day.isoformat(),
                                  "connected": contacts.connected, "attempts": contacts.attempts,
                                  "limit": contacts.limit, "reached": contacts.reached, "message": contacts.message}
        out.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        out.flush()
        return 0
    engine.attach_semantics(semantics)
    records = []
    for i, u in enumerate(utterances):
        r = engine.process(u)
        for notice in r.notices:
            print(f"提示：{notice}", file=sys.stderr)
        records.append(result_record(i, r))
    if contacts is not None and contacts.reached and records:
        records[0]["warnings"].insert(0, {"rule": "contact_limit", "severity": "warning", "message": contacts.message,
                                          "span": [0, 0], "source": CONTACT_LIMIT_SOURCE})
    for rec in records:
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()
    return 0


CONTACT_LIMIT_SOURCE = "《金融机构个人消费类贷款催收工作指引（试行）》：同一债务人每日接通的催收电话不超过 3 次"


def _contact_status(args, started):
    """The case's count for the call's day from the contact ledger; None without --case-id."""
    if args.case_id is None:
        return None
    from assist.store.ledger import LedgerError, check_case_id, open_ledger

    try:
        case_id = check_case_id(args.case_id)
        with open_ledger(args.ledger) as ledger:
            return ledger.status(case_id, started.date() if started else None)
    except LedgerError as e:
        raise UsageError(str(e)) from None
