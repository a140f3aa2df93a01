"""``assist analyze TRANSCRIPT``: run the engine over a JSON Lines transcript.

The output format is a contract (QA teams script it; ../shared/eval scores
it): one JSON record per input line, in order. The whole file is read and
checked before anything is printed, so a malformed line gives an error naming
it (exit 2) and no half output; the output is UTF-8 whatever the locale. The
input is UTF-8, with or without BOM; GB18030, UTF-16, binary junk, lone
surrogates, deep nesting and out-of-range numbers are named with their line.
"""
from __future__ import annotations

import re

import json
import math
import sys
from datetime import datetime

from assist.cli.common import UsageError, add_kb_option, open_kb
from assist.events import SPEAKERS, AssistResult, Utterance


def register(sub) -> None:
    p = sub.add_parser("analyze", help="用助手引擎分析一份 JSON Lines 通话文字稿，逐行输出 JSON")
    p.add_argument("transcript", metavar="文字稿", help='每行一个 JSON：{"speaker": "agent|customer|unknown", "text": …, "start": 秒, "end": 秒}；用 - 从标准输入读')
    p.add_argument("--playbook", metavar="话术编号", help="话术编号（默认：按通话内容自动判断）")
    p.add_argument("--started-at", metavar="时间", help="通话开始时间，用于催收时段规则（例如 2026-11-23T21:30）")
    p.add_argument("--post-call", action="store_true",
                   help="改为输出整通电话的通话后合规复查报告（一个 JSON 对象）")
    p.add_argument("--party", action="append", default=[], metavar="第几句:身份",
                   help="坐席在通话中设定的通话对象（面板上按 F7），从第几句起生效，可给多次，例如 --party 3:同事；"
                        "身份：本人、第三人、家属、同事、朋友、打错电话、非本人、拒绝确认、未确认")
    p.add_argument("--case-id", metavar="案件号", help="债务人的案件号：联系记录显示当天接通次数已达上限时，在第一行给出警告（分析本身不计入次数）")
    p.add_argument("--ledger", metavar="文件", help="联系记录库文件（默认：数据目录下的 ledger.db）")
    add_kb_option(p)
    p.set_defaults(func=cmd_analyze)


MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024  # a whole working day of calls is a few MB
MAX_NESTING = 64  # a transcript line is a flat object; deeper nesting is junk (and json's recursion limit)


def _read_bytes(path: str) -> bytes:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_TRANSCRIPT_BYTES + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(MAX_TRANSCRIPT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: 找不到这个文件") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: 这是一个文件夹，请给出 JSON Lines 文字记录文件") from None
    except OSError as e:
        raise UsageError(f"{path}: 无法读取（{e.strerror or e}）") from None
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise UsageError(f"{path}: 文件超过 {MAX_TRANSCRIPT_BYTES // 1048576} MB，不像一通电话的文字记录；请按通话拆分")
    return data


