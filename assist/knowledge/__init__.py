"""The knowledge base: playbooks (call scripts), FAQs and compliance rules, from ``kb/``."""
from assist.knowledge.loader import KBError, KBIssue, collect_issues, default_kb_dir, load_kb
from assist.knowledge.model import Faq, KnowledgeBase, Playbook, Rule, RuleMatch, ScriptLine, Stage

__all__ = [
    "KBError", "KBIssue", "collect_issues", "default_kb_dir", "load_kb",
    "Faq", "KnowledgeBase", "Playbook", "Rule", "RuleMatch", "ScriptLine", "Stage",
]
