"""Policy statements (key policies and identity policies) in the normalized input form."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .access.concrete import Namer, concrete, condition_values, key_arn
from .condition_problems import condition_problems
from .conditions import classify
from .intrinsics import IntrinsicError, Resolver, Sym, describe, literal
from .policy_validity import resource_problem
from .principals import IdentityLinker, parse_principal_element, split_symbolic

EFFECTS = ("Allow", "Deny")
MAX_STATEMENTS = 100
"""Most statements one policy document may have (Fn::If branches count); beyond it the
policy is refused, so a hostile template cannot make evaluation slow."""
MAX_PRINCIPALS_PER_KEY = 100
"""Most distinct principals one key policy may name; every one is a subject to evaluate."""
STATEMENT_FIELDS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                    "Resource", "NotResource", "Condition"}


@dataclass
class PolicyContext:
    """What a statement is read against."""

    resolver: Resolver
    link: IdentityLinker
    key_ids: list[str]
    problems: list[tuple[str, str]] = field(default_factory=list)
    namer: Namer = field(default=lambda _resource, _attribute: None)
    own_accounts: frozenset[str] = frozenset()
    refused: list[dict] = field(default_factory=list)
    """What KMS refuses (or ignores) in key policies: {path, message, outcome, dropped}."""

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def refuse(self, path: str, message: str, *, outcome: str = "rejected", dropped: bool = True) -> None:
        """A key-policy element KMS rejects ("rejected") or that has no effect ("ignored");
        `dropped`: the statement or principal is left out of the analysis."""
        self.refused.append({"path": path, "message": message, "outcome": outcome, "dropped": dropped})


def pointer(*parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def statements_of(document: Any, path: str, ctx: PolicyContext) -> list[tuple[dict, str]]:
    """The statements of a policy document with their pointers; problems for bad shapes.

    `Statement` may be one statement or a list; an item (or the whole list) inside
    Fn::If counts with both branches, since either may be deployed.
    """
    if not isinstance(document, dict):
        ctx.problem(path, "policy document must be a mapping with a Statement")
        return []
    if "Statement" not in document:
        ctx.problem(path, "policy document has no Statement")
        return []
    raw = document["Statement"]
    base = path + "/Statement"
    items = ctx.resolver.items(raw)
    if len(items) > MAX_STATEMENTS:
        ctx.problem(base, f"policy has {len(items):,} statements, more than the limit of "
                          f"{MAX_STATEMENTS} (MAX_STATEMENTS); it is not analyzed")
        return []
    out = []
    for statement, suffix in items:
        spath = base + suffix
        if isinstance(statement, dict) and len(statement) == 1 and next(iter(statement)).startswith("Fn::"):
            ctx.problem(spath, f"a statement built with {next(iter(statement))} cannot be analyzed statically")
        elif isinstance(statement, dict):
            out.append((statement, spath))
        else:
            ctx.problem(spath, "statement must be a mapping")
    return out


def key_principal_problem(statements: list[dict]) -> str | None:
    """Why a key policy's statements name too many principals to analyze, if they do."""
    distinct = {p["id"] for statement in statements for p in statement["principals"]}
    if len(distinct) > MAX_PRINCIPALS_PER_KEY:
        return (f"key policy names {len(distinct):,} distinct principals, more than the limit "
                f"of {MAX_PRINCIPALS_PER_KEY} (MAX_PRINCIPALS_PER_KEY); it is not analyzed")
    return None


