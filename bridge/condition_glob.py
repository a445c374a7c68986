"""Glob languages as small automata: matching, inclusion and intersection.

A pattern is a tuple of tokens, each standing for a set of one-character steps or a run:

- ``("c", ch)``      the character ``ch``
- ``("set", chars)`` one character of ``chars`` (case-insensitive literals)
- ``("any",)``       one character (``?``)
- ``("star",)``      any run of characters (``*``)
- ``("anyx", ch)``   one character other than ``ch`` (``?`` inside an ARN component)
- ``("starx", ch)``  any run of characters without ``ch`` (``*`` inside an ARN component)

A *union* of patterns is run as one non-deterministic automaton whose states are sets of
(pattern index, position) pairs. Questions about several languages at once ("is there a
word in A, not in E and not in B?") are answered by a breadth-first search over the tuple
of the automata's states, one step per character of the alphabet: the characters the
patterns mention plus one character none of them mentions, which stands for every other
character (all of them behave alike in every automaton involved). The search returns the
shortest witness word, so callers (and tests) can check the answer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

Token = tuple
Pattern = tuple[Token, ...]

_RUNS = ("star", "starx")

NOTHING: Pattern = (("set", frozenset()),)  # a pattern no word matches


def glob_tokens(text: str) -> Pattern:
    """`*` any run, `?` one character, everything else literal (StringLike)."""
    return tuple(("star",) if ch == "*" else ("any",) if ch == "?" else ("c", ch) for ch in text)


def literal_tokens(text: str) -> Pattern:
    """Every character literal (StringEquals, and literal pieces of a value)."""
    return tuple(("c", ch) for ch in text)


def caseless_tokens(pattern: Pattern) -> Pattern:
    """The same pattern, each literal letter standing for both of its cases (…IgnoreCase)."""
    return tuple(_caseless(token) for token in pattern)


def _caseless(token: Token) -> Token:
    if token[0] != "c":
        return token
    ch = token[1]
    variants = {ch, *(v for v in (ch.lower(), ch.upper()) if len(v) == 1)}
    return ("set", frozenset(variants)) if len(variants) > 1 else token


def arn_tokens(components: Sequence[Pattern]) -> Pattern:
    """An ARN pattern split at its first five colons, as one whole-string pattern.

    The wildcards of every component but the last cannot cross a colon, so the word must
    have one colon per separator; the last component takes the rest of the ARN (the
    resource part of an ARN may itself contain colons).
    """
    tokens: list[Token] = []
    for index, component in enumerate(components):
        if index:
            tokens.append(("c", ":"))
        last = index == len(components) - 1
        tokens.extend(component if last else (_within_component(t) for t in component))
    return tuple(tokens)


def _within_component(token: Token) -> Token:
    if token[0] == "star":
        return ("starx", ":")
    if token[0] == "any":
        return ("anyx", ":")
    return token


def is_literal(pattern: Pattern) -> bool:
    return all(token[0] == "c" for token in pattern)


def literal_text(pattern: Pattern) -> str:
    return "".join(token[1] for token in pattern)


def _mentioned(token: Token) -> frozenset[str]:
    if token[0] in ("c", "anyx", "starx"):
        return frozenset(token[1])
    if token[0] == "set":
        return token[1]
    return frozenset()


class Union:
    """The language of any of several patterns, as a non-deterministic automaton. A state
    is a bit set of (pattern, position) pairs: pattern i's position p is bit
    `offset(i) + p`, its end (the pattern read whole) the bit after its last token."""

    def __init__(self, patterns: Iterable[Pattern]):
        self.patterns = tuple(tuple(p) for p in patterns)
        self._tokens: list[Token | None] = []  # by bit; None at a pattern's end
        self._first = 0  # every pattern's first position
        self._ends = 0
        for pattern in self.patterns:
            self._first |= 1 << len(self._tokens)
            self._tokens.extend(pattern)
            self._ends |= 1 << len(self._tokens)
            self._tokens.append(None)
        self._runs = _bits(token is not None and token[0] in _RUNS for token in self._tokens)
        self._live, self._universal = self._futures()
        self._by_character, self._any, self._but, self._any_but = self._readers()
        self._moves: dict[tuple[int, str], int] = {}

    def start(self) -> int:
        return self._closure(self._first)

    def step(self, state: int, ch: str) -> int:
        move = self._moves.get((state, ch))
        if move is None:
            advance, stay = self._reading(ch)
            move = self._moves[(state, ch)] = self._closure(((state & advance) << 1) | (state & stay))
        return move

    def _reading(self, ch: str) -> tuple[int, int]:
        """The positions whose token reads `ch` and moves on, and those that read it and stay (runs)."""
        steps = self._by_character.get(ch, 0) | self._any | (self._any_but & ~self._but.get(ch, 0))
        return steps & ~self._runs, steps & self._runs

    def _readers(self) -> tuple[dict[str, int], int, dict[str, int], int]:
        """The positions whose token reads a character, by how: ({ch: those that name it},
        those that read any, {ch: those that read any but it}, those that read any but one)."""
        by_character: dict[str, int] = {}
        but: dict[str, int] = {}
        any_ = any_but = 0
        for bit, token in enumerate(self._tokens):
            if token is None:
                continue
            kind = token[0]
            if kind in ("c", "set"):
                for ch in (token[1],) if kind == "c" else token[1]:
                    by_character[ch] = by_character.get(ch, 0) | 1 << bit
            elif kind in ("any", "star"):
                any_ |= 1 << bit
            else:  # anyx, starx
                but[token[1]] = but.get(token[1], 0) | 1 << bit
                any_but |= 1 << bit
        return by_character, any_, but, any_but

    def accepts(self, state: int) -> bool:
        return bool(state & self._ends)

    def may_accept(self, state: int) -> bool:
        """Some word (the empty one included) takes `state` to acceptance."""
        return bool(state & self._live)

    def may_reject(self, state: int) -> bool:
        """Some word may take `state` to rejection: false only when it surely accepts every
        word (a position from which only `*` runs are left)."""
        return not state & self._universal

    def _futures(self) -> tuple[int, int]:
        """The positions the end can be reached from (no token matching nothing left), and
        those every word reaches it from (only `*` left)."""
        live = universal = 0
        can_end = every_word_ends = at_end = False
        for bit in range(len(self._tokens) - 1, -1, -1):
            token = self._tokens[bit]
            if token is None:  # the end: the empty word only
                can_end, every_word_ends, at_end = True, False, True
            else:
                can_end = can_end and token != ("set", frozenset())
                every_word_ends = token == ("star",) and (at_end or every_word_ends)
                at_end = False
            live |= can_end << bit
            universal |= every_word_ends << bit
        return live, universal

    def alphabet(self) -> frozenset[str]:
        return frozenset().union(*self.mentions())

    def mentions(self) -> set[frozenset[str]]:
        """The character sets the tokens tell apart (a character's moves depend only on
        which of them hold it)."""
        return {_mentioned(t) for p in self.patterns for t in p} - {frozenset()}

    def _closure(self, state: int) -> int:
        """`state` and every position a run at it may skip to (a run also matches nothing)."""
        while True:
            wider = state | ((state & self._runs) << 1)
            if wider == state:
                return state
            state = wider


def _bits(flags: Iterable[bool]) -> int:
    return sum(1 << i for i, flag in enumerate(flags) if flag)


@lru_cache(maxsize=4096)
def matches(pattern: Pattern, word: str) -> bool:
    automaton = Union([pattern])
    state = automaton.start()
    for ch in word:
        state = automaton.step(state, ch)
        if not state:
            return False
    return automaton.accepts(state)


def _other_character(alphabet: frozenset[str]) -> str:
    candidate = 0xE000  # private-use area: never meaningful in an ARN or a tag
    while chr(candidate) in alphabet:
        candidate += 1
    return chr(candidate)


def find_word(automata: Sequence[Union], demands: Sequence[bool]) -> str | None:
    """The shortest word each automaton accepts or rejects as `demands` says, or None.

    The search leaves out an automaton no letter moves from its start (its answer is the
    same for every word), and does not go on from a state no word can take to the demanded
    answers (an automaton that must accept but can reach no end, or must reject but accepts
    everything): every state after it is alike, so the witness found is the same."""
    alphabet = frozenset().union(*(a.alphabet() for a in automata))
    letters = _representatives(sorted(alphabet) + [_other_character(alphabet)],
                               set().union(*(a.mentions() for a in automata)))
    moving = []
    for automaton, demand in zip(automata, demands, strict=True):
        start = automaton.start()
        if any(automaton.step(start, ch) != start for ch in letters):
            moving.append((automaton, demand))
        elif automaton.accepts(start) != demand:
            return None
    if not moving:
        return ""
    if len(moving) == 1:
        return _search_one(*moving[0], letters)
    return _search_many(moving, letters)


def _search_one(automaton: Union, demand: bool, letters: list[str]) -> str | None:
    """`find_word` for one automaton: its states are the search's."""
    possible = automaton.may_accept if demand else automaton.may_reject
    return _breadth_first(automaton.start(), automaton.step,
                          lambda state: automaton.accepts(state) == demand, possible, letters)


