"""Load and check the knowledge base from its YAML files.

Layout (see kb/README.md): ``playbooks/*.yaml`` one playbook per file,
``faqs/*.yaml`` with a top-level ``faqs:`` list, ``rules/*.yaml`` with a
top-level ``rules:`` list. Every problem is reported with its file and line;
``load_kb`` raises one ``KBError`` listing all of them, so a team lead fixing
the files sees everything at once, and a running app can keep its last good KB.
"""
from __future__ import annotations

import difflib
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
    Playbook,
    Rule,
    RuleMatch,
    ScriptLine,
    Stage,
)

PLAYBOOK_FIELDS = ("id", "title", "source", "role", "goal", "customer_profile", "opening", "closing",
                   "end_conditions", "persona", "notes", "stages")
STAGE_FIELDS = ("id", "title", "lines", "cues")
FAQ_FIELDS = ("id", "question", "paraphrases", "answer", "tags", "playbooks", "source", "note")
RULE_FIELDS = ("id", "severity", "title", "message", "source", "kind", "speakers", "parties", "match", "params",
               "examples")
MATCH_FIELDS = ("any", "all", "unless", "pinyin_any", "negatable")
EXAMPLE_FIELDS = ("trigger", "pass")
RULE_KINDS = ("pattern", "call_hours", "self_identification", "identity_before_details")
PARTY_NAMES = tuple(k for k in PARTY_KINDS) + PARTY_RELATIONS
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


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
        head = f"knowledge base has {len(issues)} problem{'s' if len(issues) != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(f"  {i}" for i in issues))


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
                self.problem(node, f"missing field '{key}'")
            return default
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.problem(node, f"'{key}' must be text, not {type(value).__name__}")
            return default
        if required and not value.strip():
            self.problem(node, f"'{key}' is empty")
        return value.strip()

    def texts(self, node, key: str) -> tuple[str, ...]:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            return ()
        if isinstance(value, str):
            return (value.strip(),)
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            self.problem(node, f"'{key}' must be a list of text")
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def known_fields(self, node, allowed: tuple[str, ...], what: str) -> None:
        """Report fields the loader does not know: usually a typo that would silently drop data."""
        if not isinstance(node, dict):
            return
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else f"; known: {', '.join(allowed)}"
                self.problem(node, f"unknown field '{key}' in {what}{hint}")

    def ident(self, node, key: str = "id") -> str:
        value = self.text(node, key)
        if value and not _ID.match(value):
            self.problem(node, f"{key} '{value}' must be lower-case letters, digits, '_', '-' or '.'")
        return value


def _parse_file(path: Path, rel: str, issues: list[KBIssue]):
    try:
        text = path.read_text(encoding="utf-8")
        try:
            return yaml.load(text, Loader=_LineLoader)
        except yaml.YAMLError:
            if _LineLoader is _PyLineLoader:
                raise
            # libyaml words errors differently and can put them a line off: the pure-Python
            # parser, run only on a broken file, says where the team lead should look.
            return yaml.load(text, Loader=_PyLineLoader)
    except UnicodeDecodeError as e:
        issues.append(KBIssue(rel, 1, f"not UTF-8 text ({e.reason})"))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        issues.append(KBIssue(rel, line, f"YAML syntax error: {e.problem or e.context}"))
    except yaml.YAMLError as e:
        issues.append(KBIssue(rel, 1, f"YAML error: {e}"))
    return None


def _read_playbook(doc, rel: str, issues: list[KBIssue]) -> Playbook | None:
    r = _Reader(rel, issues)
    if not isinstance(doc, dict):
        r.problem(doc, "a playbook file must be a mapping with id, title and stages")
        return None
    r.known_fields(doc, PLAYBOOK_FIELDS, "a playbook")
    pid = r.ident(doc)
    stages_node = doc.get("stages")
    stages: list[Stage] = []
    if not isinstance(stages_node, list) or not stages_node:
        r.problem(doc, "missing field 'stages' (a list of stages with id, title and lines)")
    else:
        seen: set[str] = set()
        for i, s in enumerate(stages_node, start=1):
            if not isinstance(s, dict):
                r.problem(doc, f"stage {i} must be a mapping with id, title and lines")
                continue
            r.known_fields(s, STAGE_FIELDS, "a stage")
            sid = r.ident(s)
            if sid in seen:
                r.problem(s, f"duplicate stage id '{sid}' in playbook '{pid}'")
            seen.add(sid)
            lines = r.texts(s, "lines")
            if not lines:
                r.problem(s, f"stage '{sid}' has no 'lines'")
            stages.append(
                Stage(
                    index=i,
                    id=sid,
                    title=r.text(s, "title"),
                    lines=tuple(ScriptLine(f"{sid}.{n}", t) for n, t in enumerate(lines, start=1)),
                    cues=r.texts(s, "cues"),
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
    )


def _entries(r: _Reader, doc, key: str, what: str, needs: str):
    """The mappings of a file's top-level list (``faqs:``, ``rules:``); anything else is reported."""
    items = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        r.problem(doc, f"a {what} file must have a top-level '{key}:' list")
        return
    for node in items:
        if isinstance(node, dict):
            yield node
        else:
            r.problem(doc, f"each {what} must be a mapping with {needs}")


def _read_faqs(doc, rel: str, issues: list[KBIssue]) -> list[Faq]:
    r = _Reader(rel, issues)
    out = []
    for node in _entries(r, doc, "faqs", "FAQ", "id, question and answer"):
        r.known_fields(node, FAQ_FIELDS, "an FAQ")
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
            )
        )
    return out


