"""Recovery when an interior b-tree page of a big table is damaged (issue 11, honest limit).

``assist sessions recover`` reads by rowid ranges through the table's b-tree. A damaged
*interior* page hides every row below it: those rows are reported as not readable (no tool
available to us can read leaf pages around it, see recover.py), while every row under the
intact part of the tree is saved and the command ends with its Chinese report, no traceback.

To aim at an interior page the test decrypts pages of its own file (SQLCipher 4: AES-256-CBC,
raw key, per-page IV at the start of the reserved bytes; the store's format, connection.CURRENT:
2 KB pages, 16-byte IV + 32-byte HMAC-SHA256 reserved) with ``cryptography`` and walks the b-tree
from the table's root page.
"""
from __future__ import annotations

import struct

from assist.cli import main
from assist.store import open_store
from assist.store.connection import CURRENT
from assist.store.keys import load_keys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE, RESERVE = CURRENT.page_size, 16 + 32  # 16-byte IV + 32-byte HMAC-SHA256 at each page's end
assert CURRENT.hmac == "HMAC_SHA256"


def _page(data: bytes, n: int, key: str) -> bytes:
    """Page ``n`` (1-based) decrypted, offsets as in a plain SQLite page."""
    raw = data[(n - 1) * PAGE:n * PAGE]
    skip = 16 if n == 1 else 0  # page 1 starts with the salt instead of the header string
    iv = raw[PAGE - RESERVE:PAGE - RESERVE + 16]
    dec = Cipher(algorithms.AES(bytes.fromhex(key)), modes.CBC(iv)).decryptor()
    return bytes(skip) + dec.update(raw[skip:PAGE - RESERVE]) + dec.finalize()


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        b = buf[at + i]
        if i == 8:
            return (value << 8) | b, at + 9
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, at + i + 1
    raise AssertionError


def _children(page: bytes, n: int) -> list[tuple[int, int | None]]:
    """(child page, largest rowid under it; None for the right-most) of an interior table page."""
    h = 100 if n == 1 else 0
    assert page[h] == 0x05, f"page {n} is not an interior table page"
    cells, right = struct.unpack(">H", page[h + 3:h + 5])[0], struct.unpack(">I", page[h + 8:h + 12])[0]
    out: list[tuple[int, int | None]] = []
    for i in range(cells):
        at = struct.unpack(">H", page[h + 12 + 2 * i:h + 14 + 2 * i])[0]
        child = struct.unpack(">I", page[at:at + 4])[0]
        out.append((child, _varint(page, at + 4)[0]))
    return out + [(right, None)]


def test_rows_under_a_damaged_interior_page_are_reported_the_rest_saved(tmp_path, ev, capsys):
    db = tmp_path / "old" / "sessions.db"
    text = "客户说我现在手头确实很紧张，下个月发了工资一定先还一部分" * 17  # ~1.5 KB: one row a leaf page
    with open_store(db) as store:
        store.begin_session(ev.started("big1"))
        rows = [("big1", "customer", f"{i:05d} {text}", float(i), i + 1.0, 0.9, f"s{i}", ev.T0 + i, f"bulk-{i}", 0)
                for i in range(1300)]
        store._write(lambda d: d.conn.executemany(
            "INSERT INTO utterances (session_id, speaker, text, start_s, end_s, confidence, segment, recorded_at,"
            " write_key, sanitised) VALUES (?,?,?,?,?,?,?,?,?,?)", rows))
        root = store.db.execute("SELECT rootpage FROM sqlite_master WHERE name='utterances'").fetchone()[0]
        ids = [r[0] for r in store.db.execute("SELECT id FROM utterances ORDER BY id")]
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    key = load_keys().current
    data = bytearray(db.read_bytes())
    top = _children(_page(data, root, key), root)
    assert len(top) >= 2, "the table must be three levels deep for this test"
    (victim, upto) = top[0]  # the left-most interior page: max(rowid) still reads along the right edge
    _children(_page(data, victim, key), victim)  # it is an interior page itself
    under = sum(1 for i in ids if i <= upto)
    data[(victim - 1) * PAGE:victim * PAGE] = b"\x5a" * PAGE
    damaged = db.with_name("sessions.db.corrupt-20261128T000000Z")
    damaged.write_bytes(bytes(data))

    new = tmp_path / "new" / "sessions.db"
    code = main(["sessions", "--db", str(new), "recover", str(damaged)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    assert f"文字记录：救回 {len(ids) - under} 条，{under} 条无法读出" in out, out
    with open_store(new) as store:
        texts = [u["text"] for u in store.utterances("big1")]
        assert len(texts) == len(ids) - under
        assert texts[0].startswith(f"{under:05d} ")  # everything right of the damaged subtree, in order
        assert store.audit_entries()[0]["action"] == "recover"
