"""A guard against a crash of regopy's compiler: function names defined at several arities.

Rego lets every package have its own functions, so `_where(key)` in one rule package and
`_where(key, subject)` in another are unrelated. regopy 1.5.2 crashes building such a
policy (a segmentation fault, or `std::out_of_range` from `basic_string_view::substr`), or
refuses it ("Unable to unify due to cycle"), whenever a function name's first definition,
in the order the modules are added, takes fewer arguments than a later one
(tests/test_regopy_arity.py). A rule pack whose helper
shares a name with a built-in rule's helper is enough. So when the modules have such a
name, the embedded engine adds before them one module that defines each of those names at
its largest arity, in a package nothing reads; the policy evaluates as written."""

from __future__ import annotations

import re

GUARD_MODULE = "kmspolicy/embedded/arity_guard.rego"
GUARD_PACKAGE = "kmspolicy.embedded_arity_guard"
_SKIPPED = re.compile(r'#[^\n]*|`[^`]*`|"(?:[^"\\\n]|\\.)*"')  # a comment or a string
# at column 0 (`default` ones too), read in the text after a newline put before it (faster than ^)
_HEAD = r"\n(?:default[ \t]+)?([A-Za-z_]\w*)[ \t]*\("
_TOKENS = re.compile(f"{_SKIPPED.pattern}|{_HEAD}")  # heads outside comments and strings
_DEFINES = re.compile(r"\s*(?::=|=(?!=)|if\b|\{)")


def with_arity_guard(modules: dict[str, str]) -> dict[str, str]:
    """`modules`, preceded by the guard module when a function's first definition is not
    its widest (else `modules` itself)."""
    first: dict[str, int] = {}
    widest: dict[str, int] = {}
    for source in modules.values():
        for name, arity in function_arities(source):
            first.setdefault(name, arity)
            widest[name] = max(widest.get(name, arity), arity)
    narrow_first = sorted(name for name, arity in widest.items() if arity > first[name])
    if not narrow_first:
        return modules
    return {GUARD_MODULE: guard_source({name: widest[name] for name in narrow_first}), **modules}


def guard_source(arities: dict[str, int]) -> str:
    heads = [f"{name}({', '.join(f'_a{i}' for i in range(arity))}) := true" for name, arity in arities.items()]
    return f"package {GUARD_PACKAGE}\n\n" + "\n\n".join(heads) + "\n"


def function_arities(source: str) -> list[tuple[str, int]]:
    """(name, number of arguments) of each function definition at column 0, in order;
    comments and strings are stepped over (a head inside one is not one). Read by regular
    expressions, not rego_scan's lexer, whose character walk costs ~10 ms for the built-in
    modules at every engine build."""
    source = "\n" + source
    found = []
    for match in _TOKENS.finditer(source):
        if match.group(1) is not None:
            counted = _arguments(source, match.end())
            if counted is not None and _DEFINES.match(source, counted[1]):
                found.append((match.group(1), counted[0]))
    return found


def _arguments(source: str, start: int) -> tuple[int, int] | None:
    """(arguments, offset after the closing parenthesis) of the head whose `(` ends at
    `start`; None if it is not closed."""
    depth, count, empty, i = 0, 1, True, start
    while i < len(source):
        char = source[i]
        if char in "\"`#":
            skipped = _SKIPPED.match(source, i)
            i = skipped.end() if skipped else i + 1
            empty = empty and char == "#"
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return (0 if empty else count), i + 1
            depth -= 1
        elif char == "," and depth == 0:
            count += 1
        if not char.isspace():
            empty = False
        i += 1
    return None
