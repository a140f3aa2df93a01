"""Load and check the knowledge base from its YAML files.

Layout (see kb/README.md): ``playbooks/*.yaml`` one playbook per file,
``faqs/*.yaml`` with a top-level ``faqs:`` list, ``rules/*.yaml`` with a
top-level ``rules:`` list. Every problem is reported with its file and line;
``load_kb`` raises one ``KBError`` listing all of them, so a team lead fixing
the files sees everything at once, and a running app can keep its last good KB.
"""
from __future__ import annotations

import difflib
import errno
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assist.config import choose_kb
from assist.errors import AssistError
from assist.events import PARTY_KINDS, PARTY_RELATIONS, SEVERITIES, SPEAKERS
from assist.knowledge.model import (
    Faq,
    KnowledgeBase,
    OfferTerms,
    Playbook,
    Rule,
    RuleMatch,
    ScriptLine,
    Stage,
)
from assist.knowledge.patterns import vet

PLAYBOOK_FIELDS = ("id", "title", "source", "role", "goal", "customer_profile", "opening", "closing",
                   "end_conditions", "persona", "notes", "stages", "parties", "terms")
TERMS_FIELDS = ("extension_months_max", "installments_max", "waiver", "waivable")
WAIVER_POLICIES = ("approval", "none")
STAGE_FIELDS = ("id", "title", "lines", "cues", "parties")
FAQ_FIELDS = ("id", "question", "paraphrases", "answer", "tags", "playbooks", "source", "note", "parties")
RULE_FIELDS = ("id", "severity", "title", "message", "source", "kind", "speakers", "parties", "match", "params",
               "examples")
MATCH_FIELDS = ("any", "all", "unless", "pinyin_any", "negatable")
EXAMPLE_FIELDS = ("trigger", "pass")
RULE_KINDS = ("pattern", "call_hours", "self_identification", "identity_before_details")
# Typed settings (``params``) of each rule kind: name -> (type, required). Types: "time"
# ("HH:MM", 24-hour), "count" (a whole number >= 1), "regex" (a pattern the safe engine
# accepts, assist.knowledge.patterns), "text". A kind listed here accepts no other settings.
PARAM_SPECS: dict[str, dict[str, tuple[str, bool]]] = {
    "pattern": {},
    "call_hours": {"start": ("time", False), "end": ("time", False)},
    "self_identification": {"within": ("count", False), "pattern": ("regex", False)},
    "identity_before_details": {"identity": ("regex", False), "details": ("regex", False)},
}
# Limits that keep a careless or hostile edit from taking the machine down (documented in kb/README.md).
MAX_FILE_BYTES = 2 * 1024 * 1024   # one YAML file; the largest shipped file is far below
MAX_FILES = 500                    # YAML files in one folder
KB_FOLDERS = ("playbooks", "faqs", "rules")  # each must exist and hold at least one entry
OPTIONAL_FILES = ("lexicon.yaml", "settings.yaml", "compliant_lines.yaml", "out_of_scope.yaml")  # beside them
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
PARTY_NAMES = tuple(k for k in PARTY_KINDS) + PARTY_RELATIONS
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


# What a team lead reads (Chinese): the values they may type stay quoted, with their meaning.
_SEVERITY_NAMES = {"info": "提示", "warning": "警告", "critical": "严重"}
_SPEAKER_NAMES = {"agent": "坐席", "customer": "客户", "unknown": "未分声道"}
_KIND_NAMES = {"list": "一个列表", "dict": "一组“字段: 值”", "_LineDict": "一组“字段: 值”", "bool": "是非值",
               "date": "日期", "datetime": "日期时间", "bytes": "二进制数据"}
