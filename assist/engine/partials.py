"""Acting on partial results: what a half-heard sentence may put on the panel, and when.

The recognizer sends a growing partial text several times a second before the
final text of a sentence. Waiting for the final costs the agent the endpointer's
trailing silence plus the recognizer's look-ahead; acting on every partial makes
cards flicker and warnings fire on words the recognizer revises a moment later.
``PartialStabiliser`` sits between the engine and the bus and decides:

- **which partials are evaluated at all** (``admit``): unchanged text is skipped
  (except once per sentence when it comes again at least ``HELD_AFTER`` later in
  the audio: the recognizer's *held* partial, the speaker paused and the words
  stayed; it counts as one more agreeing evaluation),
  and each speaker gets at most ``MAX_EVALS_PER_SECOND`` evaluations a second
  (wall clock), a hard cap whatever a recognizer or a replay sends; finals always
  pass, so nothing said is lost;
- **which FAQ card a partial may show** (``settle``): the same FAQ on top over
  ``STABLE_PARTIALS`` consecutive evaluated partials, ahead of the runner-up by
  ``MARGIN``; at most one card per sentence from partials (a sentence never swaps
  cards before its final), and at most one new partial card per speaker every
  ``CARD_GAP_SECONDS`` (no card storms on line noise). The semantic layer is not
  consulted on partials: it costs tens of milliseconds a sentence with the other
  core busy, the lexical score is what a partial gets (the final may use more);
- **which warning a partial may raise**: a pattern span that is *complete* (the
  recognizer has already heard more after it, so it will not grow or be revised
  as the last word) or that *held* (the same rule at the same place in the
  previous evaluated partial);
- **what to take back**: when the final does not show the partial's card (or
  raise its warning), a ``CardWithdrawn`` follows the final's result, and
  ``stats.withdrawn`` counts it.

Runs on whatever thread calls ``Call.hear`` (a recognizer worker), under the
call's lock; not thread-safe on its own.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable

from assist.events import AssistResult, CardWithdrawn, FaqHit, Utterance
from assist.zh.text import compact

# The recognizer already sends at most ~5 partials a second per channel (its own
# throttle, in audio time); this is the hard cap for any other source.
MAX_EVALS_PER_SECOND = 8
# Two agreeing evaluations: one alone is too often a word the recognizer revises.
STABLE_PARTIALS = 2
# Over the runner-up FAQ's score: near-ties are what finals overturn.
MARGIN = 0.05
# One new card from partials per speaker per this many seconds (wall clock).
CARD_GAP_SECONDS = 1.0
# The same text this much later in the audio is the recognizer saying the words held.
HELD_AFTER = 0.15


@dataclass
class PartialStats:
    """Counters for the bench and the tests (read after the call)."""

    evaluated: int = 0
    skipped_unchanged: int = 0
    skipped_rate: int = 0
    faq_from_partial: int = 0
    warnings_from_partial: int = 0
    withdrawn: int = 0
    withdrawn_within_1s: int = 0
    withdrawn_events: list[CardWithdrawn] = field(default_factory=list)


@dataclass
class _Sentence:
    """What the partials of one segment have shown so far."""

    last_text: str = ""
    last_end: float | None = None  # audio position of the last evaluated partial
    held: bool = False  # the unchanged text was evaluated once more as held
    candidate: str = ""  # FAQ on top (with margin) in the last evaluated partial
    streak: int = 0
    shown_faq: str = ""
    shown_faq_at: float = 0.0  # call time (utterance end) when it was shown
    spans: dict[str, int] = field(default_factory=dict)  # rule -> span start, last evaluated partial
    fired: dict[str, float] = field(default_factory=dict)  # rule -> call time raised


class PartialStabiliser:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """A new call: forget every sentence and every counter."""
        self._sentences: dict[tuple[str, str], _Sentence] = {}
        self._evals: dict[str, deque[float]] = {}
        self._last_card: dict[str, float] = {}
        self.stats = PartialStats()

    # -- before the engine ---------------------------------------------------------------------
    def admit(self, utt: Utterance) -> bool:
        """Should the engine evaluate this utterance? Finals always; partials when new and under the cap."""
        if utt.final:
            return True
        key = (utt.speaker, utt.segment)
        text = compact(utt.text).text
        sentence = self._sentences.get(key)
        if sentence is not None and text == sentence.last_text:
            if (sentence.held or utt.end is None or sentence.last_end is None
                    or utt.end - sentence.last_end < HELD_AFTER):
                self.stats.skipped_unchanged += 1
                return False
            sentence.held = True  # evaluated once more below, as the held words
        now = self._clock()
        recent = self._evals.setdefault(utt.speaker, deque())
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= MAX_EVALS_PER_SECOND:
            self.stats.skipped_rate += 1
            return False
        recent.append(now)
        sentence = self._sentences.setdefault(key, _Sentence())
        if text != sentence.last_text:
            sentence.held = False
        sentence.last_text, sentence.last_end = text, utt.end
        self.stats.evaluated += 1
        return True

    # -- after the engine ----------------------------------------------------------------------
    def settle(self, result: AssistResult) -> tuple[AssistResult, tuple[CardWithdrawn, ...]]:
        """The result as the panel may show it, and any withdrawals the final causes."""
        utt = result.utterance
        key = (utt.speaker, utt.segment)
        if utt.final:
            sentence = self._sentences.pop(key, None)
            return result, self._reconcile(sentence, result)
        sentence = self._sentences.setdefault(key, _Sentence())
        faq = self._partial_faq(sentence, result)
        warnings = self._partial_warnings(sentence, result)
        if faq is result.faq and warnings is result.warnings:
            return result, ()
        return replace(result, faq=faq, warnings=warnings), ()

    def _partial_faq(self, sentence: _Sentence, result: AssistResult) -> tuple[FaqHit, ...]:
        hits = result.faq
        shown = [h for h in hits if h.shown]
        candidate = ""
        if shown:
            top = max(shown, key=lambda h: h.score)
            runner_up = max((h.score for h in hits if h.faq_id != top.faq_id), default=0.0)
            if top.score - runner_up >= MARGIN:
                candidate = top.faq_id
        if candidate and candidate == sentence.candidate:
            sentence.streak += 1
        else:
            sentence.candidate, sentence.streak = candidate, (1 if candidate else 0)
        allow = ""
        if candidate and sentence.shown_faq == candidate:
            allow = candidate  # keep showing what this sentence already shows
        elif candidate and not sentence.shown_faq and sentence.streak >= STABLE_PARTIALS:
            now = self._clock()
            if now - self._last_card.get(result.utterance.speaker, float("-inf")) >= CARD_GAP_SECONDS:
                allow = candidate
                sentence.shown_faq = candidate
                sentence.shown_faq_at = result.utterance.end or 0.0
                self._last_card[result.utterance.speaker] = now
                self.stats.faq_from_partial += 1
        if not shown or (len(shown) == 1 and shown[0].faq_id == allow):
            return hits
        return tuple(h if h.faq_id == allow or not h.shown else replace(h, shown=False) for h in hits)

    def _partial_warnings(self, sentence: _Sentence, result: AssistResult):
        utt = result.utterance
        kept = []
        for w in result.warnings:
            if w.rule_id in sentence.fired:
                kept.append(w)
                continue
            complete = bool(compact(utt.text[w.span[1]:]).text)  # the recognizer heard past the span
            held = sentence.spans.get(w.rule_id) == w.span[0]
            if complete or held:
                sentence.fired[w.rule_id] = utt.end or 0.0
                self.stats.warnings_from_partial += 1
                kept.append(w)
        sentence.spans = {w.rule_id: w.span[0] for w in result.warnings}
        return result.warnings if len(kept) == len(result.warnings) else tuple(kept)

    def _reconcile(self, sentence: _Sentence | None, final: AssistResult) -> tuple[CardWithdrawn, ...]:
        if sentence is None:
            return ()
        utt = final.utterance
        at = utt.end or 0.0
        out = []
        if sentence.shown_faq:
            shown = [h for h in final.faq if h.shown]
            final_top = max(shown, key=lambda h: h.score).faq_id if shown else ""
            if final_top != sentence.shown_faq:
                out.append(CardWithdrawn(utt.segment, utt.speaker, "faq", sentence.shown_faq, final_top,
                                         round(max(0.0, at - sentence.shown_faq_at), 3)))
        final_rules = {w.rule_id for w in final.warnings}
        for rule_id, fired_at in sentence.fired.items():
            if rule_id not in final_rules:
                out.append(CardWithdrawn(utt.segment, utt.speaker, "warning", rule_id, "",
                                         round(max(0.0, at - fired_at), 3)))
        for w in out:
            self.stats.withdrawn += 1
            self.stats.withdrawn_within_1s += w.shown_for <= 1.0
            self.stats.withdrawn_events.append(w)
        return tuple(out)