def _search_many(moving: list[tuple[Union, bool]], letters: list[str]) -> str | None:
    """`find_word` over the tuples of several automata's states."""
    automata = [a for a, _ in moving]
    demands = tuple(demand for _, demand in moving)
    possible = [a.may_accept if demand else a.may_reject for a, demand in moving]

    def step(states: tuple[int, ...], ch: str) -> tuple[int, ...]:
        return tuple(a.step(s, ch) for a, s in zip(automata, states, strict=True))

    return _breadth_first(tuple(a.start() for a in automata), step,
                          lambda states: tuple(map(Union.accepts, automata, states)) == demands,
                          lambda states: all(map(_holds, possible, states)), letters)


def _breadth_first(start: Any, step: Callable[[Any, str], Any], done: Callable[[Any], bool],
                   possible: Callable[[Any], bool], letters: list[str]) -> str | None:
    """The first word in breadth-first order over `letters` (a shortest one) that takes `start` to a
    state `done` holds of, never going on from a state that is not `possible`."""
    if not possible(start):
        return None
    seen = {start}
    queue = deque([(start, "")])
    while queue:
        state, word = queue.popleft()
        if done(state):
            return word
        for ch in letters:
            following = step(state, ch)
            if following not in seen:
                seen.add(following)
                if possible(following):
                    queue.append((following, word + ch))
    return None


