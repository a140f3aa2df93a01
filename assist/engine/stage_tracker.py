"""Where the agent is in a playbook, from what the agent actually says.

Not a counter: each agent utterance is matched against every stage's script
lines (and cues); a good enough match moves the call to that stage, whether it
is the next one, a later one (stages skipped) or an earlier one (revisited).
A small bonus for the current and next stage breaks near-ties the way calls
usually go. Lines the agent has said are not suggested again.
One tracker per playbook per call; runs on the engine's thread.
"""
from __future__ import annotations

from assist.engine.index import PhraseIndex
from assist.engine.lexicon import Lexicon
from assist.events import StageState, Suggestion
from assist.knowledge.model import Playbook

STAGE_THRESHOLD = 0.30
LINE_SAID_THRESHOLD = 0.34
CURRENT_BONUS = 0.03
NEXT_BONUS = 0.05
MAX_SUGGESTIONS = 3


class StageTracker:
    def __init__(self, playbook: Playbook, lexicon: Lexicon):
        self.playbook = playbook
        phrases, groups, self._line_of_phrase = [], [], []
        for stage in playbook.stages:
            for line in stage.lines:
                phrases.append(line.text)
                groups.append(stage.index - 1)
                self._line_of_phrase.append(line.id)
            for cue in stage.cues:
                phrases.append(cue)
                groups.append(stage.index - 1)
                self._line_of_phrase.append("")
        self.index = PhraseIndex(phrases, groups, lexicon)
        self.reset()

    def reset(self) -> None:
        self.current: int | None = None  # 1-based
        self.said: set[str] = set()
        self.visited: list[int] = []
        self.evidence = 0.0  # how well this playbook explains the call so far

    def best(self, keys: list[str]):
        """The best stage match for an utterance, with the forward-leaning bonus applied."""
        bonus: dict[int, float] = {}
        if self.current is not None:
            bonus[self.current - 1] = CURRENT_BONUS
            if self.current < len(self.playbook.stages):
                bonus[self.current] = NEXT_BONUS
        else:
            bonus[0] = NEXT_BONUS
        matches = self.index.search(keys, limit=1, group_bonus=bonus)
        return matches[0] if matches else None

    def observe(self, keys: list[str]) -> None:
        """Update the state with one final agent utterance."""
        m = self.best(keys)
        if m is None or m.score < STAGE_THRESHOLD:
            return
        self.current = m.group + 1
        self.evidence += m.score
        if self.current not in self.visited:
            self.visited.append(self.current)
        line_id = self._line_of_phrase[m.phrase]
        if line_id and m.score >= LINE_SAID_THRESHOLD:
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
