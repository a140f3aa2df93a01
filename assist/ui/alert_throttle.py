"""Alert throttling: the same compliance rule pops up at most once per N seconds of call.

An agent who repeats a phrase should not be buried under identical red banners;
the repeats are still counted (and still recorded by the store, which sees every
warning). Time is call time (the utterance's start), so a replayed call
throttles like a live one. Qt-free, GUI thread in practice.
"""
from __future__ import annotations


class AlertThrottle:
    def __init__(self, every_s: float = 30.0):
        self.every_s = every_s
        self._last_shown: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def allow(self, rule_id: str, at: float) -> bool:
        """Count one occurrence of ``rule_id`` at ``at`` seconds; True if it may pop up now."""
        self._counts[rule_id] = self._counts.get(rule_id, 0) + 1
        last = self._last_shown.get(rule_id)
        if last is not None and 0 <= at - last < self.every_s:
            return False
        self._last_shown[rule_id] = at
        return True

    def count(self, rule_id: str) -> int:
        """How many times the rule fired in this call so far (shown or not)."""
        return self._counts.get(rule_id, 0)

    def forget(self, rule_id: str) -> None:
        """A shown warning was taken back (its partial was not confirmed): it neither counts
        nor holds back the rule's next real warning."""
        self._last_shown.pop(rule_id, None)
        if self._counts.get(rule_id, 0) > 0:
            self._counts[rule_id] -= 1

    def clear(self) -> None:
        self._last_shown.clear()
        self._counts.clear()