def _decode(path: str, data: bytes) -> str:
    """UTF-8 (with or without BOM); anything else is named, with the line, and how to convert it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = e
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(f"{path}: 文件是 UTF-16 编码，不是 UTF-8：请另存为 UTF-8（不带 BOM 也可）")
    if b"\x00" in data[: max(bad.start, 1) + 64]:
        raise UsageError(f"{path}:{line}: 含有二进制内容，不是文字记录（JSON Lines 文本）")
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        raise UsageError(f"{path}:{line}: 不是 UTF-8 文本（第 {bad.start + 1} 个字节无法解码）："
                         "请确认这是 JSON Lines 文字记录并另存为 UTF-8") from None
    raise UsageError(f"{path}:{line}: 文件像是 GB18030/GBK 编码，不是 UTF-8：请另存为 UTF-8，"
                     f"例如 iconv -f GB18030 -t UTF-8 {path} > 新文件.jsonl")


def _depth_ok(line: str) -> bool:
    """Cheap upper bound on JSON nesting without parsing (json.loads would recurse into it)."""
    depth = deepest = 0
    for ch in line:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_NESTING:
                    return False
        elif ch in "]}":
            depth -= 1
    return True


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _seconds(where: str, key: str, v) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise UsageError(f"{where}: \"{key}\" 必须是秒数，不是 {_short(v)}")
    try:
        f = float(v)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f) or not 0 <= f <= 366 * 86400:
        raise UsageError(f"{where}: \"{key}\" 的值 {_short(v)} 不是合理的秒数（0 到一年之间）")
    return f


def _short(v) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


_LINE_END = re.compile(r"\r\n|\r|\n")


# json's English problems, in the words of the person fixing the line
_JSON_PROBLEMS = (
    ("Expecting value", "：这里缺少取值，或有多余的逗号"),
    ("Expecting ',' delimiter", "：这里缺少逗号"),
    ("Expecting ':' delimiter", "：这里缺少冒号"),
    ("Expecting property name", "：字段名要用双引号括起来，或有多余的逗号"),
    ("Unterminated string", "：引号没有闭合"),
    ("Invalid control character", "：文字里有控制字符（如未转义的换行）"),
    ("Invalid \\escape", "：文字里有无效的反斜杠转义"),
    ("Invalid \\uXXXX escape", "：文字里有无效的 \\u 转义"),
    ("Extra data", "：一行里只能有一个 JSON 对象"),
)


def _json_problem(msg: str) -> str:
    return next((zh for en, zh in _JSON_PROBLEMS if msg.startswith(en)), "")


def read_transcript(path: str) -> list[Utterance]:
    """Every utterance of the transcript, or a UsageError naming the first bad line (nothing half done).

    Hostile input is refused with a Chinese message naming the line: another encoding
    (GB18030 is detected and named), binary junk, lone surrogates (\\ud800, which no store
    or terminal can write), nesting deeper than MAX_NESTING, numbers out of range.
    """
    text = _decode(path, _read_bytes(path))
    out = []
    # lines end at \n, \r\n or \r only: str.splitlines would also break inside a text at
    # U+0085, U+2028 and the like, which JSON may carry unescaped
    for n, line in enumerate(_LINE_END.split(text), start=1):
        line = line.lstrip("\ufeff")  # files joined with cat keep each one's BOM
        if not line.strip():
            continue
        where = f"{path}:{n}"
        if "\x00" in line:
            raise UsageError(f"{where}: 含有二进制内容（NUL 字节），不是 JSON 文本")
        if not _depth_ok(line):
            raise UsageError(f"{where}: JSON 嵌套超过 {MAX_NESTING} 层；每行应是一个平的对象"
                             '，如 {"speaker": "agent", "text": "…"}')
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise UsageError(f"{where}: 不是有效的 JSON（第 {e.colno} 列{_json_problem(e.msg)}）：请修正这一行") from None
        except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4,300 digits
            raise UsageError(f"{where}: 无法读取的 JSON 取值（{_short(str(e))}）") from None
        if not isinstance(rec, dict):
            raise UsageError(f"{where}: 每行必须是一个 JSON 对象")
        speaker = rec.get("speaker", "unknown")
        if not isinstance(speaker, str) or speaker not in SPEAKERS:
            raise UsageError(f"{where}: 说话人 \"speaker\" 只能是 {'、'.join(repr(s) for s in SPEAKERS)}，不是 {_short(speaker)}")
        text_ = rec.get("text")
        if not isinstance(text_, str):
            raise UsageError(f"{where}: 缺少文字 \"text\"（应为字符串）")
        if _has_lone_surrogate(text_):
            raise UsageError(f"{where}: \"text\" 含有无效的 Unicode 字符（孤立的代理项，如 \\ud800）；请修正这一行")
        start, end = (_seconds(where, key, rec.get(key)) for key in ("start", "end"))
        final = rec.get("final", True)
        if not isinstance(final, bool):
            raise UsageError(f"{where}: \"final\" 必须是 true 或 false，不是 {_short(final)}")
        out.append(Utterance(speaker=speaker, text=text_, start=start, end=end,  # type: ignore[arg-type]  # checked against SPEAKERS above
                             final=final, segment=f"{speaker}-{n}"))
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
    from assist.assembly import build_kb_semantics

    semantics, reason = build_kb_semantics(kb)
    if semantics is None:
        print(f"提示：{reason}，本次只按字面匹配（结果照常输出，理解换种说法的能力较弱）。", file=sys.stderr)
    return semantics


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
            raise UsageError(f"--started-at {args.started_at!r} 不是日期时间：请写成 '2026-11-23T21:30' 这样的格式") from None
    utterances = read_transcript(args.transcript)
    settings = _party_settings(args.party, len(utterances))
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

        # the store counts a setting by the final lines before it: so does the check
        agent_party = [(sum(1 for u in utterances[:line - 1] if u.final and u.text.strip()), kind, rel)
                       for line, kind, rel in settings]
        report = post_call_check(kb, utterances, started_at=started, customer_channel=heard, agent_party=agent_party,
                                 semantics=semantics, playbook_id=args.playbook).as_dict()
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
        for line, kind, rel in settings:
            if line == i + 1:
                engine.set_party(kind, rel)
        r = engine.process(u)
        for notice in r.notices:
            print(f"提示：{notice}", file=sys.stderr)
        records.append(result_record(i, r))
    if contacts is not None and contacts.reached and records:
        records[0]["warnings"].insert(0, {"rule": "contact_limit", "severity": "warning", "message": contacts.message,
                                          "span": [0, 0], "source": CONTACT_LIMIT_SOURCE})
    # JSON Lines in UTF-8 whatever the terminal's locale: a latin-1 stdout must not fail half way
    out = getattr(sys.stdout, "buffer", None)
    lines = [json.dumps(rec, ensure_ascii=False) + "\n" for rec in records]
    if out is None:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
    else:
        sys.stdout.flush()
        out.write("".join(lines).encode("utf-8"))
        out.flush()
    return 0


def _party_settings(given: list[str], n_lines: int) -> list[tuple[int, str, str]]:
    """``--party 第几句:身份`` as (line from which it holds, kind, relation), in the order given.

    Line n_lines + 1 is allowed: a setting made after the last line still says who was on it.
    """
    from assist.engine.party import SETTING_WORDS, parse_party_setting

    out = []
    for g in given:
        line, sep, name = g.replace("：", ":").partition(":")
        if not sep or not line.strip().isdigit():
            raise UsageError(f"--party {g!r}：应写成“第几句:身份”，例如 --party 3:同事（从第 3 句起对方是同事）")
        n = int(line)
        if not 1 <= n <= n_lines + 1:
            raise UsageError(f"--party {g!r}：文字记录只有 {n_lines} 句，句号应在 1 到 {n_lines + 1} 之间"
                             f"（{n_lines + 1} 表示通话结束后才设定）")
        setting = parse_party_setting(name)
        if setting is None:
            raise UsageError(f"--party {g!r}：不认识身份“{name.strip()}”；可用：{SETTING_WORDS}")
        out.append((n, *setting))
    return out


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