# PyYAML's English problems, by how they start; what usually causes each, and what to do.
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "这里不能出现冒号“:”：若冒号是文字的一部分，请给整段文字加上引号"),
    ("could not find expected ':'", "找不到应有的冒号“:”：检查上一行是否缺了“字段: 值”的冒号，或引号没有闭合"),
    ("did not find expected key", "缩进不对或少了“- ”：请让同一层的字段左端对齐"),
    ("did not find expected '-' indicator", "列表项缩进不对：请让同一列表的“- ”左端对齐"),
    ("expected <block end>", "缩进不对：请让同一层的字段左端对齐"),
    ("expected ',' or ']'", "方括号“[”没有闭合，或列表项之间缺少逗号：请补上“]”或逗号；若“[”是文字的一部分，请给整段文字加上引号"),
    ("expected ',' or '}'", "花括号“{”没有闭合，或各项之间缺少逗号：请补上“}”或逗号；若“{”是文字的一部分，请给整段文字加上引号"),
    ("found unexpected end of stream", "文件在引号或括号闭合之前就结束了：请补上缺少的引号或括号"),
    ("found character '\\t'", "用了制表符缩进：请全部改用空格"),
    ("found character", "这里的字符不能放在开头：请给这段文字加上引号"),
    ("found unknown escape character", "双引号里有无法识别的反斜杠转义：请改用单引号，或写成两个反斜杠"),
    ("found undefined alias", "“*”后面引用的名字没有定义：若“*”是文字的一部分，请加引号"),
    ("expected alphabetic or numeric character", "“&”或“*”后面需要一个名字：若它们是文字的一部分，请加引号"),
    ("expected a comment or a line break", "这一行在文字结束后还有多余的内容：请给整段文字加上引号"),
    ("found duplicate anchor", "同一个锚点名“&”用了两次：请改掉其中一个"),
    ("found unexpected document separator", "文件中间出现了“---”：一个文件只能写一份内容，请删掉它或把后面的内容移到另一个文件"),
    ("expected a single document", "文件里有多份内容（用“---”分隔）：请把后面的内容移到另一个文件"),
    ("could not determine a constructor", "用了不支持的“!”标签：请删掉“!”开头的标签"),
    ("found unhashable key", "字段名不能是列表或“字段: 值”：请改成文字"),
    ("unacceptable character", "文件里有不允许的控制字符：请删掉或重新输入这一段"),
    ("special characters are not allowed", "文件里有不允许的控制字符：请删掉或重新输入这一段"),
    ("sequence entries are not allowed", "这里不能出现列表项“- ”：请检查缩进"),
    ("mapping keys are not allowed", "这里不能出现字段：请检查缩进"),
    ("invalid indentation or unclosed", "缩进不对，或方括号、花括号没有闭合：请检查缩进和括号"),
)


def _yaml_problem(problem: str) -> str:
    """PyYAML's problem in Chinese, with what to do (the line comes with the issue)."""
    for start, words in _YAML_PROBLEMS:
        if problem.startswith(start):
            return words
    return "无法按 YAML 格式读取这里：请检查缩进、冒号和引号是否成对"


_OS_REASONS = {errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限", errno.ENOENT: "文件不存在",
               errno.EISDIR: "这是一个文件夹", errno.ELOOP: "链接形成了循环", errno.EIO: "磁盘读取出错",
               errno.ENAMETOOLONG: "文件名太长"}


def _os_reason(e: OSError) -> str:
    return _OS_REASONS.get(e.errno or 0, f"系统错误 {e.errno}" if e.errno else "系统错误")


def _kind_of(value: object) -> str:
    return _KIND_NAMES.get(type(value).__name__, "别的类型")


def _quoted(values, meanings: dict[str, str] | None = None) -> str:
    """``'a'、'b'`` (with each one's meaning when given): values a team lead types, quoted."""
    return "、".join(f"'{v}'（{meanings[v]}）" if meanings and v in meanings else f"'{v}'" for v in values)


def _not_utf8(rel: str, e: UnicodeDecodeError) -> KBIssue:
    """A file in another encoding: say which one it looks like and how to convert it."""
    guess = ""
    try:
        e.object.decode("gb18030")
        guess = "（看起来是 GBK/GB18030 编码）"
    except (UnicodeDecodeError, AttributeError):
        pass
    line = e.object[:e.start].count(b"\n") + 1 if isinstance(e.object, bytes) else 1
    return KBIssue(rel, line, f"文件不是 UTF-8 编码{guess}，第 {e.start + 1} 个字节无法读取：请在编辑器里另存为 UTF-8 编码")


@dataclass(frozen=True)
class KBIssue:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KBError(AssistError):
    """The knowledge base has problems; ``issues`` lists every one."""

    def __init__(self, issues: list[KBIssue]):
        self.issues = issues
        super().__init__(f"知识库有 {len(issues)} 个问题：\n" + "\n".join(f"  {i}" for i in issues),
                         "按上面列出的文件和行号逐条修改并保存，再运行 assist kb check 确认没有问题")


def default_kb_dir() -> Path:
    """The KB folder settings choose (see ``assist.config.choose_kb``): env, saved, user's own, bundled."""
    return choose_kb().path


class _LineDict(dict):
    line = 0


# libyaml's parser is several times faster than the pure-Python one (10 000 FAQs: 11 s against
# 64 s on a loaded machine) and its nodes carry the same marks, so lines stay exact.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe loader whose mappings remember the line they start on."""


def _construct_line_mapping(loader: _LineLoader, node):
    mapping = _LineDict()
    mapping.line = node.start_mark.line + 1
    yield mapping
    mapping.update(loader.construct_mapping(node))


