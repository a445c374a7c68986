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


def _steps(token: Token, ch: str) -> bool:
    kind = token[0]
    if kind == "c":
        return ch == token[1]
    if kind == "set":
        return ch in token[1]
    if kind in ("any", "star"):
        return True
    return ch != token[1]  # anyx, starx


def _mentioned(token: Token) -> frozenset[str]:
    if token[0] in ("c", "anyx", "starx"):
        return frozenset(token[1])
    if token[0] == "set":
        return token[1]
    return frozenset()


class Union:
    """The language of any of several patterns, as a non-deterministic automaton."""

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
    return find_word(automata, lambda accepted: accepted[0] and accepted[1]) is not None


@lru_cache(maxsize=8192)
def _search(population: Pattern, excluded: tuple[str, ...], excluded_globs: tuple[str, ...],
            tests: tuple[Pattern, ...], inside: bool) -> str | None:
    removed = [literal_tokens(e) for e in excluded] + [glob_tokens(g) for g in excluded_globs]
    automata = (Union([population]), Union(removed), Union(tests))
    return find_word(automata, lambda accepted: accepted[0] and not accepted[1] and accepted[2] == inside)


def covers(population: Pattern, excluded: Iterable[str], tests: Iterable[Pattern],
           excluded_globs: Iterable[str] = ()) -> bool:
    """L(population) minus the excluded words and globs is included in the union of the tests' languages."""
    return word_outside(population, excluded, tests, excluded_globs) is None


def overlaps(population: Pattern, excluded: Iterable[str], tests: Iterable[Pattern],
             excluded_globs: Iterable[str] = ()) -> bool:
    """L(population) minus the excluded words and globs meets the union of the tests' languages."""
    return word_inside(population, excluded, tests, excluded_globs) is not None