def _check_regexes(r: _Reader, node, key: str, patterns: tuple[str, ...]) -> None:
    for p in patterns:
        try:
            compiled = re.compile(p)
        except re.error as e:
            r.problem(node, f"bad pattern in '{key}': {p!r}: {e}")
            continue
        if key != "unless" and compiled.search("") is not None:
            r.problem(node, f"pattern in '{key}' matches empty text, so it would fire on every line: {p!r}")


def _read_rules(doc, rel: str, issues: list[KBIssue]) -> list[Rule]:
    r = _Reader(rel, issues)
    out = []
    for node in _entries(r, doc, "rules", "rule", "id, severity, title, message and source"):
        r.known_fields(node, RULE_FIELDS, "a rule")
        rid = r.ident(node)
        severity = r.text(node, "severity")
        if severity and severity not in SEVERITIES:
            r.problem(node, f"severity '{severity}' must be one of {', '.join(SEVERITIES)}")
        kind = r.text(node, "kind", required=False) or "pattern"
        if kind not in RULE_KINDS:
            r.problem(node, f"kind '{kind}' must be one of {', '.join(RULE_KINDS)}")
        speakers = r.texts(node, "speakers") or ("agent", "unknown")
        for s in speakers:
            if s not in SPEAKERS:
                r.problem(node, f"speaker '{s}' must be one of {', '.join(SPEAKERS)}")
        parties = r.texts(node, "parties")
        for name in parties:
            if name not in PARTY_NAMES:
                close = difflib.get_close_matches(name, PARTY_NAMES, n=1)
                hint = f"（是不是要写“{close[0]}”？）" if close else ""
                r.problem(node, f"parties 中的“{name}”不是可用的通话对象，应为以下之一：{'、'.join(PARTY_NAMES)}{hint}")
        m = node.get("match") or {}
        if not isinstance(m, dict):
            r.problem(node, "'match' must be a mapping (any, all, unless, pinyin_any, negatable)")
            m = {}
        r.known_fields(m, MATCH_FIELDS, "'match'")
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
            r.problem(node, f"pattern rule '{rid}' needs 'match.any' or 'match.pinyin_any'")
        examples = node.get("examples") or {}
        if not isinstance(examples, dict):
            r.problem(node, "'examples' must be a mapping with 'trigger' and 'pass' lists")
            examples = {}
        r.known_fields(examples, EXAMPLE_FIELDS, "'examples'")
        params = node.get("params") or {}
        if not isinstance(params, dict):
            r.problem(node, "'params' must be a mapping")
            params = {}
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


def _yaml_files(root: Path, folder: str) -> list[Path]:
    d = root / folder
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def collect_issues(root: str | os.PathLike | None = None) -> tuple[KnowledgeBase | None, list[KBIssue]]:
    """Read every KB file under ``root``; return the KB (None if unusable) and all issues."""
    root = Path(root) if root else default_kb_dir()
    issues: list[KBIssue] = []
    if not root.is_dir():
        return None, [KBIssue(str(root), 0, "knowledge-base folder not found")]
    digest = hashlib.sha256()
    playbooks: dict[str, Playbook] = {}
    faqs: list[Faq] = []
    rules: list[Rule] = []
    for folder in ("playbooks", "faqs", "rules"):
        for path in _yaml_files(root, folder):
            rel = str(path.relative_to(root.parent)) if root.parent != path else str(path)
            digest.update(path.name.encode() + path.read_bytes())
            doc = _parse_file(path, rel, issues)
            if doc is None:
                continue
            if folder == "playbooks":
                pb = _read_playbook(doc, rel, issues)
                if pb is None:
                    continue
                if pb.id in playbooks:
                    issues.append(KBIssue(rel, getattr(doc, "line", 1), f"duplicate playbook id '{pb.id}' (also in {playbooks[pb.id].file})"))
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
        issues.append(KBIssue(str(root / "playbooks"), 0, "no playbooks found"))
    _check_ids(faqs, "FAQ", issues)
    _check_ids(rules, "rule", issues)
    for f in faqs:
        for p in f.playbooks:
            if p not in playbooks:
                issues.append(KBIssue(f.file, f.line, f"FAQ '{f.id}' names unknown playbook '{p}'"))
    kb = KnowledgeBase(playbooks=playbooks, faqs=tuple(faqs), rules=tuple(rules),
                       version=digest.hexdigest()[:12], root=str(root),
                       synonyms=synonyms, default_playbook=default_playbook,
                       compliant_lines=compliant_lines, out_of_scope=out_of_scope)
    return kb, issues