class _PyLineLoader(yaml.SafeLoader):
    """The same in pure Python: slower, used to report a syntax error where PyYAML always has."""


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_mapping)
_PyLineLoader.add_constructor("tag:yaml.org,2002:map", _construct_line_mapping)


class _Reader:
    """Reads one file's mappings, collecting issues instead of stopping at the first."""

    def __init__(self, file: str, issues: list[KBIssue]):
        self.file = file
        self.issues = issues

    def problem(self, node, message: str) -> None:
        self.issues.append(KBIssue(self.file, getattr(node, "line", 0) or 1, message))

    def text(self, node, key: str, required: bool = True, default: str = "") -> str:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            if required:
                self.problem(node, f"缺少必填字段 '{key}'：请补上这一项")
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problem(node, f"'{key}' 应该是一段文字，这里却是{_kind_of(value)}：请改成文字（可加引号）")
            return default
        if required and not value.strip():
            self.problem(node, f"'{key}' 是空的：请填写内容")
        return value.strip()

    def texts(self, node, key: str) -> tuple[str, ...]:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            return ()
        if isinstance(value, str):
            return (value.strip(),)
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.problem(node, f"'{key}' 应该是文字或文字列表（每项一行，以“- ”开头）：请改写")
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def known_fields(self, node, allowed: tuple[str, ...], what: str) -> None:
        """Report fields the loader does not know: usually a typo that would silently drop data."""
        if not isinstance(node, dict):
            return
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"（是不是要写 '{close[0]}'？）" if close else f"（可用的字段：{_quoted(allowed)}）"
                self.problem(node, f"{what}里有不认识的字段 '{key}'{hint}：请改正拼写或删掉它，否则这项内容不会生效")

    def ident(self, node, key: str = "id") -> str:
        value = self.text(node, key)
        if value and not _ID.match(value):
            self.problem(node, f"'{key}' 的值 '{value}' 只能由小写英文字母、数字和 “_”“-”“.” 组成：请改写")
        return value


_TOO_DEEP = "嵌套层数太深，无法读取：请检查括号或缩进"


def _parse_file(path: Path, rel: str, issues: list[KBIssue]):
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            issues.append(KBIssue(rel, 1, f"文件太大（{size / 1048576:.1f} MB，上限 {MAX_FILE_BYTES // 1048576} MB）：请拆成几个文件"))
            return None
        text = path.read_text(encoding="utf-8")
        if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
            issues.append(KBIssue(rel, 1, "文件是空的（没有内容）：请删除它或写入内容"))
            return None
        try:
            return yaml.load(text, Loader=_LineLoader)
        except yaml.YAMLError as e:
            if _LineLoader is _PyLineLoader:
                raise
            if "nesting depth" in str(getattr(e, "problem", "") or ""):
                # libyaml stops at its depth limit (1,000) at once; the pure-Python parser would
                # take seconds to get as deep (its cost grows with the square of the depth)
                mark = getattr(e, "problem_mark", None)
                issues.append(KBIssue(rel, mark.line + 1 if mark else 1, _TOO_DEEP))
                return None
            # libyaml words errors differently and can put them a line off: the pure-Python
            # parser, run only on a broken file, says where the team lead should look.
            return yaml.load(text, Loader=_PyLineLoader)
    except OSError as e:
        issues.append(KBIssue(rel, 1, f"无法读取文件（{_os_reason(e)}）：请检查文件权限，或换一份完好的副本"))
    except RecursionError:
        issues.append(KBIssue(rel, 1, _TOO_DEEP))
    except (ValueError, TypeError, OverflowError) as e:  # e.g. a date like 2026-13-45, before UnicodeDecodeError's base
        if isinstance(e, UnicodeDecodeError):
            issues.append(_not_utf8(rel, e))
        else:
            issues.append(KBIssue(rel, 1, "有一个取值无法读取（多半是不存在的日期，如 2026-13-45）：请给它加上引号"))
    except UnicodeDecodeError as e:
        issues.append(_not_utf8(rel, e))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        # a bracket or quote left open is found lines later: say where it was opened too
        opened = e.context_mark.line + 1 if e.context_mark else line
        began = f"（从第 {opened} 行开始的那一段）" if opened < line else ""
        issues.append(KBIssue(rel, line, f"YAML 格式有误{began}：{_yaml_problem(e.problem or e.context or '')}"))
    except yaml.reader.ReaderError as e:  # a control character: ``position`` counts characters of ``text``
        line = text[:e.position].count("\n") + 1 if isinstance(e.position, int) else 1
        issues.append(KBIssue(rel, line, f"YAML 格式有误：{_yaml_problem(str(e))}"))
    except yaml.YAMLError as e:
        issues.append(KBIssue(rel, 1, f"YAML 格式有误：{_yaml_problem(str(e))}"))
    return None


