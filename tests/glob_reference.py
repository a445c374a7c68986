"""The glob search as it was before its states became bit sets (condition_glob before
speed7): the reference the faster search must give the same witnesses as."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from kmspolicy.bridge.condition_glob import (
    _RUNS,
    Pattern,
    Token,
    _mentioned,
    _other_character,
    _representatives,
    glob_tokens,
    literal_tokens,
)


def _steps(token: Token, ch: str) -> bool:
    kind = token[0]
    if kind == "c":
        return ch == token[1]
    if kind == "set":
        return ch in token[1]
    if kind in ("any", "star"):
        return True
    return ch != token[1]  # anyx, starx


class Union:
    """The language of any of several patterns; its states are frozensets of (pattern, position)."""

    def __init__(self, patterns: Iterable[Pattern]):
        self.patterns = tuple(tuple(p) for p in patterns)
        self._moves: dict[tuple[frozenset, str], frozenset] = {}

    def start(self) -> frozenset:
        return self._closure((index, 0) for index in range(len(self.patterns)))

    def step(self, state: frozenset, ch: str) -> frozenset:
        move = self._moves.get((state, ch))
        if move is None:
            move = self._moves[(state, ch)] = self._step(state, ch)
        return move

    def _step(self, state: frozenset, ch: str) -> frozenset:
        moved = []
        for index, position in state:
            pattern = self.patterns[index]
            if position < len(pattern) and _steps(pattern[position], ch):
                stays = pattern[position][0] in _RUNS
                moved.append((index, position if stays else position + 1))
        return self._closure(moved)

    def accepts(self, state: frozenset) -> bool:
        return any(position == len(self.patterns[index]) for index, position in state)

    def alphabet(self) -> frozenset[str]:
        return frozenset().union(*self.mentions())

    def mentions(self) -> set[frozenset[str]]:
        """The character sets the tokens tell apart (a character's moves depend only on
        which of them hold it)."""
        return {_mentioned(t) for p in self.patterns for t in p} - {frozenset()}

    def _closure(self, pairs: Iterable[tuple[int, int]]) -> frozenset:
        seen = set()
        todo = list(pairs)
        while todo:
            index, position = todo.pop()
            if (index, position) in seen:
                continue
            seen.add((index, position))
            pattern = self.patterns[index]
            if position < len(pattern) and pattern[position][0] in _RUNS:
                todo.append((index, position + 1))
        return frozenset(seen)


def find_word(automata: Sequence[Union], wanted: Callable[[tuple[bool, ...]], bool]) -> str | None:
    """The shortest word whose acceptance by each automaton satisfies `wanted`, or None."""
    alphabet = frozenset().union(*(a.alphabet() for a in automata))
    letters = _representatives(sorted(alphabet) + [_other_character(alphabet)],
                               set().union(*(a.mentions() for a in automata)))
    start = tuple(a.start() for a in automata)
    seen = {start}
    queue = deque([(start, "")])
    while queue:
        states, word = queue.popleft()
        if wanted(tuple(a.accepts(s) for a, s in zip(automata, states, strict=True))):
            return word
        for ch in letters:
            following = tuple(a.step(s, ch) for a, s in zip(automata, states, strict=True))
            if following not in seen:
                seen.add(following)
                queue.append((following, word + ch))
    return None


def matches(pattern, word):
    automaton = Union([pattern])
    state = automaton.start()
    for ch in word:
        state = automaton.step(state, ch)
    return automaton.accepts(state)


def search(population, excluded, excluded_globs, tests, inside):
    """`condition_glob._search` over the reference automata."""
    removed = [literal_tokens(e) for e in excluded] + [glob_tokens(g) for g in excluded_globs]
    automata = (Union([population]), Union(removed), Union(tests))
    return find_word(automata, lambda accepted: accepted[0] and not accepted[1] and accepted[2] == inside)


def meets(population, pattern):
    automata = (Union([population]), Union([pattern]))
    return find_word(automata, lambda accepted: accepted[0] and accepted[1])
