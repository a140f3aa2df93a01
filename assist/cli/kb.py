"""``assist kb list|search|check``: look at and check the knowledge base."""
from __future__ import annotations

import json

from assist.cli.common import UsageError, add_kb_option, open_kb


def register(sub) -> None:
    p = sub.add_parser("kb", help="list, search or check the knowledge base")
    ksub = p.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    ls = ksub.add_parser("list", help="playbooks and their stages, FAQ and rule counts")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    add_kb_option(ls)
    ls.set_defaults(func=cmd_list)
    se = ksub.add_parser("search", help="search by characters, pinyin or pinyin initials (zhanqi, zq)")
    se.add_argument("query")
    se.add_argument("--playbook")
    se.add_argument("--tag")
    se.add_argument("--limit", type=int, default=10)
    se.add_argument("--json", action="store_true")
    add_kb_option(se)
    se.set_defaults(func=cmd_search)
    ch = ksub.add_parser("check", help="report every problem in the KB files, with file and line")
    add_kb_option(ch)
    ch.set_defaults(func=cmd_check)


def cmd_list(args) -> int:
    kb = open_kb(args)
    data = {
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
        print(f"{pb['id']}  {pb['title']}")
        for s in pb["stages"]:
            print(f"   {s['index']}. {s['title']}")
    print(f"{data['faqs']} FAQs, {data['rules']} compliance rules (version {kb.version})")
    return 0


def cmd_search(args) -> int:
    from assist.knowledge.search import KbSearch

    kb = open_kb(args)
    if args.playbook and args.playbook not in kb.playbooks:
        raise UsageError(f"unknown playbook '{args.playbook}'; known: {', '.join(sorted(kb.playbooks))}")
    hits = KbSearch(kb).search(args.query, playbook=args.playbook, tag=args.tag, limit=args.limit)
    if args.json:
        print(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, default=list))
        return 0
    if not hits:
        print(f"nothing found for {args.query!r}")
        return 1
    for h in hits:
        print(f"[{h.kind}] {h.id}  {h.title}\n        {h.text}")
    return 0


def cmd_check(args) -> int:
    from assist.knowledge import collect_issues

    kb, issues = collect_issues(getattr(args, "kb", None))
    for i in issues:
        print(i)
    if issues:
        print(f"{len(issues)} problem{'s' if len(issues) != 1 else ''}")
        return 1
    print(f"ok: {len(kb.playbooks)} playbooks, {len(kb.faqs)} FAQs, {len(kb.rules)} rules")
    return 0
