"""`kmspolicy rules [ID]`: the rule catalog, read from the rules' METADATA.

The same text makes `docs/rules/<ID>.md` (`make docs`), so the docs cannot drift.
"""

from __future__ import annotations

import click

from kmspolicy.bridge.pipeline import PolicySet
from kmspolicy.bridge.rules import Rule


def catalog() -> list[Rule]:
    return sorted(PolicySet.builtin().rules.values(), key=lambda r: r.id)


def rule_text(rule: Rule) -> str:
    parts = [f"{rule.id} [{rule.severity}] {rule.title}", "", rule.description, "",
             "Remediation:", _indent(rule.remediation)]
    if rule.example:
        parts += ["", "Example that triggers it:", _indent(rule.example)]
    parts += ["", f"Rego: policies/{rule.file} (package {rule.package})"]
    return "\n".join(parts) + "\n"


def rule_markdown(rule: Rule) -> str:
    parts = [f"# {rule.id}: {rule.title}", "", f"Severity: **{rule.severity}** · "
             f"Rego package `{rule.package}` (`policies/{rule.file}`)", "", rule.description, "",
             "## Remediation", "", rule.remediation, ""]
    if rule.example:
        parts += ["## Example that triggers it", "", "```yaml", rule.example, "```", ""]
    parts += ["## Suppressing it", "", "On the key, with a reason:", "", "```yaml",
              "Metadata:", "  kmspolicy:", "    suppress:", f"      - rule: {rule.id}",
              "        reason: why this is accepted", "```", ""]
    return "\n".join(parts)


def index_markdown(rules: list[Rule]) -> str:
    lines = ["# Rules", "", "Generated from the rules' METADATA by `make docs`; do not edit.", "",
             "| id | severity | title |", "|---|---|---|"]
    lines += [f"| [{r.id}]({r.id}.md) | {r.severity} | {r.title} |" for r in rules]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines())


@click.command("rules")
@click.argument("rule_id", required=False)
def rules_command(rule_id: str | None) -> None:
    """List the rules, or show one rule in full (description, remediation, example)."""
    rules = catalog()
    if rule_id is None:
        width = max(len(r.severity) for r in rules)
        for rule in rules:
            click.echo(f"{rule.id}  {rule.severity:<{width}}  {rule.title}")
        return
    wanted = rule_id.upper()
    for rule in rules:
        if rule.id == wanted:
            click.echo(rule_text(rule), nl=False)
            return
    raise click.BadParameter(f"no rule {rule_id!r} (known: {', '.join(r.id for r in rules)})",
                             param_hint="RULE_ID")
