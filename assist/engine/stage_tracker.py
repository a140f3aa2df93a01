"""Where the agent is in a playbook, from what the agent actually says.

Not a counter: each agent utterance is matched against every stage's script
lines (and cues); a good enough match moves the call to that stage, whether it
is the next one, a later one (stages skipped) or an earlier one (revisited).
A small bonus for the current and next stage breaks near-ties the way calls
usually go. Lines the agent has said are not suggested again.

The match is lexical (pinyin features + rapidfuzz); given the cosine of the line with
each stage's nearest line or cue (from the sentence encoder), it is fused with that,
which follows an agent who says a stage in their own words. Constants: ``calibration``.
One tracker per playbook per call; runs on the engine's thread.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assist.engine.calibration import (
    CURRENT_BONUS, LINE_SAID_FUSED, LINE_SAID_THRESHOLD, NEXT_BONUS, STAGE_FUSED_THRESHOLD,
    STAGE_THRESHOLD, STAGE_W_LEX, STAGE_W_SEM, stretch,
)
from assist.engine.index import PhraseIndex
from assist.engine.lexicon import Lexicon
from assist.events import StageState, Suggestion
from assist.knowledge.model import Playbook

MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class StageMatch:
    group: int  # 0-based stage
    phrase: int  # which line or cue (stage_phrasings order)
    score: float


def stage_phrasings(playbook: Playbook) -> tuple[list[str], list[int], list[str]]:
    """Every stage line and cue, its 0-based stage, and its line id ("" for a cue):
    the row order of the lexical index and of the vector index."""
    phrases, groups, line_ids = [], [], []
    for stage in playbook.stages:
        for line in stage.lines:
            phrases.append(line.text)
            groups.append(stage.index - 1)
            line_ids.append(line.id)
        for cue in stage.cues:
            phrases.append(cue)
            groups.append(stage.index - 1)
            line_ids.append("")
    return phrases, groups, line_ids


class StageTracker:
    def __init__(self, playbook: Playbook, lexicon: Lexicon):
        self.playbook = playbook
        phrases, groups, self._line_of_phrase = stage_phrasings(playbook)
        self.index = PhraseIndex(phrases, groups, lexicon)
        self.reset()

    def reset(self) -> None:
        self.current: int | None = None  # 1-based
        self.said: set[str] = set()
        self.visited: list[int] = []
        self.evidence = 0.0  # how well this playbook explains the call so far

    def _bonus(self) -> dict[int, float]:
        bonus: dict[int, float] = {}
        if self.current is not None:
            bonus[self.current - 1] = CURRENT_BONUS
            if self.current < len(self.playbook.stages):
                bonus[self.current] = NEXT_BONUS
        else:
            bonus[0] = NEXT_BONUS
        return bonus

    def best(self, keys: list[str], semantic: tuple[np.ndarray, np.ndarray] | None = None) -> StageMatch | None:
        """The best stage match for an utterance, with the forward-leaning bonus applied.

        ``semantic``: (best cosine per stage, row of that best) from the stage vector index.
        """
        bonus = self._bonus()
        if semantic is None:
            matches = self.index.search(keys, limit=1, group_bonus=bonus)
            return StageMatch(matches[0].group, matches[0].phrase, matches[0].score) if matches else None
        n = len(self.playbook.stages)
        lex = {m.group: m for m in self.index.search(keys, limit=n, rerank=n)}
        cos, rows = semantic
        best = None
        for g in range(n):
            m = lex.get(g)
            lexical = m.score if m is not None else 0.0
            sem = stretch(float(cos[g])) if rows[g] >= 0 else 0.0
            score = STAGE_W_LEX * lexical + STAGE_W_SEM * sem + bonus.get(g, 0.0)
            phrase = m.phrase if m is not None and STAGE_W_LEX * lexical >= STAGE_W_SEM * sem else int(rows[g])
            if phrase < 0:
                continue
            if best is None or score > best.score:
                best = StageMatch(g, phrase, min(score, 1.0))
        return best

    def observe(self, keys: list[str], semantic: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Update the state with one final agent utterance."""
        m = self.best(keys, semantic)
        threshold, said = ((STAGE_FUSED_THRESHOLD, LINE_SAID_FUSED) if semantic is not None
                           else (STAGE_THRESHOLD, LINE_SAID_THRESHOLD))
        if m is None or m.score < threshold:
            return
        self.current = m.group + 1
        self.evidence += m.score
        if self.current not in self.visited:
            self.visited.append(self.current)
        line_id = self._line_of_phrase[m.phrase]
        if line_id and m.score >= said:
            self.said.add(line_id)

    def state(self) -> StageState | None:
        if self.current is None:
            return None
        stage = self.playbook.stage(self.current)
        return StageState(self.playbook.id, stage.index, stage.id, stage.title)

    def suggestions(self) -> tuple[Suggestion, ...]:
        stages = self.playbook.stages
        out: list[Suggestion] = []
        if self.current is None:
            first = stages[0]
            out += [Suggestion(l.text, 1, "opening", l.id) for l in first.lines if l.id not in self.said]
        else:
            cur = self.playbook.stage(self.current)
            out += [Suggestion(l.text, cur.index, "current_stage", l.id) for l in cur.lines if l.id not in self.said]
            if self.current < len(stages):
                nxt = stages[self.current]
                out += [Suggestion(l.text, nxt.index, "next_stage", l.id) for l in nxt.lines if l.id not in self.said]
            elif not out and self.playbook.closing:
                out.append(Suggestion(self.playbook.closing, cur.index, "closing", "closing"))
        return tuple(out[:MAX_SUGGESTIONS])
