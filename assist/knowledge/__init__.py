"""The knowledge base: playbooks (call scripts), FAQs and compliance rules, from ``kb/``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from assist.lazy_names import lazy_names

if TYPE_CHECKING:
    from assist.knowledge.loader import KBError, KBIssue, collect_issues, default_kb_dir, load_kb
    from assist.knowledge.model import Faq, KnowledgeBase, Playbook, Rule, RuleMatch, ScriptLine, Stage

__all__ = [
    "KBError", "KBIssue", "collect_issues", "default_kb_dir", "load_kb",
    "Faq", "KnowledgeBase", "Playbook", "Rule", "RuleMatch", "ScriptLine", "Stage",
]

# The public names load on first use (PEP 562): the panel needs the model's classes to paint,
# not the YAML loader and its pattern compiler, which the KB watcher imports on its worker.
_HOME = {**dict.fromkeys(("KBError", "KBIssue", "collect_issues", "default_kb_dir", "load_kb"), "loader"),
         **dict.fromkeys(("Faq", "KnowledgeBase", "Playbook", "Rule", "RuleMatch", "ScriptLine", "Stage"), "model")}

__getattr__ = lazy_names(__name__, _HOME)
