"""The store's own errors: something the user can act on (bad id, unusable file), or one write set aside."""
from __future__ import annotations

from assist.errors import AssistError


class StoreError(AssistError):
    """A session-store problem worth showing to the user as is (no traceback)."""


class SetAside(Exception):
    """One write the database refuses even sanitised; the recorder keeps it in the journal with this reason."""
