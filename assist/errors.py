"""The one family of errors a user sees: ``AssistError(message, fix)``, in Chinese.

Every problem that reaches an agent or a team lead (a broken knowledge base, a
missing speech model, an unusable device, an unreadable settings file) is an
``AssistError`` or a subclass: ``message`` says what is wrong and where,
``fix`` says what to do. The CLI prints both and exits 2; the panel shows them
as a banner. Bottom of the house: imports nothing of ours. Any thread.
"""
from __future__ import annotations


class AssistError(Exception):
    """A problem the user can act on: ``message`` (what and where) and ``fix`` (what to do)."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(f"{message}（{fix}）" if fix else message)
        self.message = message
        self.fix = fix

    def for_user(self) -> str:
        """Message and fix on two lines, as the CLI prints them."""
        return f"{self.message}\n处理办法：{self.fix}" if self.fix else self.message
