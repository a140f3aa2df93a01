"""The embedding cache (restart encodes nothing, an edit encodes only the change, damage
means rebuild, several processes at once) and the vector index (exact per-group search)."""
import subprocess
import sys
import textwrap

import numpy as np

from assist.semantics import CachedEncoder, EmbeddingCache, VectorIndex


def test_unchanged_texts_are_not_encoded_again(tmp_path, counting):
    path = tmp_path / "e.sqlite3"
    texts = ["车贷什么时候到期", "定位器能拆吗", "保险在哪买"]
    first = CachedEncoder(counting, EmbeddingCache(path)).encode(texts)
    assert counting.count == 3
    again = CachedEncoder(counting, EmbeddingCache(path)).encode(texts)  # a restart: a new cache object
    assert counting.count == 3
    np.testing.assert_array_equal(first, again)
    CachedEncoder(counting, EmbeddingCache(path)).encode(texts[:2] + ["保险能自己买吗"])  # one text edited
    assert counting.count == 4


def test_vectors_of_another_model_are_not_reused(tmp_path, counting):
    path = tmp_path / "e.sqlite3"
    CachedEncoder(counting, EmbeddingCache(path)).encode(["月供哪天扣"])
    other = type(counting)(model_id="fake:2")
    CachedEncoder(other, EmbeddingCache(path)).encode(["月供哪天扣"])
    assert other.count == 1


def test_progress_reports_only_texts_to_encode(tmp_path, counting):
    path = tmp_path / "e.sqlite3"
    CachedEncoder(counting, EmbeddingCache(path)).encode(["一", "二"])
    seen = []
    CachedEncoder(counting, EmbeddingCache(path)).encode(["一", "二", "三", "三"], progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 1) and seen[-1] == (1, 1)


def test_corrupt_cache_file_is_rebuilt_not_fatal(tmp_path, counting):
    path = tmp_path / "e.sqlite3"
    CachedEncoder(counting, EmbeddingCache(path)).encode(["一句话"])
    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"e.sqlite3{suffix}").unlink(missing_ok=True)
    enc = CachedEncoder(counting, EmbeddingCache(path))
    v = enc.encode(["一句话"])
    assert v.shape == (1, counting.dim) and enc.encoded == 1
    assert list(tmp_path.glob("e.sqlite3.broken-*"))  # set aside, not deleted
    CachedEncoder(counting, EmbeddingCache(path)).encode(["一句话"])
    assert counting.count == 2  # the rebuilt cache works


def test_unwritable_cache_dir_means_no_cache_not_a_crash(tmp_path, counting):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    enc = CachedEncoder(counting, EmbeddingCache(blocker / "sub" / "e.sqlite3"))  # parent is a file
    assert enc.encode(["还能用"]).shape == (1, counting.dim)


def test_several_processes_fill_one_cache_at_once(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path.parent)!r})
        import numpy as np
        from assist.semantics import CachedEncoder, EmbeddingCache
        class E:
            model_id, dim = "fake:p", 8
            def encode(self, texts):
                return np.ones((len(texts), 8), dtype=np.float32) / np.sqrt(8)
        enc = CachedEncoder(E(), EmbeddingCache({str(tmp_path / "e.sqlite3")!r}))
        for r in range(20):
            enc.encode([f"{{sys.argv[1]}}-{{r}}-{{i}}" for i in range(50)] + [f"shared-{{i}}" for i in range(50)])
        print("ok")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "ok", err
        assert "cache" not in err  # no write was lost to a lock


def test_group_best_matches_brute_force():
    rng = np.random.default_rng(1)
    v = rng.standard_normal((200, 12)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    groups = rng.integers(0, 30, 200)
    groups[groups == 7] = 8  # group 7 has no rows
    index = VectorIndex(v, groups, n_groups=30)
    q = v[5]
    best, row = index.group_best(q)
    s = v @ q
    for g in range(30):
        rows = np.flatnonzero(groups == g)
        if not len(rows):
            assert best[g] == -1 and row[g] == -1
            continue
        assert np.isclose(best[g], s[rows].max())
        assert row[g] in rows and np.isclose(s[row[g]], best[g])
    assert index.nearest(q, 3)[0] == (5, float(s[5])) or index.nearest(q, 3)[0][0] == 5
    np.testing.assert_allclose(index.scores(q), s, rtol=1e-6)
    assert index.nbytes <= len(v) * (12 * 4 + 16)


def test_group_best_names_the_first_of_tied_rows():
    """Two phrasings with the same vector (a KB that repeats itself): the earlier one is named,
    whether the rows come in group order (the KB's phrasings do) or not."""
    rng = np.random.default_rng(2)
    v = rng.standard_normal((9, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[6] = v[4]
    for groups in ([0, 0, 1, 1, 2, 2, 2, 3, 3], [3, 0, 1, 0, 2, 1, 2, 3, 2]):
        best, row = VectorIndex(v, groups, n_groups=4).group_best(v[4])
        assert row[2] == 4 and np.isclose(best[2], 1.0)
        s = v @ v[4]
        for g in range(4):
            rows = [i for i, x in enumerate(groups) if x == g]
            assert row[g] == min(i for i in rows if np.isclose(s[i], s[rows].max()))


def test_a_large_list_is_read_back_by_one_scan_of_its_model(tmp_path, counting):
    """Thousands of texts without a snapshot (first start after an upgrade, snapshot lost):
    read back from SQLite in one pass over the model's rows, other models' rows ignored."""
    import shutil

    from assist.semantics.cache import _SCAN_FROM
    from assist.semantics.snapshot import FOLDER

    path = tmp_path / "e.sqlite3"
    texts = [f"第{i}个问题" for i in range(_SCAN_FROM + 50)]
    other = type(counting)(model_id="fake:other")
    CachedEncoder(other, EmbeddingCache(path)).encode(texts[:100])  # same texts, another model
    first = CachedEncoder(counting, EmbeddingCache(path)).encode(texts)
    shutil.rmtree(tmp_path / FOLDER)
    enc = CachedEncoder(counting, EmbeddingCache(path))
    again = enc.encode(texts + ["一个新问题"])
    assert enc.encoded == 1 and enc.from_snapshot == 0
    np.testing.assert_array_equal(first, again[:-1])
