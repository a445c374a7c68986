"""Request contexts that satisfy and that violate the condition blocks of a set of policies.

`condition_keys(policies)` gathers, per context key, the operators and values the policies
test. `variants(keys)` turns them into contexts: nothing set (the base request), each key
set to each value it is compared with (wildcards filled in) and to a value matching none,
and one context with every key at its first value. Keys that are facts about the principal
(principals.FACT_KEYS) are not varied here: the principal decides them.
"""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

NOMATCH = "oracle-nomatch"


def statements(policy: Any) -> list[dict]:
    if not isinstance(policy, dict):
        return []
    sts = policy.get("Statement")
    sts = sts if isinstance(sts, list) else [sts]
    return [s for s in sts if isinstance(s, dict)]


def condition_keys(policies: list[Any]) -> dict[str, dict]:
    """{context key (as written, lower-cased for identity): {"operators": set, "values": list}}."""
    out: dict[str, dict] = {}
    for policy in policies:
        for st in statements(policy):
            cond = st.get("Condition")
            if not isinstance(cond, dict):
                continue
            for operator, block in cond.items():
                if not isinstance(block, dict):
                    continue
                for key, values in block.items():
                    if not key.lower().startswith(("aws:", "kms:")):
                        continue  # another service's key: absent from every KMS request
                    entry = out.setdefault(key.lower(), {"name": key, "operators": set(), "values": []})
                    entry["operators"].add(operator)
                    for v in values if isinstance(values, list) else [values]:
                        if v not in entry["values"]:
                            entry["values"].append(v)
    return out


def _fill(value: str) -> str:
    """A concrete string a wildcard pattern matches."""
    return value.replace("*", "x").replace("?", "x")


def candidates(entry: dict) -> list[Any]:
    """Values to try for one key: each compared value made concrete (per operator family),
    and values matching none."""
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in entry["values"]]
    out: list[str] = []
    for op in (o.lower() for o in entry["operators"]):
        if "bool" in op:
            out += ["true", "false"]
        elif "numeric" in op:
            for v in values:
                try:
                    n = int(float(v))
                except ValueError:
                    continue
                out += [str(n), str(n + 1), str(n - 1)]
        elif "ipaddress" in op:
            for v in values:
                try:
                    out.append(str(next(iter(ipaddress.ip_network(v, strict=False)))))
                except (ValueError, StopIteration):
                    pass
            out.append("203.0.113.7")
        elif "date" in op:
            out += ["2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"]
        elif op.startswith("null"):
            continue  # present or absent: the other values and the base context cover it
        else:
            out += [_fill(v) for v in values if v not in ("true", "false") or "string" in op]
            out.append(NOMATCH)
    unique = []
    for v in out:
        if v not in unique:
            unique.append(v)
    return unique or [NOMATCH]


def _is_list(entry: dict) -> bool:
    return any(op.lower().startswith(("forallvalues", "foranyvalue")) for op in entry["operators"])


def _put(ctx: dict, name: str, value: Any, as_list: bool) -> dict:
    return {**ctx, name: [value] if as_list else value}


def satisfying(entry: dict) -> Any:
    """A value for one key that the statement's test of it admits, where the first
    candidate may not (`NumericLessThan 3600` is not met by 3600: generated-19-2055)."""
    values = candidates(entry)
    operators = [o.lower() for o in entry["operators"]]
    if len(operators) == 1:
        op = operators[0]
        if "not" in op.replace("ifexists", "") and not op.startswith("null"):
            return values[-1]
        if "numeric" in op and len(values) >= 3:
            return values[2] if "lessthan" in op else values[1] if "greaterthan" in op else values[0]
        if "date" in op and len(values) >= 2:
            return values[0] if "lessthan" in op else values[1]
    return values[0]


def together(groups: list[dict[str, dict]]) -> list[dict]:
    """For each group of keys one statement tests together (two or more), the context with
    each at the first value that statement compares it with: the request the statement is
    written for, whatever the other statements test."""
    out = []
    for group in groups:
        if len(group) > 1:
            ctx: dict = {}
            for entry in group.values():
                ctx = _put(ctx, entry["name"], satisfying(entry), _is_list(entry))
            out.append(ctx)
    return out


def dodging(groups: list[dict[str, dict]], keys: dict[str, dict]) -> list[dict]:
    """For each statement, the context with its keys at the first value it compares them
    with and every other key at its last candidate (a value matching none, an address
    outside, a later date): the request it admits that the other statements' tests miss
    (generated-18-0719: an Allow through a service that a Deny on kms:GrantOperations and
    aws:SourceIp refuses only when those keys match)."""
    out = []
    for group in groups:
        if not group or set(group) >= set(keys):
            continue
        ctx: dict = {}
        for k, entry in keys.items():
            mine = group.get(k)
            value = satisfying(mine) if mine is not None else candidates(entry)[-1]
            ctx = _put(ctx, entry["name"], value, _is_list(entry))
        out.append(ctx)
    return out


def variants(keys: dict[str, dict], limit: int = 8, groups: list[dict[str, dict]] = ()) -> list[dict]:
    """Contexts over the free keys: the base (empty) first, then the contexts of the keys
    one statement tests together (`groups`) and those dodging the other statements' tests,
    then one-key and further combined ones."""
    tried = {k: (e["name"], candidates(e), _is_list(e)) for k, e in keys.items()}

    out: list[dict] = [{}, *together(list(groups)), *dodging(list(groups), keys)]
    for name, values, as_list in tried.values():
        for value in values:
            out.append(_put({}, name, value, as_list))
    if len(tried) > 1:
        first = {}
        for name, values, as_list in tried.values():
            first = _put(first, name, values[0], as_list)
        out.append(first)
        for combo in itertools.islice(itertools.product(*[v[1] for v in tried.values()]), limit):
            ctx = {}
            for (name, _, as_list), value in zip(tried.values(), combo, strict=True):
                ctx = _put(ctx, name, value, as_list)
            out.append(ctx)
    unique = []
    for ctx in out:
        if ctx not in unique:
            unique.append(ctx)
    return unique
