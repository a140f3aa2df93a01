"""Search by hand over a small fixture KB: pinyin with every reading, whole syllables, initials, mixed."""
import pytest

from assist.knowledge.model import Faq, KnowledgeBase, Playbook, Rule, ScriptLine, Stage
from assist.knowledge.search import KbSearch


def _kb(extra_faqs=()):
    faqs = (
        Faq("f.repay", "我这个月还款有困难怎么办", "可以申请分次还款。", ("钱不够还", "手头紧还不上"), ("还款",)),
        Faq("f.bank", "可以去银行柜台办理吗", "可以在任意网点办理。", ("去营业厅办行不行",), ("渠道",)),
        Faq("f.refuse", "我就是不还你能怎样", "逾期会如实上报征信。", ("没钱不还",), ()),
        Faq("f.extend", "展期以后要多付多少钱", "只收一次手续费。", ("延期要钱吗",), ("展期",)),
        Faq("f.credit", "会不会影响征信", "按时还清不会留下记录。", ("上不上黑名单",), ("征信",)),
        Faq("f.other", "你们公司在哪里", "在总部大楼。", (), ()),
        *extra_faqs,
    )
    rules = (Rule("r.police", "critical", "冒充公安或法院", "请说明自己是公司的催收专员。", "《催收培训手册》",
                  triggers=("我是派出所的", "我们是法院的"), passes=("我们不是法院的",)),)
    pb = Playbook("p", "外呼话术", "《长江分期展期协商话术》",
                  (Stage(1, "s1", "身份确认", (ScriptLine("l1", "您好，请问是张先生吗"),)),))
    return KnowledgeBase({"p": pb}, faqs, rules, version="t")


@pytest.fixture(scope="module")
def search():
    return KbSearch(_kb())


def first_id(search, q, **kw):
    hits = search.search(q, **kw)
    assert hits, q
    return hits[0].id


@pytest.mark.parametrize("query,expected", [
    ("huankuan", "f.repay"),   # 还 read huan (also hai)
    ("yinhang", "f.bank"),     # 行 read hang (also xing)
    ("buhuan", "f.refuse"),
    ("zhanqi", "f.extend"),
    ("hk", "f.repay"),         # initials
    ("征xin", "f.credit"),     # mixed characters and pinyin
    ("zhengxin", "f.credit"),
    ("争信", "f.credit"),      # typed with a homophone
    ("huank", "f.repay"),      # the last syllable still being typed
    ("HuanKuan", "f.repay"),   # case and spaces do not matter
    ("huan kuan", "f.repay"),
])
def test_query_finds_expected_entry_first(search, query, expected):
    assert first_id(search, query) == expected


def test_polyphone_other_reading_counts(search):
    assert "f.bank" in [h.id for h in search.search("xingbuxing")]  # 行不行 in a paraphrase


def test_pinyin_is_whole_syllables(search):
    # "an" is inside "huan" but no character reads "an" here: whole words only.
    assert [h for h in search.search("an") if h.id == "f.repay"] == []


def test_characters_rank_above_pinyin_and_answers_below_questions():
    kb = _kb((Faq("f.answer_only", "别的问题", "这里的答案提到还款。"),))
    hits = KbSearch(kb).search("还款")
    ids = [h.id for h in hits]
    assert ids.index("f.repay") < ids.index("f.answer_only")


def test_rules_are_searchable_by_title_and_examples(search):
    assert first_id(search, "派出所") == "r.police"
    assert first_id(search, "gongan") == "r.police"
    assert [h.kind for h in search.search("冒充公安")][0] == "rule"
    assert all(h.kind == "rule" for h in search.search("", kinds=("rule",)))


def test_no_cap_on_results():
    many = tuple(Faq(f"x{i}", f"第{i}个关于还款的问题", "答案") for i in range(300))
    s = KbSearch(_kb(many))
    assert len(s.search("huankuan")) >= 301
    assert len(s.search("")) == 6 + 300 + 1 + 1


@pytest.mark.parametrize("query", ["a", "h", "x", "😀", "😀😀😀", "?", "ｈｕａｎ", "1", "\u3000", "a" * 200, "还" * 300])
def test_odd_queries_return(search, query):
    hits = search.search(query)
    assert isinstance(hits, list)


def test_full_width_letters_are_pinyin(search):
    assert first_id(search, "ｈｕａｎｋｕａｎ") == "f.repay"


def test_filters(search):
    assert all(h.kind == "faq" for h in search.search("huan", kinds=("faq",)))
    assert {h.id for h in search.search("", tag="征信")} == {"f.credit"}


def test_characters_find_exactly_the_entries_containing_them():
    """The position index agrees with a plain substring scan of every field group, and a pinyin
    query finds every entry whose characters can be read that way."""
    many = tuple(Faq(f"x{i}", f"第{i}个问题{'还款' if i % 3 == 0 else '还是'}", "答案" + ("款项" if i % 5 == 0 else ""),
                     (f"说法{i}还{'款' if i % 7 == 0 else ''}",)) for i in range(60))
    kb = _kb(many)
    s = KbSearch(kb)
    fields = {"title": lambda f: [f.question], "alt": lambda f: list(f.paraphrases), "body": lambda f: [f.answer]}
    faq_at = {i: e.id for i, e in enumerate(s.entries) if e.kind == "faq"}
    for group, texts in fields.items():
        for query in ("还款", "款", "问题还", "还", "个问题还是"):
            want = {f.id for f in kb.faqs if any(query in t for t in texts(f))}
            got = {faq_at[i] for i in s.groups[group].match(tuple("=" + c for c in query)).tolist() if i in faq_at}
            assert got == want, (group, query)
    by_pinyin = {h.id for h in s.search("huankuan", kinds=("faq",))}
    assert {f.id for f in kb.faqs if "还款" in f.question + f.answer + "".join(f.paraphrases)} <= by_pinyin