def _parties(r: "_Reader", node) -> tuple[str, ...]:
    """A node's ``parties:`` (who a rule applies to, or who a script line is said to), each name checked."""
    parties = r.texts(node, "parties")
    for name in parties:
        if name not in PARTY_NAMES:
            close = difflib.get_close_matches(name, PARTY_NAMES, n=1)
            hint = f"（是不是要写“{close[0]}”？）" if close else ""
            r.problem(node, f"'parties' 中的“{name}”不是可用的通话对象{hint}：请改为以下之一：{_quoted(PARTY_NAMES)}")
    return parties


def _terms(r: "_Reader", doc) -> OfferTerms:
    """A playbook's ``terms:``: what its agent may offer (post-call check); each value checked."""
    node = doc.get("terms") if isinstance(doc, dict) else None
    if node is None:
        return OfferTerms()
    if not isinstance(node, dict):
        r.problem(doc, "terms 应是一组设定：extension_months_max、installments_max、waiver、waivable")
        return OfferTerms()
    r.known_fields(node, TERMS_FIELDS, "terms")
    counts: dict[str, int | None] = {}
    for key in ("extension_months_max", "installments_max"):
        value = node.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            r.problem(node, f"terms 里的 {key} 应是不小于 1 的整数，不是 {value!r}")
            value = None
        counts[key] = value
    waiver = r.text(node, "waiver", required=False) or "approval"
    if waiver not in WAIVER_POLICIES:
        r.problem(node, f"terms 里的 waiver 应为 approval（减免只能申请、以审批为准）或 none（没有减免），不是“{waiver}”")
        waiver = "approval"
    return OfferTerms(counts["extension_months_max"], counts["installments_max"], waiver, r.texts(node, "waivable"))


def _read_playbook(doc, rel: str, issues: list[KBIssue]) -> Playbook | None:
    r = _Reader(rel, issues)
    if not isinstance(doc, dict):
        r.problem(doc, "话术文件应由“字段: 值”组成，至少要有 'id'、'title' 和 'stages'：请按 kb/README.md 的格式改写")
        return None
    r.known_fields(doc, PLAYBOOK_FIELDS, "话术")
    pid = r.ident(doc)
    stages_node = doc.get("stages")
    stages: list[Stage] = []
    if not isinstance(stages_node, list) or not stages_node:
        r.problem(doc, "缺少 'stages'（阶段列表，每个阶段要有 'id'、'title' 和 'lines'）：请补上")
    else:
        seen: set[str] = set()
        for i, s in enumerate(stages_node, start=1):
            if not isinstance(s, dict):
                r.problem(doc, f"第 {i} 个阶段应由“字段: 值”组成（'id'、'title'、'lines'）：请改写")
                continue
            r.known_fields(s, STAGE_FIELDS, "阶段")
            sid = r.ident(s)
            if sid in seen:
                r.problem(s, f"话术 '{pid}' 里有两个阶段的 'id' 都是 '{sid}'：请改掉其中一个")
            seen.add(sid)
            lines = r.texts(s, "lines")
            if not lines:
                r.problem(s, f"阶段 '{sid}' 没有 'lines'（这一步要说的话）：请至少写一句")
            stages.append(
                Stage(
                    index=i,
                    id=sid,
                    title=r.text(s, "title"),
                    lines=tuple(ScriptLine(f"{sid}.{n}", t) for n, t in enumerate(lines, start=1)),
                    cues=r.texts(s, "cues"),
                    parties=_parties(r, s),
                )
            )
    return Playbook(
        id=pid,
        title=r.text(doc, "title"),
        source=r.text(doc, "source"),
        stages=tuple(stages),
        opening=r.text(doc, "opening", required=False),
        closing=r.text(doc, "closing", required=False),
        goal=r.text(doc, "goal", required=False),
        role=r.text(doc, "role", required=False),
        customer_profile=r.texts(doc, "customer_profile"),
        end_conditions=r.texts(doc, "end_conditions"),
        persona=r.text(doc, "persona", required=False),
        notes=r.text(doc, "notes", required=False),
        file=rel,
        parties=_parties(r, doc),
        terms=_terms(r, doc),
    )


def _entries(r: _Reader, doc, key: str, what: str, needs: str):
    """The mappings of a file's top-level list (``faqs:``, ``rules:``); anything else is reported."""
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        r.problem(doc, f"{what}文件最外层应该是 '{key}:' 列表：请按 kb/README.md 的格式改写")
        return
    for node in items:
        if isinstance(node, dict):
            yield node
        else:
            r.problem(doc, f"每条{what}应由“字段: 值”组成，包含 {needs}：请改写")


