"""The database driver: SQLCipher (sqlcipher3) for encrypted stores, with sqlite3's API.

sqlcipher3 is a fork of the standard library's sqlite3 module linked against
SQLCipher; its exception classes are *not* subclasses of sqlite3's, so code in
the store catches the tuples below (``DatabaseError``, ``OperationalError``),
which cover both (plaintext files from earlier versions are read with sqlite3
once, to migrate them). ``Row`` is sqlcipher3's row class (sqlite3.Row does not
work on its cursors). Any thread.
"""
from __future__ import annotations

import sqlite3

from sqlcipher3 import dbapi2 as sqlcipher

Row = sqlcipher.Row
connect_encrypted = sqlcipher.connect
#: catch these, not sqlite3's own: they cover both drivers
DatabaseError = (sqlite3.DatabaseError, sqlcipher.DatabaseError)
OperationalError = (sqlite3.OperationalError, sqlcipher.OperationalError)
IntegrityError = (sqlite3.IntegrityError, sqlcipher.IntegrityError)
ProgrammingError = (sqlite3.ProgrammingError, sqlcipher.ProgrammingError)
# what a bad value (lone surrogate, a string the driver cannot bind) raises on insert
BadValue = (UnicodeEncodeError, ValueError, OverflowError, sqlite3.InterfaceError, sqlcipher.InterfaceError)


def is_busy(error: BaseException) -> bool:
    """Another connection holds the lock: wait and retry (the file itself is fine)."""
    text = str(error).lower()
    return "locked" in text or "busy" in text


def is_not_a_database(error: BaseException) -> bool:
    """SQLITE_NOTADB: wrong key, an encrypted file read without one, or not a database at all."""
    return "not a database" in str(error).lower() or "encrypted" in str(error).lower()