def normalize_statement(statement: dict, path: str, index: int, ctx: PolicyContext, *,
                        key_policy: bool, element_path: str | None = None) -> dict | None:
    """One statement → its normalized form, or None (with a problem) when it is unreadable.

    `element_path` pins every element pointer to one node (statements expanded from a SAM
    policy template live at the `Policies` item that produced them).
    """
    def at(*parts: Any) -> str:
        return element_path or (path + pointer(*parts))

    pinned = element_path is not None
    # What IAM's grammar refuses makes a key policy a KP021 finding, an identity policy an error.
    refuse = ctx.refuse if key_policy else ctx.problem

    unknown = sorted(k for k in statement if k not in STATEMENT_FIELDS)
    if unknown:
        refuse(at(unknown[0]), f"unknown statement field '{unknown[0]}'")
        return None
    effect = statement.get("Effect")
    if effect not in EFFECTS:
        if "Effect" not in statement:
            refuse(path, "statement has no Effect")
        elif isinstance(effect, str):
            refuse(at("Effect"), f"Effect must be Allow or Deny (case-sensitive), got {_shown(effect)}")
        else:
            ctx.problem(at("Effect"), f"Effect must be Allow or Deny, got {_shown(effect)}")
        return None
    out: dict = {
        "index": index, "sid": _sid(statement.get("Sid")), "path": element_path or path,
        "effect": effect, "effect_path": at("Effect"),
    }
    if not _actions(statement, out, at, ctx, pinned, refuse, key_policy):
        return None
    if key_policy:
        principals_read = _principals(statement, out, at, ctx)
        if not _key_policy_resource(statement, path, at, ctx) or not principals_read:
            return None
        out["resources"] = None
        out["key_scope"] = _key_scope(statement, ctx)
    else:
        out["principal_mode"] = None
        out["principals"] = []
        if not _resources(statement, out, at, ctx, pinned):
            return None
    condition = statement.get("Condition")
    if condition is not None and not isinstance(condition, dict):
        ctx.problem(at("Condition"), "Condition must be a mapping of operators")
        return None
    out["condition"] = classify(condition)
    out["condition"]["path"] = at("Condition") if condition else None
    out["condition"]["block"] = condition_values(condition, ctx.resolver.strings, ctx.namer, ctx.own_accounts,
                                                   ctx.resolver.string_list)
    out["condition"]["problems"] = [
        {"path": at("Condition") if pinned or where == "Condition" else at("Condition", *where.split("/", 1)),
         "message": message}
        for where, message in condition_problems(out["condition"]["block"])]
    ops = out["condition"]["grant_operations"]
    if ops is not None:
        out["condition"]["grant_operations"] = sorted(
            {a for op in ops for a in catalog.expand(op if ":" in op else f"kms:{op}")})
    return out


def kms_patterns(statement: dict) -> list[dict]:
    """The statement's patterns that grant KMS actions. A NotAction statement's listed
    patterns are what it leaves out (`NotAction: [iam:*]` in PowerUserAccess lists no KMS
    action at all): it is one pattern then, the element, with the KMS actions it allows."""
    if statement["action_mode"] != "NotAction":
        return [p for p in statement["patterns"] if p["actions"]]
    listed = statement["patterns"]
    return [{"pattern": "NotAction: " + ", ".join(p["pattern"] for p in listed),
             "path": _element_path([p["path"] for p in listed]),
             "actions": statement["actions"], "action_mask": statement["action_mask"],
             "unresolved": any(p["unresolved"] for p in listed)}]


def _element_path(paths: list[str]) -> str:
    """The NotAction element's pointer: its items' (or, pinned to a policy reference, theirs)."""
    if len(set(paths)) == 1:
        return paths[0]
    return paths[0].rsplit("/", 1)[0]


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) and len(value) <= 40 else describe(value)