def _read_faqs(doc, rel: str, issues: list[KBIssue]) -> list[Faq]:
    r = _Reader(rel, issues)
    out = []
    for node in _entries(r, doc, "faqs", "问答", "'id'、'question' 和 'answer'"):
        r.known_fields(node, FAQ_FIELDS, "问答")
        out.append(
            Faq(
                id=r.ident(node),
                question=r.text(node, "question"),
                answer=r.text(node, "answer"),
                paraphrases=r.texts(node, "paraphrases"),
                tags=r.texts(node, "tags"),
                playbooks=r.texts(node, "playbooks"),
                source=r.text(node, "source", required=False),
                note=r.text(node, "note", required=False),
                file=rel,
                line=node.line,
                parties=_parties(r, node),
            )
        )
    return out


def _check_regexes(r: _Reader, node, key: str, patterns: tuple[str, ...]) -> None:
    """Each pattern must run on the safe engine, quickly, and not match empty text (except ``unless``)."""
    for p in patterns:
        why = vet(p, allow_empty=key == "unless")
        if why:
            r.problem(node, f"'{key}' 里的规则写法 {p!r} 不能用：{why}。请改写这条规则写法")


def _check_params(r: _Reader, node, kind: str, params: dict) -> None:
    """Typed settings: times as "HH:MM", counts as whole numbers, regexes the safe engine accepts."""
    spec = PARAM_SPECS.get(kind)
    if spec is None:
        return  # a kind added without a spec: its own code checks its settings
    for key, value in params.items():
        if key not in spec:
            known = _quoted(spec) if spec else "无"
            r.problem(node, f"'{kind}' 类规则没有设置项 '{key}'（可用：{known}）：请改正拼写或删掉它")
            continue
        typ, _ = spec[key]
        where = f"'params.{key}'"
        if typ == "time":
            if not isinstance(value, str) or not _HHMM.match(value.strip()):
                shown = value if isinstance(value, str) else f"{value}（未加引号的时间会被读成数字）"
                r.problem(node, f"{where} 的值 {shown!r} 不是时间：请写成带引号的 24 小时制，如 \"08:00\"、\"21:30\"")
        elif typ == "count":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
                r.problem(node, f"{where} 的值 {value!r} 不是 1 到 1000 之间的整数：请改成这样的整数（不加引号）")
        elif typ == "regex":
            if not isinstance(value, str) or not value.strip():
                r.problem(node, f"{where} 必须是一条规则写法（文本）：请填写")
            else:
                _check_regexes(r, node, where, (value,))
    for key, (_, required) in spec.items():
        if required and key not in params:
            r.problem(node, f"'{kind}' 类规则缺少设置项 'params.{key}'：请补上")
    if kind == "call_hours":
        start, end = params.get("start", "08:00"), params.get("end", "21:00")
        if all(isinstance(v, str) and _HHMM.match(v.strip()) for v in (start, end)) and _minutes(start) >= _minutes(end):
            r.problem(node, f"'params.start'（{start}）必须早于 'params.end'（{end}）：请改正时间")


def _minutes(hhmm: str) -> int:
    h, m = hhmm.strip().split(":")
    return int(h) * 60 + int(m)


