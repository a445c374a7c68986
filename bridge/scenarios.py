"""The deployable variants of a template: one scenario per consistent truth of its Conditions.

`plan(document, parameters)` evaluates the template's `Conditions` (Fn::Equals, Fn::And,
Fn::Or, Fn::Not, Condition) over every value the parameters may take: a parameter given a
value (--parameter, a parameters file) is fixed; any other, its Default or not (a Default
is what a deployment that gives no value gets, and any deployment may give one), is
enumerated over its AllowedValues, or, when free, over the literals the Conditions compare
it with plus "any other value". A comparison the template does not determine (two free
parameters, a pseudo parameter inside Fn::Sub…) is a free truth of its own. Combinations
giving the same truth of every Condition are one scenario; the parameters they all fix
travel with it, and one whose Default the scenario rules out travels as unknown (None).

Beyond MAX_SCENARIOS scenarios (or MAX_COMBINATIONS combinations to try) the plan is
empty with a note: the template is then analysed once with every Fn::If alternative
unioned, which is conservative, and the output says so. `describe` names the scenarios a
finding holds in, with the shortest description over the Conditions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations, product
from typing import Any

from .intrinsics import IntrinsicError, Resolver, literal
from .sourcemap import join_pointer

MAX_SCENARIOS = 64
MAX_COMBINATIONS = 4096
_DESCRIBE_TERMS = 3  # most Conditions named in one conjunction


class _Other:
    """A free parameter's value that differs from every literal the Conditions name."""

    def __repr__(self) -> str:
        return "<other>"


OTHER = _Other()


@dataclass(frozen=True)
class Scenario:
    conditions: tuple[tuple[str, bool], ...]  # every template Condition, sorted by name
    parameters: tuple[tuple[str, str | None], ...] = ()  # values this scenario fixes (None: not its Default)

    def truth(self) -> dict[str, bool]:
        return dict(self.conditions)


@dataclass
class Plan:
    scenarios: list[Scenario] = field(default_factory=list)  # empty: one merged analysis
    note: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Equality:
    """An Fn::Equals condition: its key among the undetermined comparisons, and each side
    as (the free parameter it names, else its constant value)."""

    expr: dict  # kept, so that its id() is not reused while the planner runs
    key: str
    left: tuple[str | None, str | None]
    right: tuple[str | None, str | None]


class ConditionError(ValueError):
    def __init__(self, pointer: str, message: str):
        super().__init__(message)
        self.pointer = pointer


def plan(document: dict, parameters: dict[str, str] | None = None) -> Plan:
    conditions = document.get("Conditions")
    if not isinstance(conditions, dict) or not conditions:
        return Plan()
    try:
        _check_names(document, conditions)
        return _Planner(document, conditions, parameters or {}).run()
    except ConditionError as exc:
        return Plan(note=None, problems=[(exc.pointer, str(exc))])


