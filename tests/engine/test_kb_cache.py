"""The parsed KB and the compiled indexes are cached by content; the last good KB survives a bad edit."""
import os
import pickle
import shutil

import pytest

from assist.engine import AssistEngine, index_cache
from assist.events import Utterance
from assist.knowledge import KBError, default_kb_dir, kb_cache, load_kb
from assist.knowledge.loader import MAX_FILE_BYTES


def _copy(tmp_path):
    dst = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), dst)
    return dst


def test_unchanged_kb_comes_from_the_cache_and_an_edit_misses_it(tmp_path):
    kb_dir = _copy(tmp_path)
    first = load_kb(kb_dir)
    again = load_kb(kb_dir)
    assert again == first and again is not first  # a fresh unpickled copy, equal in every field
    assert kb_cache.lookup(kb_dir) == first and kb_cache.cached(kb_dir)
    f = kb_dir / "faqs" / "changjiang_extension.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("申请展期后征信会受影响吗？", "展期以后征信会受影响吗？"),
                 encoding="utf-8")
    assert kb_cache.lookup(kb_dir) is None and not kb_cache.cached(kb_dir)
    edited = load_kb(kb_dir)
    assert edited.faq("cj.credit_impact").question == "展期以后征信会受影响吗？"


def test_last_good_kb_is_kept_per_folder(tmp_path):
    kb_dir = _copy(tmp_path)
    good = load_kb(kb_dir)
    (kb_dir / "rules" / "broken.yaml").write_text("rules: [", encoding="utf-8")
    assert kb_cache.last_good(kb_dir) == good
    assert kb_cache.last_good(tmp_path / "elsewhere") is None


def test_a_damaged_cache_file_is_ignored(tmp_path):
    kb_dir = _copy(tmp_path)
    load_kb(kb_dir)
    digest = kb_cache.content_hash(kb_dir)
    (kb_cache._dir() / f"{digest}.pickle").write_bytes(b"not a pickle")
    assert kb_cache.lookup(kb_dir) is None
    assert load_kb(kb_dir).faqs  # parsed again and re-cached
    assert kb_cache.lookup(kb_dir) is not None


def test_a_cached_index_answers_exactly_like_a_fresh_one(tmp_path):
    kb = load_kb()
    index_cache.clear_memory()
    fresh = AssistEngine(kb)  # from disk or built
    for p in index_cache._dir().glob("*.pickle"):
        p.unlink()
    index_cache.clear_memory()
    built = AssistEngine(kb)  # certainly built
    index_cache.clear_memory()
    from_disk = AssistEngine(kb)  # certainly read back from disk
    for text in ("展期以后会不会影响我的争信", "手续费 要 多少 钱", "我 现在 在 外地 出差"):
        a, b, c = (e.process(Utterance("customer", text)) for e in (fresh, built, from_disk))
        assert [(h.faq_id, round(h.score, 9)) for h in a.faq] == [(h.faq_id, round(h.score, 9)) for h in b.faq] \
            == [(h.faq_id, round(h.score, 9)) for h in c.faq]
    assert any(index_cache._dir().glob("*.pickle"))
    blob = next(index_cache._dir().glob("*.pickle")).read_bytes()
    assert isinstance(index_cache._unpack(pickle.loads(blob)), dict)


def _symlink_loop(kb_dir):
    os.symlink(kb_dir / "faqs" / "loop.yaml", kb_dir / "faqs" / "loop.yaml")


def _dangling_link(kb_dir):
    os.symlink(kb_dir / "gone.yaml", kb_dir / "rules" / "gone.yaml")


def _folder_named_yaml(kb_dir):
    (kb_dir / "rules" / "folder.yaml").mkdir()


def _lexicon_loop(kb_dir):
    (kb_dir / "lexicon.yaml").unlink()
    os.symlink(kb_dir / "lexicon.yaml", kb_dir / "lexicon.yaml")


def _oversized(kb_dir):
    with open(kb_dir / "faqs" / "big.yaml", "w", encoding="utf-8") as f:
        f.write("faqs:\n# " + "x" * (MAX_FILE_BYTES + 10) + "\n")


def _broken_compliant_lines(kb_dir):
    (kb_dir / "compliant_lines.yaml").write_text("lines: [", encoding="utf-8")


def _broken_out_of_scope(kb_dir):
    (kb_dir / "out_of_scope.yaml").write_text("examples: 不是列表\n", encoding="utf-8")


def _rules_folder_gone(kb_dir):
    shutil.rmtree(kb_dir / "rules")


@pytest.mark.parametrize("edit, words", [
    (_symlink_loop, "循环"), (_dangling_link, "循环"), (_folder_named_yaml, "不是普通文件"), (_lexicon_loop, "循环"),
    (_oversized, "文件太大"), (_broken_compliant_lines, "compliant_lines.yaml"),
    (_broken_out_of_scope, "out_of_scope.yaml"), (_rules_folder_gone, "缺少 rules/"),
])
def test_what_the_loader_refuses_is_never_served_from_the_cache(tmp_path, edit, words):
    kb_dir = _copy(tmp_path)
    good = load_kb(kb_dir)
    assert kb_cache.lookup(kb_dir) == good  # cached
    edit(kb_dir)
    assert kb_cache.lookup(kb_dir) is None
    with pytest.raises(KBError) as e:
        load_kb(kb_dir)
    assert words in str(e.value)
    assert kb_cache.last_good(kb_dir) == good  # the panel may still open with the last good one


def test_an_edit_to_an_optional_file_is_seen(tmp_path):
    kb_dir = _copy(tmp_path)
    load_kb(kb_dir)
    (kb_dir / "out_of_scope.yaml").write_text("examples: [今天天气不错]\n", encoding="utf-8")
    assert load_kb(kb_dir).out_of_scope == ("今天天气不错",)


def test_other_checking_code_checks_again(tmp_path, monkeypatch):
    kb_dir = _copy(tmp_path)
    load_kb(kb_dir)
    before = kb_cache.content_hash(kb_dir)
    monkeypatch.setattr(kb_cache, "_checker_fingerprint", lambda: "another-loader")
    assert kb_cache.content_hash(kb_dir) != before and kb_cache.lookup(kb_dir) is None