def _read_rules(doc, rel: str, issues: list[KBIssue]) -> list[Rule]:
    r = _Reader(rel, issues)
    out = []
    for node in _entries(r, doc, "rules", "规则", "'id'、'severity'、'title'、'message' 和 'source'"):
        r.known_fields(node, RULE_FIELDS, "规则")
        rid = r.ident(node)
        severity = r.text(node, "severity")
        if severity and severity not in SEVERITIES:
            r.problem(node, f"'severity' 的值 '{severity}' 不可用：请改为 {_quoted(SEVERITIES, _SEVERITY_NAMES)}之一")
        kind = r.text(node, "kind", required=False) or "pattern"
        if kind not in RULE_KINDS:
            r.problem(node, f"'kind' 的值 '{kind}' 不可用：请改为 {_quoted(RULE_KINDS)}之一（不写即按说法匹配）")
        speakers = r.texts(node, "speakers") or ("agent", "unknown")
        for s in speakers:
            if s not in SPEAKERS:
                r.problem(node, f"'speakers' 里的 '{s}' 不可用：请改为 {_quoted(SPEAKERS, _SPEAKER_NAMES)}之一")
        parties = _parties(r, node)
        m = node.get("match") or {}
        if not isinstance(m, dict):
            r.problem(node, f"'match' 应由“字段: 值”组成（可用 {_quoted(MATCH_FIELDS)}）：请改写")
            m = {}
        r.known_fields(m, MATCH_FIELDS, "'match' ")
        match = RuleMatch(
            any=r.texts(m, "any"),
            all=r.texts(m, "all"),
            unless=r.texts(m, "unless"),
            pinyin_any=r.texts(m, "pinyin_any"),
            negatable=bool(m.get("negatable", True)),
        )
        for key in ("any", "all", "unless", "pinyin_any"):
            _check_regexes(r, m if m else node, key, getattr(match, key))
        if kind == "pattern" and not (match.any or match.pinyin_any):
            r.problem(node, f"规则 '{rid}' 按说法匹配，需要 'match.any' 或 'match.pinyin_any'：请至少写一条规则写法")
        examples = node.get("examples") or {}
        if not isinstance(examples, dict):
            r.problem(node, "'examples' 应由 'trigger'（违规示例）和 'pass'（合规示例）两个列表组成：请改写")
            examples = {}
        r.known_fields(examples, EXAMPLE_FIELDS, "'examples' ")
        params = node.get("params") or {}
        if not isinstance(params, dict):
            r.problem(node, "'params' 应由“设置项: 值”组成：请改写")
            params = {}
        _check_params(r, node, kind, params)
        if not isinstance(m.get("negatable", True), bool):
            r.problem(m, f"'match.negatable' 必须是 'true' 或 'false'，不是 {m.get('negatable')!r}：请改正")
        out.append(
            Rule(
                id=rid,
                severity=severity,  # type: ignore[arg-type]  # checked against SEVERITIES above
                title=r.text(node, "title"),
                message=r.text(node, "message"),
                source=r.text(node, "source"),
                kind=kind,
                speakers=speakers,
                parties=parties,
                match=match,
                params=dict(params),
                triggers=r.texts(examples, "trigger"),
                passes=r.texts(examples, "pass"),
                file=rel,
                line=node.line,
            )
        )
    return out


def kb_files(root: Path) -> tuple[list[Path], list[KBIssue]]:
    """Every file the loader reads under ``root``, in its order, and the problems of the listing
    itself (missing or empty folders, links that lead nowhere or in a loop, entries that are not
    files, too many files). The parsed-KB cache keys on exactly this list (``kb_cache``)."""
    issues: list[KBIssue] = []
    files = [p for folder in KB_FOLDERS for p in _yaml_files(root, folder, issues)]
    for name in OPTIONAL_FILES:
        if _optional_path(root, name, issues) is not None:
            files.append(root / name)
    return files, issues


def _yaml_files(root: Path, folder: str, issues: list[KBIssue] | None = None) -> list[Path]:
    """The folder's YAML files; a missing folder, a link that leads nowhere or in a loop, too many files are issues."""
    issues = [] if issues is None else issues
    d = root / folder
    if not d.is_dir():
        if d.is_symlink():
            issues.append(KBIssue(str(d), 0, f"{folder}/ 是一个无法打开的链接（指向不存在的位置或形成循环）：请删掉这个链接，放回真实的文件夹"))
        else:
            issues.append(KBIssue(str(d), 0, f"缺少 {folder}/ 文件夹" + _WHY_NEEDED.get(folder, "")))
        return []
    files = []
    try:
        entries = sorted(d.iterdir())
    except OSError as e:
        issues.append(KBIssue(str(d), 0, f"无法读取 {folder}/ 文件夹（{_os_reason(e)}）：请检查文件夹权限"))
        return []
    for p in entries:
        if p.suffix not in (".yaml", ".yml"):
            continue
        if p.is_symlink():
            try:
                p.resolve(strict=True)
            except (OSError, RuntimeError):
                issues.append(KBIssue(str(p), 0, _BROKEN_LINK))
                continue
        if not p.is_file():
            issues.append(KBIssue(str(p), 0, _NOT_A_FILE))
            continue
        files.append(p)
    if len(files) > MAX_FILES:
        issues.append(KBIssue(str(d), 0, f"{folder}/ 里有 {len(files)} 个文件，上限 {MAX_FILES} 个：请把内容合并到较少的文件里"))
        return files[:MAX_FILES]
    if not files:
        issues.append(KBIssue(str(d), 0, f"{folder}/ 文件夹里没有 .yaml 文件" + _WHY_NEEDED.get(folder, "")))
    return files


