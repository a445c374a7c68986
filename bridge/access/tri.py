"""Answers over sets of actions: for each action, yes, no, conditional or unknown.

`Answer` holds three disjoint bit masks over the key actions (catalog.key_action_bits):
`yes` (true for every request the subject stands for), `cond` (true for some requests:
a condition decides) and `unknown` (depends on policy content the template does not
show). Every other action is *no*. The connectives are Kleene's with two kinds of
"maybe": an Or of conditional and unknown is conditional (some requests are certainly
allowed), an And (and a Deny that may apply) is unknown where unseen content is involved.
"""

from __future__ import annotations

from dataclasses import dataclass

YES, NO, COND, UNKNOWN = "yes", "no", "cond", "unknown"


@dataclass(frozen=True)
class Answer:
    yes: int = 0
    cond: int = 0
    unknown: int = 0

    @property
    def maybe(self) -> int:
        return self.cond | self.unknown

    @property
    def any(self) -> int:
        """Actions that are not a definite no."""
        return self.yes | self.cond | self.unknown

    def __or__(self, other: Answer) -> Answer:
        yes = self.yes | other.yes
        cond = (self.cond | other.cond) & ~yes
        return Answer(yes, cond, (self.unknown | other.unknown) & ~yes & ~cond)

    def __and__(self, other: Answer) -> Answer:
        yes = self.yes & other.yes
        maybe = self.any & other.any & ~yes
        unknown = (self.unknown | other.unknown) & maybe
        return Answer(yes, maybe & ~unknown, unknown)

    def minus(self, other: Answer) -> Answer:
        """self and not other (an Allow less a Deny)."""
        yes = self.yes & ~other.any
        maybe = self.any & ~other.yes & ~yes
        unknown = (self.unknown | (other.unknown & self.any)) & maybe
        return Answer(yes, maybe & ~unknown, unknown)

    def only(self, mask: int) -> Answer:
        return Answer(self.yes & mask, self.cond & mask, self.unknown & mask)


NOTHING = Answer()


def of(mask: int, value: str) -> Answer:
    """`mask` with one value for all its actions."""
    if value == YES:
        return Answer(yes=mask)
    if value == COND:
        return Answer(cond=mask)
    if value == UNKNOWN:
        return Answer(unknown=mask)
    return NOTHING


def union(answers) -> Answer:
    out = NOTHING
    for answer in answers:
        out = out | answer
    return out