def _read_lexicon(root: Path, digest, issues: list[KBIssue]) -> tuple[tuple[str, ...], ...]:
    """``lexicon.yaml``: ``synonyms:`` a list of word groups (optional file)."""
    path = root / "lexicon.yaml"
    if not path.is_file():
        return ()
    rel = str(path.relative_to(root.parent))
    digest.update(path.name.encode() + path.read_bytes())
    doc = _parse_file(path, rel, issues)
    if doc is None:
        return ()
    groups = doc.get("synonyms") if isinstance(doc, dict) else None
    if not isinstance(groups, list):
        issues.append(KBIssue(rel, getattr(doc, "line", 1), "lexicon.yaml must have a top-level 'synonyms:' list of word lists"))
        return ()
    out = []
    for n, g in enumerate(groups, start=1):
        if not isinstance(g, list) or len(g) < 2 or not all(isinstance(w, str) and w.strip() for w in g):
            issues.append(KBIssue(rel, getattr(doc, "line", 1), f"synonym group {n} must be a list of at least two words"))
            continue
        out.append(tuple(w.strip() for w in g))
    return tuple(out)


def _read_compliant_lines(root: Path, digest, issues: list[KBIssue]) -> tuple[str, ...]:
    """``compliant_lines.yaml``: ``lines:`` ordinary agent lines (optional file)."""
    path = root / "compliant_lines.yaml"
    if not path.is_file():
        return ()
    rel = str(path.relative_to(root.parent))
    digest.update(path.name.encode() + path.read_bytes())
    doc = _parse_file(path, rel, issues)
    if doc is None:
        return ()
    lines = doc.get("lines") if isinstance(doc, dict) else None
    if not isinstance(lines, list) or not all(isinstance(t, str) and t.strip() for t in lines):
        issues.append(KBIssue(rel, getattr(doc, "line", 1), "compliant_lines.yaml must have a top-level 'lines:' list of sentences"))
        return ()
    return tuple(t.strip() for t in lines)


def _read_out_of_scope(root: Path, digest, issues: list[KBIssue]) -> tuple[str, ...]:
    """``out_of_scope.yaml``: ``examples:`` things customers say that need no card (optional file)."""
    path = root / "out_of_scope.yaml"
    if not path.is_file():
        return ()
    rel = str(path.relative_to(root.parent))
    digest.update(path.name.encode() + path.read_bytes())
    doc = _parse_file(path, rel, issues)
    if doc is None:
        return ()
    examples = doc.get("examples") if isinstance(doc, dict) else None
    if not isinstance(examples, list):
        issues.append(KBIssue(rel, getattr(doc, "line", 1), "out_of_scope.yaml must have a top-level 'examples:' list of sentences"))
        return ()
    out = []
    for n, e in enumerate(examples, start=1):
        if not isinstance(e, str) or not e.strip():
            issues.append(KBIssue(rel, getattr(doc, "line", 1), f"out-of-scope example {n} must be a non-empty sentence"))
            continue
        out.append(e.strip())
    return tuple(out)


def _read_settings(root: Path, digest, issues: list[KBIssue], playbooks: dict) -> str | None:
    """``settings.yaml``: ``default_playbook`` (optional file)."""
    path = root / "settings.yaml"
    if not path.is_file():
        return None
    rel = str(path.relative_to(root.parent))
    digest.update(path.name.encode() + path.read_bytes())
    doc = _parse_file(path, rel, issues)
    if not isinstance(doc, dict):
        return None
    default = doc.get("default_playbook")
    if default is not None and default not in playbooks:
        issues.append(KBIssue(rel, getattr(doc, "line", 1), f"default_playbook names unknown playbook '{default}'"))
        return None
    return default


def _check_ids(items, what: str, issues: list[KBIssue]) -> None:
    first: dict[str, Any] = {}
    for item in items:
        if item.id in first:
            other = first[item.id]
            issues.append(KBIssue(item.file, item.line, f"duplicate {what} id '{item.id}' (first at {other.file}:{other.line})"))
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