_BROKEN_LINK = "这个链接指向不存在的位置或形成循环，文件没有被读取：请删掉它，或让它指向真实的文件"
_NOT_A_FILE = "不是普通文件，没有被读取：请删掉它，或换成普通的 .yaml 文件"
_WHY_NEEDED = {
    "rules": "：没有合规规则，合规检查就会悄悄关闭；请恢复规则文件",
    "faqs": "：没有常见问题，客户提问时不会有答案；请恢复问答文件",
    "playbooks": "：没有话术流程，无法跟踪通话阶段；请恢复话术文件",
}


def collect_issues(root: str | os.PathLike | None = None) -> tuple[KnowledgeBase | None, list[KBIssue]]:
    """Read every KB file under ``root``; return the KB (None if unusable) and all issues."""
    root = Path(root) if root else default_kb_dir()
    issues: list[KBIssue] = []
    if not root.is_dir():
        return None, [KBIssue(str(root), 0, "找不到知识库文件夹：请检查路径是否写对，或恢复这个文件夹")]
    digest = hashlib.sha256()
    playbooks: dict[str, Playbook] = {}
    faqs: list[Faq] = []
    rules: list[Rule] = []
    for folder in KB_FOLDERS:
        for path in _yaml_files(root, folder, issues):
            rel = str(path.relative_to(root.parent)) if root.parent != path else str(path)
            doc = _parse_file(path, rel, issues)
            if doc is None:
                continue
            digest.update(path.name.encode() + path.read_bytes())
            if folder == "playbooks":
                pb = _read_playbook(doc, rel, issues)
                if pb is None:
                    continue
                if pb.id in playbooks:
                    issues.append(KBIssue(rel, getattr(doc, "line", 1), f"话术的 'id' '{pb.id}' 重复（{playbooks[pb.id].file} 里也是它）：请改掉其中一个"))
                playbooks[pb.id] = pb
            elif folder == "faqs":
                faqs.extend(_read_faqs(doc, rel, issues))
            else:
                rules.extend(_read_rules(doc, rel, issues))
    synonyms = _read_lexicon(root, digest, issues)
    default_playbook = _read_settings(root, digest, issues, playbooks)
    compliant_lines = _read_compliant_lines(root, digest, issues)
    out_of_scope = _read_out_of_scope(root, digest, issues)
    if not playbooks:
        issues.append(KBIssue(str(root / "playbooks"), 0, "没有一套能用的话术" + _WHY_NEEDED["playbooks"]))
    if (root / "rules").is_dir() and not rules and not any(i.file.startswith(str(root / "rules")) for i in issues):
        issues.append(KBIssue(str(root / "rules"), 0, "rules/ 里一条合规规则也没有" + _WHY_NEEDED["rules"]))
    if (root / "faqs").is_dir() and not faqs and not any(i.file.startswith(str(root / "faqs")) for i in issues):
        issues.append(KBIssue(str(root / "faqs"), 0, "faqs/ 里一条常见问题也没有" + _WHY_NEEDED["faqs"]))
    _check_ids(faqs, "问答", issues)
    _check_ids(rules, "规则", issues)
    for f in faqs:
        for p in f.playbooks:
            if p not in playbooks:
                issues.append(KBIssue(f.file, f.line, f"问答 '{f.id}' 的 'playbooks' 里写了不存在的话术 '{p}'：请改成已有话术的 'id'，或删掉它"))
    kb = KnowledgeBase(playbooks=playbooks, faqs=tuple(faqs), rules=tuple(rules),
                       version=digest.hexdigest()[:12], root=str(root),
                       synonyms=synonyms, default_playbook=default_playbook,
                       compliant_lines=compliant_lines, out_of_scope=out_of_scope)
    return kb, issues


def _optional_file(root: Path, name: str, digest, issues: list[KBIssue]) -> tuple[str, Any] | None:
    """A top-level file the KB may have (lexicon, settings, ...): its name as errors give it and
    its parsed content, or None when it is absent or unreadable (then ``issues`` says why).
    Its bytes go into the KB's version once it parsed (an over-size file is never read whole)."""
    path = _optional_path(root, name, issues)
    if path is None:
        return None
    rel = str(path.relative_to(root.parent))
    doc = _parse_file(path, rel, issues)
    if doc is None:
        return None
    digest.update(path.name.encode() + path.read_bytes())
    return rel, doc


def _optional_path(root: Path, name: str, issues: list[KBIssue]) -> Path | None:
    """``root / name`` if it is a file to read; None if absent, or (with an issue) if it is a link
    that leads nowhere or in a loop, or not a file: a file the team lead put there is never ignored."""
    path = root / name
    if path.is_file():
        return path
    if path.is_symlink():
        issues.append(KBIssue(str(path), 0, _BROKEN_LINK))
    elif path.exists():
        issues.append(KBIssue(str(path), 0, _NOT_A_FILE))
    return None


