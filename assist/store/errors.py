"""The store's own error: something the user can act on (bad id, unusable file)."""
from __future__ import annotations

from assist.errors import AssistError


class StoreError(AssistError):
    """A session-store problem worth showing to the user as is (no traceback)."""
