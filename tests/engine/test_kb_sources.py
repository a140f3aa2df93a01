"""The shipped KB names its sources by document title, never by file, id or editor's remark."""
import re

import pytest

from assist.knowledge import load_kb
from assist.knowledge.citation import document_titles, short_citation

DOCUMENTS = {"《长江分期展期协商话术》", "《催收培训手册》", "《来分期协商还款指南》", "《信用卡逾期催收话术与规范》",
             "《互联网金融逾期债务催收自律公约（试行）》",
             # the 2025–2026 collection guidelines (issue 13): the banking association's and the national standard
             "《金融机构个人消费类贷款催收工作指引（试行）》", "《互联网消费信贷贷后催收风险控制指引》"}


def _sources():
    kb = load_kb()
    yield from ((f"playbook {p.id}", p.source) for p in kb.playbooks.values())
    yield from ((f"faq {f.id}", f.source) for f in kb.faqs)
    yield from ((f"rule {r.id}", r.source) for r in kb.rules)


@pytest.mark.parametrize("where,source", list(_sources()))
def test_every_source_cites_known_documents_by_title(where, source):
    titles = document_titles(source)
    assert titles, f"{where}: source names no 《document》: {source!r}"
    assert set(titles) <= DOCUMENTS, f"{where}: unknown document {set(titles) - DOCUMENTS}"
    assert source.lstrip().startswith("《"), where
    assert "seed" not in source.lower(), where
    assert not re.search(r"\b\d{3}_[0-9a-f]+|\.txt|\.ya?ml", source), where


def test_short_citation_names_documents_only():
    src = "《催收培训手册》 § 第二章（自称“司法部”）、注意事项 e；《互联网金融逾期债务催收自律公约（试行）》"
    assert short_citation(src) == "《催收培训手册》《互联网金融逾期债务催收自律公约（试行）》"
    assert document_titles("《甲》 § 一；《乙》；《甲》 § 二") == ("《甲》", "《乙》")
    assert short_citation("") == ""