def _read_lexicon(root: Path, digest, issues: list[KBIssue]) -> tuple[tuple[str, ...], ...]:
    """``lexicon.yaml``: ``synonyms:`` a list of word groups (optional file)."""
    if (found := _optional_file(root, "lexicon.yaml", digest, issues)) is None:
        return ()
    rel, doc = found
    groups = doc.get("synonyms") if isinstance(doc, dict) else None
    if not isinstance(groups, list):
        issues.append(KBIssue(rel, getattr(doc, "line", 1), "lexicon.yaml 最外层应该是 'synonyms:' 列表，每项是一组同义词：请按 kb/README.md 的格式改写"))
        return ()
    out = []
    for n, g in enumerate(groups, start=1):
        if not isinstance(g, list) or len(g) < 2 or not all(isinstance(w, str) and w.strip() for w in g):
            issues.append(KBIssue(rel, getattr(doc, "line", 1), f"第 {n} 组同义词应是至少两个词的列表：请补全或删掉这一组"))
            continue
        out.append(tuple(w.strip() for w in g))
    return tuple(out)


def _read_compliant_lines(root: Path, digest, issues: list[KBIssue]) -> tuple[str, ...]:
    """``compliant_lines.yaml``: ``lines:`` ordinary agent lines (optional file)."""
    if (found := _optional_file(root, "compliant_lines.yaml", digest, issues)) is None:
        return ()
    rel, doc = found
    lines = doc.get("lines") if isinstance(doc, dict) else None
    if not isinstance(lines, list) or not all(isinstance(t, str) and t.strip() for t in lines):
        issues.append(KBIssue(rel, getattr(doc, "line", 1), "compliant_lines.yaml 最外层应该是 'lines:' 列表，每项是一句不为空的话：请改写"))
        return ()
    return tuple(t.strip() for t in lines)


def _read_out_of_scope(root: Path, digest, issues: list[KBIssue]) -> tuple[str, ...]:
    """``out_of_scope.yaml``: ``examples:`` things customers say that need no card (optional file)."""
    if (found := _optional_file(root, "out_of_scope.yaml", digest, issues)) is None:
        return ()
    rel, doc = found
    examples = doc.get("examples") if isinstance(doc, dict) else None
    if not isinstance(examples, list):
        issues.append(KBIssue(rel, getattr(doc, "line", 1), "out_of_scope.yaml 最外层应该是 'examples:' 列表，每项是一句话：请改写"))
        return ()
    out = []
    for n, e in enumerate(examples, start=1):
        if not isinstance(e, str) or not e.strip():
            issues.append(KBIssue(rel, getattr(doc, "line", 1), f"第 {n} 条无关语句示例是空的或不是一句话：请改写或删掉它"))
            continue
        out.append(e.strip())
    return tuple(out)


def _read_settings(root: Path, digest, issues: list[KBIssue], playbooks: dict) -> str | None:
    """``settings.yaml``: ``default_playbook`` (optional file)."""
    found = _optional_file(root, "settings.yaml", digest, issues)
    if found is None or not isinstance(found[1], dict):
        return None
    rel, doc = found
    default = doc.get("default_playbook")
    if default is not None and default not in playbooks:
        issues.append(KBIssue(rel, getattr(doc, "line", 1), f"'default_playbook' 写的话术 '{default}' 不存在：请改成已有话术的 'id'"))
        return None
    return default


def _check_ids(items, what: str, issues: list[KBIssue]) -> None:
    first: dict[str, Any] = {}
    for item in items:
        if item.id in first:
            other = first[item.id]
            issues.append(KBIssue(item.file, item.line, f"{what}的 'id' '{item.id}' 重复（第一次出现在 {other.file}:{other.line}）：请改掉其中一个"))
        else:
            first[item.id] = item


def load_kb(root: str | os.PathLike | None = None, *, use_cache: bool = True) -> KnowledgeBase:
    """Load the KB, raising ``KBError`` with every problem if there is any.

    Unchanged files come from the parsed-KB cache (``kb_cache``, keyed by their content
    hash) instead of being parsed again; a clean load is cached and becomes the folder's
    last good KB. ``kb check`` never uses the cache (``collect_issues``).
    """
    from assist.knowledge import kb_cache

    folder = Path(root) if root else default_kb_dir()
    digest = kb_cache.content_hash(folder) if use_cache and folder.is_dir() else None
    if digest:
        cached = kb_cache.lookup(folder, digest)
        if cached is not None:
            return cached
    kb, issues = collect_issues(folder)
    if issues or kb is None:
        raise KBError(issues)
    if digest:
        kb_cache.remember(folder, kb, digest)
    return kb