def _check_names(document: dict, conditions: dict) -> None:
    resources = document.get("Resources") if isinstance(document.get("Resources"), dict) else {}
    for rid, resource in resources.items():
        if isinstance(resource, dict) and "Condition" in resource and \
                resource["Condition"] not in conditions:
            raise ConditionError(join_pointer("/Resources", rid, "Condition"),
                                 f"resource '{rid}' names Condition {resource['Condition']!r}, "
                                 "which Conditions does not define")
    stack = [(resources, "/Resources")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{at}/{i}") for i, v in enumerate(node))
        elif isinstance(node, dict):
            arg = node.get("Fn::If")
            if len(node) == 1 and arg is not None:
                if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
                    raise ConditionError(at, "Fn::If takes [condition, then, else]")
                if arg[0] not in conditions:
                    raise ConditionError(at, f"Fn::If names Condition {arg[0]!r}, which "
                                             "Conditions does not define")
            stack.extend((v, join_pointer(at, k)) for k, v in node.items())


class _Planner:
    def __init__(self, document: dict, conditions: dict, parameters: dict[str, str]):
        self.conditions = conditions
        self.given = parameters
        self.resolver = Resolver(document, parameters)
        specs = document.get("Parameters") if isinstance(document.get("Parameters"), dict) else {}
        self.specs = specs
        self.compared: dict[str, list[str]] = {}  # free parameter → literals compared with
        self.atoms: dict[str, None] = {}  # undetermined comparisons, by their JSON
        self._equalities: dict[int, Equality] = {}  # by id() of the Fn::Equals expression
        for name, expr in conditions.items():
            self._scan(expr, join_pointer("/Conditions", name))

    # --- what varies --------------------------------------------------------

    def _free(self, side: Any) -> str | None:
        """The parameter a `{"Ref": P}` side names when P has no fixed value."""
        if isinstance(side, dict) and list(side) == ["Ref"] and isinstance(side["Ref"], str):
            name = side["Ref"]
            if name in self.resolver.parameters and name not in self.given:
                return name
            if name.startswith("AWS::") and name != "AWS::NoValue":
                return name
        return None

    def equality(self, expr: dict) -> Equality:
        """An Fn::Equals worked out once, though every combination of values evaluates it."""
        found = self._equalities.get(id(expr))
        if found is None:
            sides = []
            for side in expr["Fn::Equals"]:
                free = self._free(side)
                sides.append((free, None if free is not None else self._constant(side)))
            found = self._equalities[id(expr)] = Equality(expr, _atom_key(expr), *sides)
        return found

    def _constant(self, side: Any) -> str | None:
        if self._free(side) is not None:
            return None
        try:
            alternatives = self.resolver.strings(side)
        except IntrinsicError:
            return None
        return literal(alternatives[0]) if len(alternatives) == 1 else None

    def _scan(self, expr: Any, at: str) -> None:
        if not (isinstance(expr, dict) and len(expr) == 1):
            raise ConditionError(at, f"a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not "
                                     f"or Condition, got {json.dumps(expr)[:60]}")
        (fn, arg), = expr.items()
        if fn == "Fn::Equals":
            if not (isinstance(arg, list) and len(arg) == 2):
                raise ConditionError(at, "Fn::Equals takes two values")
            a, b = arg
            fa, fb, ca, cb = self._free(a), self._free(b), self._constant(a), self._constant(b)
            if fa and cb is not None:
                self.compared.setdefault(fa, []).append(cb)
            elif fb and ca is not None:
                self.compared.setdefault(fb, []).append(ca)
            elif not (ca is not None and cb is not None) and not (fa and fa == fb):
                self.atoms[_atom_key(expr)] = None
        elif fn in ("Fn::And", "Fn::Or", "Fn::Not"):
            if not isinstance(arg, list) or not arg:
                raise ConditionError(at, f"{fn} takes a list of conditions")
            for i, item in enumerate(arg):
                self._scan(item, f"{at}/{fn}/{i}")
        elif fn == "Condition":
            if arg not in self.conditions:
                raise ConditionError(at, f"Condition {arg!r} is not defined in Conditions")
        else:
            raise ConditionError(at, f"{fn} cannot be used in a condition")

    def _domains(self) -> list[tuple[str, list]]:
        out: list[tuple[str, list]] = []
        for name in sorted(self.compared):
            spec = self.specs.get(name)
            allowed = spec.get("AllowedValues") if isinstance(spec, dict) else None
            if isinstance(allowed, list) and allowed and all(_scalar(v) for v in allowed):
                values = list(dict.fromkeys(_text(v) for v in allowed))
            else:
                values = list(dict.fromkeys(self.compared[name])) + [OTHER]
            out.append((name, values))
        out.extend((key, [True, False]) for key in self.atoms)
        return out

    # --- enumeration ---------------------------------------------------------

    def run(self) -> Plan:
        domains = self._domains()
        count = 1
        for _, values in domains:
            count *= len(values)
        if count > MAX_COMBINATIONS:
            return Plan(note=_merged_note(f"its Conditions depend on {count:,} combinations of "
                                          f"parameter values (limit {MAX_COMBINATIONS:,})"))
        groups: dict[tuple, list[dict]] = {}
        compiled = None
        for values in product(*(v for _, v in domains)):
            env = dict(zip((n for n, _ in domains), values, strict=True))
            if compiled is None:
                first = _Evaluation(self, env)
                truth = first.all()
                # every combination visits the same expressions, so the first finds any
                # error, and the order it settled the Conditions in puts each after those it names
                compiled = _Compiled(self, list(first.done))
            else:
                truth = compiled.all(env)
            groups.setdefault(tuple(sorted(truth.items())), []).append(env)
            if len(groups) > MAX_SCENARIOS:
                return Plan(note=_merged_note(f"it has more than {MAX_SCENARIOS} scenarios "
                                              "(combinations of its Conditions)"))
        defaults = {n: v for n, v in self.resolver.parameters.items() if n not in self.given}
        scenarios = [Scenario(truth, _fixed(envs, defaults, self.compared))
                     for truth, envs in groups.items()]
        return Plan(sorted(scenarios, key=_order))


class _Evaluation:
    def __init__(self, planner: _Planner, env: dict):
        self.planner = planner
        self.env = env
        self.done: dict[str, bool] = {}
        self.active: list[str] = []

    def all(self) -> dict[str, bool]:
        return {name: self.condition(name) for name in self.planner.conditions}

    def condition(self, name: str) -> bool:
        if name in self.done:
            return self.done[name]
        if name in self.active:
            raise ConditionError(join_pointer("/Conditions", name),
                                 f"Condition {name!r} depends on itself "
                                 f"({' → '.join(self.active + [name])})")
        self.active.append(name)
        value = self.expr(self.planner.conditions[name], join_pointer("/Conditions", name))
        self.active.pop()
        self.done[name] = value
        return value

    def expr(self, expr: dict, at: str) -> bool:
        (fn, arg), = expr.items()
        if fn == "Condition":
            return self.condition(arg)
        if fn == "Fn::Not":
            if len(arg) != 1:
                raise ConditionError(at, "Fn::Not takes exactly one condition")
            return not self.expr(arg[0], f"{at}/Fn::Not/0")
        if fn in ("Fn::And", "Fn::Or"):
            values = [self.expr(item, f"{at}/{fn}/{i}") for i, item in enumerate(arg)]
            return all(values) if fn == "Fn::And" else any(values)
        equality = self.planner.equality(expr)
        if equality.key in self.env:
            return self.env[equality.key]
        a, b = (self.side(free, constant) for free, constant in (equality.left, equality.right))
        if a is OTHER and b is OTHER:
            return True  # the same free parameter on both sides
        return a == b

    def side(self, free: str | None, constant: str | None) -> Any:
        return self.env.get(free, OTHER) if free is not None else constant


class _Compiled:
    """The Conditions as functions of one combination of values, evaluated in an order in
    which each comes after those it names; for Conditions known to evaluate without error."""

    def __init__(self, planner: _Planner, order: list[str]):
        self.planner = planner
        self.steps = [(name, self._compile(planner.conditions[name])) for name in order]

    def all(self, env: dict) -> dict[str, bool]:
        truth: dict[str, bool] = {}
        for name, evaluate in self.steps:
            truth[name] = evaluate(env, truth)
        return {name: truth[name] for name in self.planner.conditions}

    def _compile(self, expr: dict) -> Callable[[dict, dict], bool]:
        (fn, arg), = expr.items()
        if fn == "Condition":
            return lambda env, truth: truth[arg]
        if fn == "Fn::Not":
            inner = self._compile(arg[0])
            return lambda env, truth: not inner(env, truth)
        if fn in ("Fn::And", "Fn::Or"):
            items = [self._compile(item) for item in arg]
            if fn == "Fn::And":
                return lambda env, truth: all(item(env, truth) for item in items)
            return lambda env, truth: any(item(env, truth) for item in items)
        equality = self.planner.equality(expr)
        key, (left, left_constant), (right, right_constant) = equality.key, equality.left, equality.right

        def equals(env: dict, truth: dict) -> bool:
            if key in env:
                return env[key]
            a = env.get(left, OTHER) if left is not None else left_constant
            b = env.get(right, OTHER) if right is not None else right_constant
            return True if a is OTHER and b is OTHER else a == b
        return equals


def _fixed(envs: list[dict], defaults: dict, compared: dict) -> tuple[tuple[str, str | None], ...]:
    """Parameters that take one same literal value in every combination of a scenario, and
    (as None) those whose Default is none of the values the scenario lets them take."""
    out = []
    for name in envs[0]:
        if name not in defaults:
            continue  # an undetermined comparison or a pseudo parameter
        values = {e[name] for e in envs}
        if len(values) == 1 and isinstance(next(iter(values)), str):
            out.append((name, next(iter(values))))
            continue
        default = defaults[name]
        if default is not None and not (default in values or (OTHER in values and default not in compared[name])):
            out.append((name, None))
    return tuple(sorted(out, key=lambda item: item[0]))


def _order(scenario: Scenario) -> tuple:
    return tuple(not value for _, value in scenario.conditions)


def _merged_note(reason: str) -> str:
    return (f"not analysed per scenario: {reason}; the Fn::If alternatives and conditional "
            "resources are merged (a finding may then hold in no single deployable variant)")


def _atom_key(expr: dict) -> str:
    return json.dumps(expr, sort_keys=True, default=str)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- naming the scenarios a finding holds in --------------------------------------


def describe(present: set[int], scenarios: list[Scenario]) -> str:
    """The shortest true description of the scenarios `present` (indexes), over the
    Conditions, e.g. "only when IsProd is true"."""
    return _describe(frozenset(present), tuple(scenarios))


@lru_cache(maxsize=256)
def _describe(present: frozenset[int], scenarios: tuple[Scenario, ...]) -> str:
    target = sum(1 << i for i in present)
    masks = {}  # (condition, value) → the scenarios where it holds, as a bit mask
    for name in _varying(list(scenarios)):
        for value in (True, False):
            masks[(name, value)] = sum(1 << i for i, s in enumerate(scenarios)
                                       if s.truth()[name] is value)
    literals = list(masks)
    # conjunctions of up to _DESCRIBE_TERMS Conditions (fewer when there are many)
    most = _DESCRIBE_TERMS if len(literals) <= 24 else 2
    terms: list[tuple[tuple, int]] = []
    for size in range(1, most + 1):
        for term in combinations(literals, size):
            if len({n for n, _ in term}) < size:
                continue
            mask = -1
            for lit in term:
                mask &= masks[lit]
            if mask == target:
                return "only when " + _conjunction(term)
            if mask and mask & ~target == 0:
                terms.append((term, mask))
    chosen: list[tuple] = []
    left = target
    while left:  # a union of conjunctions, greedily the widest first
        best = max(terms, key=lambda tm: (bin(tm[1] & left).count("1"), -len(tm[0])), default=None)
        if best is None or not best[1] & left:
            break
        chosen.append(best[0])
        left &= ~best[1]
    if left:  # not describable with few Conditions: name each scenario
        chosen = [scenarios[i].conditions for i in sorted(present)]
    return "only when " + ", or when ".join(_conjunction(term) for term in chosen)


def _conjunction(term) -> str:
    return " and ".join(f"{n} is {'true' if v else 'false'}" for n, v in term)


def _varying(scenarios: list[Scenario]) -> list[str]:
    names = [n for n, _ in scenarios[0].conditions] if scenarios else []
    return [n for n in names if len({s.truth()[n] for s in scenarios}) > 1]


# --- picking scenarios by their Conditions -----------------------------------------


def select(found: Plan, wanted: dict[str, bool]) -> list[Scenario]:
    """The scenarios of a plan in which every Condition of `wanted` has the wanted truth
    (`--scenario IsProd=true`); ValueError naming what exists when none matches."""
    if not found.scenarios:
        reason = found.note or "the template has no Conditions"
        raise ValueError(f"--scenario: no deployable variants to choose from ({reason})")
    names = [n for n, _ in found.scenarios[0].conditions]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise ValueError(f"--scenario: no Condition {', '.join(unknown)} in the template "
                         f"(Conditions: {', '.join(names)})")
    chosen = [s for s in found.scenarios if all(s.truth()[n] is v for n, v in wanted.items())]
    if not chosen:
        every = "; ".join(_conjunction(s.conditions) for s in found.scenarios)
        raise ValueError(f"--scenario: no deployable variant has {_conjunction(sorted(wanted.items()))} "
                         f"(the variants: {every})")
    return chosen
