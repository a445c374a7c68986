"""The rule catalog, read from the rules' OPA METADATA annotations.

regopy has no `rego.metadata.*` builtins, so the bridge parses the `# METADATA` block
that opens each rule file (YAML in comments) itself; SARIF, `kmspolicy rules` and the
docs all read this catalog.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

PACKAGE_LINE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
RULE_ID = re.compile(r"^[A-Z][A-Z0-9_-]*$")


@dataclass(frozen=True)
class Rule:
    id: str
    package: str
    title: str
    description: str
    severity: str
    remediation: str
    file: str
    example: str = ""
    # Where a suppression accepts its findings: "key" (the key's Metadata.kmspolicy) or
    # "identity" (the identity's, or that of every key the finding names).
    suppress_on: str = "key"

    @property
    def name(self) -> str:
        return self.package.rsplit(".", 1)[-1]


class RuleMetadataError(ValueError):
    pass


# libyaml's loader when PyYAML has it: the same safe loading, ~10x faster (start-up time)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def package_of(source: str) -> str | None:
    match = PACKAGE_LINE.search(source)
    return match.group(1) if match else None


def package_metadata(source: str) -> dict | None:
    """The METADATA block placed directly before the `package` line, parsed; None if absent."""
    lines = source.splitlines()
    index = next((i for i, line in enumerate(lines) if line.startswith("package ")), None)
    if index is None:
        return None
    block: list[str] = []
    for line in reversed(lines[:index]):
        if not line.startswith("#"):
            break
        block.append(line)
    block.reverse()
    if not block or block[0].strip() != "# METADATA":
        return None
    text = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in block[1:])
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise RuleMetadataError(f"METADATA is not valid YAML: {exc}") from None
    return data if isinstance(data, dict) else None


def rule_from_source(source: str, file: str) -> Rule | None:
    """A Rule for a `kmspolicy.rules.*` package with an id; None for other files."""
    package = package_of(source)
    if not package or not package.startswith("kmspolicy.rules."):
        return None
    try:
        meta = package_metadata(source)
    except RuleMetadataError as exc:
        raise RuleMetadataError(f"{file}: {exc}") from None
    if meta is None:
        raise RuleMetadataError(f"{file}: rule package {package} has no METADATA block")
    custom = meta.get("custom") or {}
    rule_id = custom.get("id")
    severity = custom.get("severity")
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise RuleMetadataError(f"{file}: METADATA custom.id must be an id like KP001")
    if severity not in ("critical", "high", "medium", "low", "info"):
        raise RuleMetadataError(f"{file}: METADATA custom.severity must be critical, high, "
                                "medium, low or info")
    return Rule(
        id=rule_id, package=package, title=str(meta.get("title", rule_id)).strip(),
        description=str(meta.get("description", "")).strip(), severity=severity,
        remediation=str(custom.get("remediation", "")).strip(), file=file,
        example=str(custom.get("example", "")).rstrip(),
        suppress_on="identity" if custom.get("suppress_on") == "identity" else "key",
    )


def catalog_from_modules(modules: dict[str, str]) -> dict[str, Rule]:
    """{rule id: Rule} for every rule module among {file name: source}."""
    rules: dict[str, Rule] = {}
    for file, source in sorted(modules.items()):
        if file.endswith("_test.rego"):
            continue
        rule = rule_from_source(source, file)
        if rule is None:
            continue
        if rule.id in rules:
            raise RuleMetadataError(f"{file}: rule id {rule.id} is also used by {rules[rule.id].file}")
        rules[rule.id] = rule
    return rules


def builtin_policy_dir() -> Path:
    import kmspolicy.policies  # its folder: importlib.resources costs ~7 ms to import

    return Path(kmspolicy.policies.__file__).parent


def builtin_modules() -> dict[str, str]:
    """{module name: source} of the shipped policies, as the engines load them."""
    return dict(_builtin_modules())


def builtin_module(name: str) -> str | None:
    """The source of one shipped module (`kmspolicy/main.rego`), None if there is none."""
    return _builtin_modules().get(name)


@lru_cache(maxsize=1)
def _builtin_modules() -> dict[str, str]:
    return {f"kmspolicy/{name}": source
            for name, source in read_policy_dir(builtin_policy_dir() / "kmspolicy").items()}


def read_policy_dir(root: Path, *, include_tests: bool = False) -> dict[str, str]:
    """{path relative to root: source} of the .rego files below root."""
    out = {}
    for path in sorted(root.rglob("*.rego")):
        if path.name.endswith("_test.rego") and not include_tests:
            continue
        out[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
    return out


def unknown_rule(rule_id: str, known: Iterable[str]) -> str:
    """`unknown rule 'KP099' (did you mean KP009?)`: for ids in configs, suppressions and options."""
    import difflib

    known = sorted(known)
    numbered = re.fullmatch(r"([A-Z]+)0*(\d+)", rule_id.upper())
    padded = numbered and f"{numbered[1]}{int(numbered[2]):03d}"
    close = [padded] if padded in known else difflib.get_close_matches(rule_id.upper(), known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
    return f"unknown rule {rule_id!r} ({hint})"
