"""The parsed KB and the compiled indexes are cached by content; the last good KB survives a bad edit."""
import pickle
import shutil

from assist.engine import AssistEngine, index_cache
from assist.events import Utterance
from assist.knowledge import default_kb_dir, kb_cache, load_kb


def _copy(tmp_path):
    dst = tmp_path / "kb"
    shutil.copytree(default_kb_dir(), dst)
    return dst


def test_unchanged_kb_comes_from_the_cache_and_an_edit_misses_it(tmp_path):
    kb_dir = _copy(tmp_path)
    first = load_kb(kb_dir)
    again = load_kb(kb_dir)
    assert again == first and again is not first  # a fresh unpickled copy, equal in every field
    assert kb_cache.lookup(kb_dir) == first
    f = kb_dir / "faqs" / "changjiang_extension.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("申请展期后征信会受影响吗？", "展期以后征信会受影响吗？"),
                 encoding="utf-8")
    assert kb_cache.lookup(kb_dir) is None
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