def _sid(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mode(statement: dict, names: tuple[str, str], out: dict, refuse, whose: str) -> str | None:
    """Which of two exclusive fields (Action/NotAction, ...) the statement uses; None, with a
    problem, unless exactly one."""
    modes = [m for m in names if m in statement]
    if len(modes) != 1:
        refuse(out["path"], f"{whose} must have exactly one of {names[0]} or {names[1]}")
        return None
    return modes[0]


def _actions(statement: dict, out: dict, at, ctx: PolicyContext, pinned: bool, refuse,
             key_policy: bool) -> bool:
    mode = _mode(statement, ("Action", "NotAction"), out, refuse, "statement")
    if mode is None:
        return False
    patterns = []
    matched: set[str] = set()
    for item, suffix in ctx.resolver.items(statement[mode]):
        item_path = at(mode) + ("" if pinned else suffix)
        if not isinstance(item, str | dict):
            ctx.problem(item_path, f"{mode} must be a string or a list of strings, "
                                   f"got {describe(item)}")
            return False
        try:
            alternatives = ctx.resolver.strings(item)
        except IntrinsicError as exc:
            ctx.problem(item_path, f"{mode} {exc}")
            return False
        for alt in alternatives:
            text = literal(alt)
            if text is None:
                actions = list(catalog.ALL_ACTIONS)
                text = "".join(p if isinstance(p, str) else "*" for p in alt)
                unresolved = True
            else:
                try:
                    actions = catalog.expand(text)
                except ValueError as exc:  # IAM rejects the policy: the template is broken
                    refuse(item_path, f"{mode}: {exc}")
                    return False
                unresolved = False
                if key_policy and not actions and text.partition(":")[0].lower() == "kms":
                    ctx.refuse(item_path, f"'{text}' matches no KMS action, so it has no effect",
                               outcome="ignored", dropped=False)
            matched.update(actions)
            patterns.append({"pattern": text, "path": item_path, "actions": actions,
                             "action_mask": catalog.action_mask(actions), "unresolved": unresolved})
    if not patterns:
        ctx.problem(at(mode), f"{mode} is empty")
        return False
    effective = sorted(matched) if mode == "Action" else catalog.complement(matched)
    out["action_mode"] = mode
    out["patterns"] = patterns
    out["actions"] = effective
    out["classes"] = catalog.classes_of(effective)
    out["action_mask"] = catalog.action_mask(effective)
    return True


def _principals(statement: dict, out: dict, at, ctx: PolicyContext) -> bool:
    mode = _mode(statement, ("Principal", "NotPrincipal"), out, ctx.refuse, "a key policy statement")
    if mode is None:
        return False
    principals, problems, refused = parse_principal_element(statement[mode], at(mode), ctx.resolver, ctx.link)
    for problem in problems:
        ctx.problem(*problem)
    for where, reason in refused:
        ctx.refuse(where, reason)
    if (problems or refused) and not principals:
        return False
    if refused and mode == "NotPrincipal":
        return False  # without the refused exclusion the statement would reach more principals
    out["principal_mode"] = mode
    out["principals"] = principals
    return True


def _key_policy_resource(statement: dict, path: str, at, ctx: PolicyContext) -> bool:
    """Refuse what KMS rejects in a key-policy statement's Resource; False when the statement
    has none (it has no effect and is left out)."""
    values = []
    for item, _ in ctx.resolver.items(statement.get("Resource", [])):
        try:
            values.extend(ctx.resolver.strings(item))
        except IntrinsicError:
            continue  # reported by _key_scope's reading as unknown, never guessed invalid
    reason = resource_problem(statement, values)
    if reason is None:
        return True
    missing = "Resource" not in statement and "NotResource" not in statement
    ctx.refuse(path if missing else at("Resource"), reason, dropped=missing)
    return not missing


def _resources(statement: dict, out: dict, at, ctx: PolicyContext, pinned: bool) -> bool:
    mode = _mode(statement, ("Resource", "NotResource"), out, ctx.problem, "an identity policy statement")
    if mode is None:
        return False
    matched: set[str] = set()
    wildcard = False
    maybe = False
    mismatch = None
    meant: set[str] = set()
    paths = []
    for item, suffix in ctx.resolver.items(statement[mode]):
        item_path = at(mode) + ("" if pinned else suffix)
        paths.append(item_path)
        try:
            alternatives = ctx.resolver.strings(item)
        except IntrinsicError as exc:
            ctx.problem(item_path, f"{mode} {exc}")
            return False
        for alt in alternatives:
            keys, is_wildcard, is_maybe = _keys_matched(alt, ctx)
            matched.update(keys)
            wildcard = wildcard or is_wildcard
            maybe = maybe or is_maybe
            wrong = _key_mismatch(alt, ctx)
            if wrong:
                mismatch = mismatch or wrong
                meant |= _keys_meant(alt, ctx)
    if mode == "Resource":
        keys = sorted(ctx.key_ids) if wildcard else sorted(matched)
        any_key = wildcard
    else:
        keys = [] if wildcard else sorted(set(ctx.key_ids) - matched)
        any_key = not wildcard
    out["resources"] = {"mode": mode, "keys": keys, "any_key": any_key,
                        "unresolved": maybe, "paths": paths}
    if mismatch:
        out["resources"]["mismatch"] = mismatch
        out["resources"]["meant_keys"] = sorted(meant)
    return True


def _keys_meant(value: tuple, ctx: PolicyContext) -> set[str]:
    """The template keys a mismatched Resource was meant for: the key whose ARN it holds, or
    the key an alias it names targets."""
    found = set()
    for sym in (p for p in value if isinstance(p, Sym) and p.kind in ("ref", "getatt")):
        target = sym.value.partition(".")[0]
        if target in ctx.key_ids:
            found.add(target)
        elif ctx.resolver.resource_type(target) == "AWS::KMS::Alias":
            alias = ctx.resolver.resources.get(target) or {}
            key = (alias.get("Properties") or {}).get("TargetKeyId") if isinstance(alias, dict) else None
            ref = key.get("Ref") if isinstance(key, dict) else None
            if ref in ctx.key_ids:
                found.add(ref)
    return found


KEY_ARN_SHAPE = key_arn("the-key")


def _key_scope(statement: dict, ctx: PolicyContext) -> str:
    """Whether a key-policy statement's Resource takes in the key ("*" does): "yes", "no"
    (a literal ARN of something else: the statement never applies) or "unknown"."""
    mode = "NotResource" if "NotResource" in statement else "Resource"
    if mode not in statement:
        return "yes"
    found = set()
    for item, _ in ctx.resolver.items(statement[mode]):
        try:
            alternatives = ctx.resolver.strings(item)
        except IntrinsicError:
            return "unknown"
        found.update(_covers_the_key(concrete(alt, ctx.namer, ctx.own_accounts)) for alt in alternatives)
    if mode == "NotResource":
        found = {{"yes": "no", "no": "yes"}.get(v, v) for v in found}
        return "no" if "no" in found else ("yes" if found == {"yes"} else "unknown")
    return "yes" if "yes" in found else ("no" if found <= {"no"} else "unknown")


def _covers_the_key(text: str | None) -> str:
    """Whether one Resource value takes in the key the policy is attached to."""
    if text is None:
        return "unknown"
    if text.strip("*") == "" or _glob_matches(text, KEY_ARN_SHAPE):
        return "yes"
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "no"
    service, resource = parts[2], parts[5]
    wild = any(c in service for c in "*?")
    if not wild and service.lower() != "kms":
        return "no"
    if not any(c in resource for c in "*?"):
        return "no"  # another resource, or a key ID: the key's own does not exist before it
    return "unknown"


def _keys_matched(value: tuple, ctx: PolicyContext) -> tuple[set[str], bool, bool]:
    """(template keys a Resource value names, whether it matches every key, whether unknown)."""
    text = literal(value)
    if text is not None and text.strip("*") == "":
        return set(), True, False
    if len(value) == 1 and isinstance(value[0], Sym):
        sym = value[0]
        target = sym.value.partition(".")[0] if sym.kind in ("ref", "getatt") else None
        if target in ctx.key_ids:
            return {target}, False, False
        return set(), False, sym.kind in ("param", "unknown")
    segments = split_symbolic(value, ":")
    if len(segments) < 6:
        return set(), False, False
    service = literal(segments[2])
    if service is not None and not _glob_matches(service, "kms"):
        return set(), False, False
    resource = segments[5]
    resource_text = literal(resource)
    if resource_text is not None:
        kind, _, ident = resource_text.partition("/")
        if resource_text.strip("*?") == "" or (_glob_matches(kind, "key") and ident.strip("*?") == ""):
            return set(), True, False
        return set(), False, False
    parts = split_symbolic(resource, "/")
    if len(parts) == 2 and literal(parts[0]) in ("key", "key*"):
        ident = parts[1]
        if len(ident) == 1 and isinstance(ident[0], Sym):
            sym = ident[0]
            target = sym.value.partition(".")[0]
            if sym.kind in ("ref", "getatt") and target in ctx.key_ids and not _names_other_than_id(sym, ctx):
                return {target}, False, False
            return set(), False, sym.kind in ("param", "unknown")
        if _key_mismatch(value, ctx):
            return set(), False, False
    return set(), False, True


def _names_other_than_id(sym: Sym, ctx: PolicyContext) -> bool:
    """A key's Arn attribute or an alias's Ref: not what follows `key/` in a key ARN."""
    if sym.kind == "getatt":
        return sym.value.partition(".")[2] == "Arn"
    return sym.kind == "ref" and ctx.resolver.resource_type(sym.value) == "AWS::KMS::Alias"


def _key_mismatch(value: tuple, ctx: PolicyContext) -> str | None:
    """Why an ARN of the form `…:key/<id>` matches no key because <id> is not a key ID (SAM's
    KMS policy templates build `key/${KeyId}`, KMS-SEMANTICS.md §10); None otherwise."""
    segments = split_symbolic(value, ":")
    if len(segments) < 6 or literal(segments[2]) != "kms":
        return None
    parts = split_symbolic(segments[5], "/")
    if literal(parts[0]) not in ("key",) or len(parts) < 2:
        return None
    ident = parts[1]
    if len(parts) == 2 and len(ident) == 1 and isinstance(ident[0], Sym) and \
            _names_other_than_id(ident[0], ctx):
        sym = ident[0]
        if sym.kind == "getatt":
            target = sym.value.partition(".")[0]
            return (f"KeyId is the key's ARN (!GetAtt {sym.value}); SAM builds key/<ARN>, which "
                    f"matches no key: give the key ID (!Ref {target})")
        return (f"KeyId is the alias {sym.value} (its Ref is alias/…); key/alias/… matches no key: "
                "give the key ID")
    if literal(ident) == "alias":
        return "KeyId is an alias; key/alias/… matches no key: give the key ID"
    if literal(ident) == "arn" and len(parts) == 2 and len(segments) > 6:
        return "KeyId is a key ARN; SAM builds key/<ARN>, which matches no key: give the key ID"
    return None


def _glob_matches(pattern: str, text: str) -> bool:
    return fnmatch.fnmatchcase(text.lower(), pattern.lower())