def _holds(predicate: Callable[[int], bool], state: int) -> bool:
    return predicate(state)


def _representatives(letters: list[str], mentions: set[frozenset[str]]) -> list[str]:
    """The first of `letters` of each class of characters every token treats alike: a
    word's acceptance only depends on the classes of its characters, so the shortest
    (first in `letters` order) witness is spelt with these."""
    seen, out = set(), []
    for ch in letters:
        signature = frozenset(m for m in mentions if ch in m)
        if signature not in seen:
            seen.add(signature)
            out.append(ch)
    return out


def word_outside(population: Pattern, excluded: Iterable[str], tests: Iterable[Pattern],
                 excluded_globs: Iterable[str] = ()) -> str | None:
    """A word of L(population) minus `excluded` (words, and every word of `excluded_globs`)
    that no test pattern matches, or None."""
    return _search(population, *_relevant(population, excluded, excluded_globs), tuple(tests), False)


def word_inside(population: Pattern, excluded: Iterable[str], tests: Iterable[Pattern],
                excluded_globs: Iterable[str] = ()) -> str | None:
    """A word of L(population) minus the excluded ones that some test pattern matches, or None."""
    return _search(population, *_relevant(population, excluded, excluded_globs), tuple(tests), True)


def excludes(word: str, excluded: Iterable[str], excluded_globs: Iterable[str]) -> bool:
    """`word` is one of the excluded words or matches one of the excluded globs."""
    return word in excluded or any(matches(glob_tokens(g), word) for g in excluded_globs)


def _relevant(population: Pattern, excluded: Iterable[str],
              excluded_globs: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The excluded words and globs that meet the population at all (the others change nothing)."""
    return (tuple(sorted(e for e in excluded if matches(population, e))),
            tuple(sorted(g for g in excluded_globs if _meets(population, glob_tokens(g)))))


@lru_cache(maxsize=1024)
def _meets(population: Pattern, pattern: Pattern) -> bool:
    automata = (Union([population]), Union([pattern]))
    return find_word(automata, (True, True)) is not None


@lru_cache(maxsize=8192)
def _search(population: Pattern, excluded: tuple[str, ...], excluded_globs: tuple[str, ...],
            tests: tuple[Pattern, ...], inside: bool) -> str | None:
    removed = [literal_tokens(e) for e in excluded] + [glob_tokens(g) for g in excluded_globs]
    automata = (Union([population]), Union(removed), Union(tests))
    return find_word(automata, (True, False, inside))


def covers(population: Pattern, excluded: Iterable[str], tests: Iterable[Pattern],
           excluded_globs: Iterable[str] = ()) -> bool:
    """L(population) minus the excluded words and globs is included in the union of the tests' languages."""
    return word_outside(population, excluded, tests, excluded_globs) is None


def overlaps(population: Pattern, excluded: Iterable[str], tests: Iterable[Pattern],
             excluded_globs: Iterable[str] = ()) -> bool:
    """L(population) minus the excluded words and globs meets the union of the tests' languages."""
    return word_inside(population, excluded, tests, excluded_globs) is not None
