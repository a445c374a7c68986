"""`kmspolicy rules [ID]`: the rule catalog, read from the rules' METADATA.

The same text makes `docs/rules/<ID>.md` (`make docs`), so the docs cannot drift.
`--format json` is the machine-readable catalog: `{"version": 1, "rules": [{id, severity,
title, description, remediation, example, package, file, help_uri}]}`.
"""

from __future__ import annotations

import json

import click

from kmspolicy.bridge.pipeline import PolicySet
from kmspolicy.bridge.rules import Rule, unknown_rule

from .rule_docs import doc_url


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
    where = ("On the identity the finding is on (the role, user or SAM function), or on every "
             "key it names, with a reason:" if rule.suppress_on == "identity" else "On the key, with a reason:")
    parts += ["## Suppressing it", "", where, "", "```yaml",
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


def rule_json(rule: Rule) -> dict:
    """One rule of `rules --format json` (every field always present; `help_uri` may be null)."""
    return {"id": rule.id, "severity": rule.severity, "title": rule.title,
            "description": rule.description, "remediation": rule.remediation,
            "example": rule.example, "package": rule.package, "file": f"policies/{rule.file}",
            "help_uri": doc_url(rule.id)}


@click.command("rules")
@click.argument("rule_id", required=False)
@click.option("-f", "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: the catalog as {\"version\": 1, \"rules\": [...]}.")
def rules_command(rule_id: str | None, output_format: str) -> None:
    """List the rules, or show one rule in full (description, remediation, example)."""
    rules = catalog()
    if rule_id is not None:
        rules = [rule for rule in rules if rule.id == rule_id.upper()]
        if not rules:
            raise click.BadParameter(unknown_rule(rule_id, (r.id for r in catalog())),
                                     param_hint="RULE_ID")
    if output_format == "json":
        click.echo(json.dumps({"version": 1, "rules": [rule_json(rule) for rule in rules]}, indent=2))
        return
    if rule_id is None:
        width = max(len(r.severity) for r in rules)
        for rule in rules:
            click.echo(f"{rule.id}  {rule.severity:<{width}}  {rule.title}")
        return
    click.echo(rule_text(rules[0]), nl=False)
