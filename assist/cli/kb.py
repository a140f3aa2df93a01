"""``assist kb list|search|check``: look at and check the knowledge base."""
from __future__ import annotations

import json
from typing import Any

from assist.cli.common import UsageError, add_kb_option, open_kb

KIND_NAMES = {"faq": "问答", "rule": "合规规则", "line": "话术"}
from assist.printable import printable


def register(sub) -> None:
    p = sub.add_parser("kb", help="列出、搜索或检查知识库")
    ksub = p.add_subparsers(dest="kb_command", metavar="操作", required=True)
    ls = ksub.add_parser("list", help="话术及其阶段、问答和规则数量")
    ls.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
    add_kb_option(ls)
    ls.set_defaults(func=cmd_list)
    se = ksub.add_parser("search", help="按汉字、拼音或拼音首字母搜索（如 huankuan、征xin、zq）")
    se.add_argument("query", metavar="查询词", help="汉字、拼音、拼音首字母，或混写（如 征xin）")
    se.add_argument("--playbook", metavar="话术编号", help="只看这个话术的条目")
    se.add_argument("--tag", metavar="标签", help="只看带这个标签的条目")
    se.add_argument("--limit", type=int, default=10, metavar="条数", help="最多显示多少条（默认 10）")
    se.add_argument("--json", action="store_true", help="输出机器可读的 JSON")
    add_kb_option(se)
    se.set_defaults(func=cmd_search)
    ch = ksub.add_parser("check", help="列出知识库文件里的全部问题（含文件和行号）")
    add_kb_option(ch)
    ch.set_defaults(func=cmd_check)
    pr = ksub.add_parser("prepare", help="预先读取知识库并建立匹配索引，存入缓存（面板会在后台自动做；安装后运行可加快首次启动）")
    add_kb_option(pr)
    pr.set_defaults(func=cmd_prepare)


def cmd_list(args) -> int:
    kb = open_kb(args)
    data: dict[str, Any] = {
        "playbooks": [
            {"id": pb.id, "title": pb.title,
             "stages": [{"index": s.index, "title": s.title} for s in pb.stages]}
            for pb in kb.playbooks.values()
        ],
        "faqs": len(kb.faqs),
        "rules": len(kb.rules),
    }
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    for pb in data["playbooks"]:
        print(printable(f"{pb['id']}  {pb['title']}"))  # KB text: no escape codes to the terminal
        for s in pb["stages"]:
            print(printable(f"   {s['index']}. {s['title']}"))
    print(f"问答 {data['faqs']} 条，合规规则 {data['rules']} 条（版本 {kb.version}）")
    return 0


def cmd_search(args) -> int:
    from assist.knowledge.search import KbSearch

    kb = open_kb(args)
    if args.playbook and args.playbook not in kb.playbooks:
        raise UsageError(f"没有话术“{args.playbook}”；现有：{'、'.join(sorted(kb.playbooks))}")
    hits = KbSearch(kb).search(args.query, playbook=args.playbook, tag=args.tag, limit=args.limit)
    if args.json:
        print(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, default=list))
        return 0
    if not hits:
        print(printable(f"没有找到“{args.query}”。试试拼音（如 huankuan）或拼音首字母（如 hk）。"))
        return 1
    for h in hits:
        print(printable(f"【{KIND_NAMES.get(h.kind, '条目')}】{h.title}\n        {h.text}"))
    return 0


def cmd_check(args) -> int:
    from assist.knowledge import collect_issues

    kb, issues = collect_issues(getattr(args, "kb", None))
    problems = [str(i) for i in issues]
    semantics = None
    if kb is not None and not issues:
        semantics = _semantics(kb)
        problems += [str(f) for f in _audit(kb, semantics)]
    for p in problems:
        print(printable(p))  # KB text: no escape codes to the terminal
    if semantics is not None:
        _print_confusable_faqs(kb, semantics)
    if problems or kb is None:
        print(f"共 {len(problems)} 个问题")
        return 1
    print(f"没有问题：话术 {len(kb.playbooks)} 套，问答 {len(kb.faqs)} 条，规则 {len(kb.rules)} 条")
    return 0


def _semantics(kb):
    """The KB's sentence vectors (cached on disk), or None with one notice: checks by wording only.

    One way for every caller (``assembly.build_kb_semantics``): no encoder and a broken model
    alike leave ``kb check`` checking the KB by its patterns. A lead checking their edits wants
    the verdict on the KB, not the model's error in its place; the notice says what was skipped.
    """
    import sys

    from assist.assembly import build_kb_semantics

    semantics, why = build_kb_semantics(kb)
    if semantics is None:
        print(f"提示：{why}，本次只按规则的匹配条件检查示例和话术，并跳过易混淆问答的检查。", file=sys.stderr)
    return semantics


def _audit(kb, semantics):
    """Rule examples and suggestions against the rules, by example too when there are vectors."""
    from assist.engine.compliance_audit import audit_kb

    return audit_kb(kb, semantics.kb_encoder if semantics is not None else None)


def _print_confusable_faqs(kb, semantics) -> None:
    """Leave-one-out over FAQ phrasings by meaning: warnings only (the exit code is for errors)."""
    from assist.engine.kb_confusion import confusable_faqs

    warnings = confusable_faqs(kb, semantics)
    for w in warnings:
        print(w)
    if warnings:
        print(f"{len(warnings)} 条警告：以上说法可能让客户看到别的问答卡片（可改写说法，或把它移到更合适的问答下）")


def cmd_prepare(args) -> int:
    """Fill the caches (parsed KB, compiled indexes) so the next start loads without building."""
    from assist.assembly import make_engine

    kb = open_kb(args)  # a broken KB is a UsageError naming every file and line
    make_engine(kb)
    print(f"已缓存：话术 {len(kb.playbooks)} 套，问答 {len(kb.faqs)} 条，规则 {len(kb.rules)} 条")
    return 0
