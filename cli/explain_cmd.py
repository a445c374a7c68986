"""`kmspolicy explain TEMPLATE --key K --principal P [--action A]`: the chain of evidence
for one principal's access to one key, in the order a person would reason it.

For each action (or, without --action, each capability): the key-policy statements that
allow P or P's account (with a code frame), the identity-policy statements that complete
a delegation (a SAM policy template is shown at its `Policies` item, with its expansion
and the role it is given to), the denies and conditions that narrow it, the escalation
steps for `reachable`, the key-policy statements that play no part for P, and the
verdict. All of it is read from the access model (kmspolicy.bridge.access.evidence); cells
that differ between deployable variants follow, per scenario.
"""

from __future__ import annotations

import json

import click
import yaml

from kmspolicy.bridge.access.located import Cell, Evidence, Explanation
from kmspolicy.bridge.access.locator import LocatorError
from kmspolicy.bridge.access.report import AccessError

from .access_cmd import analyzer, fail, use_color, with_parameters
from .access_render import VERDICT_COLORS, subject_title
from .reporters import safe
from .reporters.base import file_sources
from .reporters.safe import clean
from .reporters.text import _code_frame, _Paint

_VERDICT_TEXT = {
    "allowed": "allowed",
    "conditional": "allowed only when the conditions hold",
    "unknown": "may be allowed: it depends on policy content the template does not show",
    "reachable": "not allowed now, but reachable: it can give itself access",
    "denied": "nothing allows it",
}


class _Writer:
    def __init__(self, explanation: Explanation, color: bool):
        self.x = explanation
        self.paint = _Paint(color)
        self.sources = file_sources()
        self.out: list[str] = []
        self.who = _short_name(explanation)

    def line(self, text: str = "", indent: int = 0) -> None:
        self.out.append((" " * indent + clean(text, keep="\t")).rstrip())

    def frame(self, location, indent: int = 3) -> None:
        self.line(f"{self.x.file}:{location.line}:{location.column}", indent)
        for text in _code_frame(location, self.sources(self.x.file), self.paint):
            self.out.append(" " * indent + text)

    def statement_name(self, evidence: Evidence) -> str:
        name = f'"{evidence.sid}"' if evidence.sid else f"#{evidence.statement}"
        return f"statement {name}"

    def actions_text(self, actions: list[str]) -> str:
        return ", ".join(actions) if len(actions) <= 6 else ", ".join(actions[:5]) + f" and {len(actions) - 5} more"

    def patterns_text(self, evidence: Evidence) -> str:
        parts = [f"`{text}` (line {loc.line})" for loc, text in evidence.located_patterns]
        return ", ".join(parts)

    # --- sections ------------------------------------------------------------

    def render(self) -> str:
        x = self.x
        target = x.action or "each capability"
        self.line(self.paint(f"{subject_title(x.subject)} → {x.key} ({x.file}:{x.key_location.line}): {target}", "1"))
        self.cells(x.cells)
        for part in x.scenarios:
            self.line()
            self.line(self.paint(f"-- {part.when} --", "1"))
            self.cells(part.cells, first_gap=x.action is None)
        for note in x.notes:
            self.line(f"note: {note}")
        for error in x.errors:
            self.line(f"{self.paint('error', '1;31')}: {error}")
        return "\n".join(self.out) + "\n"

    def cells(self, cells: dict[str, Cell], first_gap: bool = True) -> None:
        for n, (name, cell) in enumerate(cells.items()):
            if n or first_gap:
                self.line()
            if self.x.action is None:
                self.line(self.paint(f"== {name} ==", "1"))
            self.cell(name, cell)

    def cell(self, name: str, cell: Cell) -> None:
        self.steps(name, cell)
        for evidence in cell.incomplete:
            self.incomplete(evidence)
        self.unrelated(cell)
        self.verdict(cell)

    def steps(self, name: str, cell: Cell) -> None:
        step = 0
        key_grants = [g for g in cell.grants if g.policy == "key"]
        identity_grants = [g for g in cell.grants if g.policy == "identity"]
        for grant in key_grants:
            step += 1
            self.key_grant(step, grant)
        for grant in identity_grants:
            step += 1
            self.identity_grant(step, grant)
        if not cell.grants:
            step += 1
            self.line(f"{step}. No statement allows {self.who} {name}.")
        for deny in cell.denies:
            step += 1
            self.deny(step, deny)
        if cell.verdict == "allowed" and not cell.denies and not any(g.condition for g in cell.grants):
            step += 1
            self.line(f"{step}. Nothing narrows it: no Deny applies and no Condition restricts these statements.")
        for path in cell.escalation:
            step += 1
            self.escalation(step, path)

    def unrelated(self, cell: Cell) -> None:
        if cell.unrelated:
            self.line(f"Plays no part for {self.who}:")
            for evidence in cell.unrelated:
                named = ", ".join(evidence.named) or "its principals"
                whom = f"everyone but {named} (NotPrincipal), which excludes {self.who}" \
                    if evidence.not_principal else f"{named}, not to {self.who}"
                if evidence.condition is not None and not evidence.not_principal:
                    whom = f"{named} under a Condition (line {evidence.condition.line}) that none of the " \
                           f"requests of {self.who} meet"
                elif not evidence.not_principal and self.who in evidence.named:
                    whom = f"{named} under a Condition that none of the requests of {self.who} meet"
                self.line(f"- {self.statement_name(evidence)} (line {evidence.anchor.line}) grants "
                          f"{self.actions_text(evidence.actions)} to {whom}.", 2)

    def verdict(self, cell: Cell) -> None:
        verdict = self.paint(cell.verdict, VERDICT_COLORS[cell.verdict])
        detail = _VERDICT_TEXT[cell.verdict]
        if cell.verdict == "allowed":
            detail = "bilateral: key-policy delegation + identity policy" if cell.bilateral else \
                "the key policy, and IAM policies of the caller's account: across accounts both must allow" \
                if self.x.subject.external else "the key policy alone"
        if cell.verdict == "denied" and cell.actions:
            detail = "an explicit Deny overrides the Allow"
        if self.x.action is None and cell.actions:
            detail += f"; {self.actions_text(cell.actions)}"
        self.line(f"Verdict: {verdict} ({detail})")

    def key_grant(self, step: int, grant: Evidence) -> None:
        actions = self.actions_text(grant.actions)
        if grant.role == "delegation":
            account = "the account" if self.x.subject.kind == "account" else f"{self.who}'s account"
            self.line(f"{step}. The key policy delegates {actions} to {account}: "
                      f"{self.statement_name(grant)} (account delegation)")
        else:
            self.line(f"{step}. The key policy allows {self.who} {actions}: {self.statement_name(grant)}")
        if grant.anchor:
            self.frame(grant.anchor)
        if grant.patterns:
            self.line(f"Action {self.patterns_text(grant)} covers {actions}.", 3)
        if grant.role == "delegation":
            self.line("The account principal is not the root user: it lets the account's IAM policies "
                      "grant access, so an identity policy must allow it too.", 3)
        self.condition(grant)

    def identity_grant(self, step: int, grant: Evidence) -> None:
        actions = self.actions_text(grant.actions)
        origin = grant.origin or {}
        identity = self.x.subject
        role = grant.identity
        if origin.get("kind") == "sam-policy-template":
            owner = identity.owner or role
            implicit = " implicit" if identity.owner and role == f"{identity.owner}Role" else ""
            self.line(f"{step}. An identity policy completes it: SAM policy template {origin['template']} in "
                      f"{owner}'s Policies, given to its{implicit} role {role}, allows {actions} on the key")
        else:
            where = f"group {origin['group']}'s policy" if origin.get("kind") == "group" else "an identity policy"
            self.line(f"{step}. {where[0].upper() + where[1:]} of {role} completes it: "
                      f"{self.statement_name(grant)} allows {actions} on the key")
        if grant.location:
            self.frame(grant.location)
        if origin.get("kind") == "sam-policy-template":
            self.line(f"{origin['template']} expands to:", 3)
            expanded = yaml.safe_dump(origin.get("expanded"), default_flow_style=False, sort_keys=False)
            for text in expanded.splitlines():
                self.line(text, 5)
        elif grant.patterns:
            self.line(f"Action {self.patterns_text(grant)} covers {actions}.", 3)
        self.condition(grant)

    def condition(self, evidence: Evidence) -> None:
        if evidence.condition:
            self.line(f"Narrowed by the Condition at line {evidence.condition.line}: it applies only when "
                      "the condition holds.", 3)

    def deny(self, step: int, deny: Evidence) -> None:
        policy = "key policy" if deny.policy == "key" else f"identity policy of {deny.identity}"
        when = " when its Condition holds" if deny.condition else ""
        self.line(f"{step}. Denied by the {policy}{when}: {self.statement_name(deny)} denies "
                  f"{self.actions_text(deny.actions)}; an explicit Deny wins over every Allow.")
        if deny.anchor:
            self.frame(deny.anchor)

    def escalation(self, step: int, path) -> None:
        via = path.via
        how = ("may rewrite the key policy to allow itself" if path.action == "kms:PutKeyPolicy"
               else "may grant itself")
        patterns = ", ".join(f"`{t}` at line {loc.line}" for loc, t in via.located_patterns)
        where = "" if via.policy == "key" else f" in an identity policy of {via.identity}"
        self.line(f"{step}. Escalation: {path.action.removeprefix('kms:')} allowed by {patterns}{where} "
                  f"→ {how} {self.actions_text(path.gains)}")
        if via.patterns:
            self.frame(via.patterns[0])
        if path.delegation is not None:
            self.line(f"(the key policy delegates it to the account: {self.statement_name(path.delegation)}, "
                      f"line {path.delegation.anchor.line})", 3)

    def incomplete(self, evidence: Evidence) -> None:
        actions = self.actions_text(evidence.actions)
        if self.x.subject.kind == "identity":
            self.line(f"Note: {self.statement_name(evidence)} (line {evidence.anchor.line}) delegates {actions} "
                      f"to the account, but no identity policy of {self.who} allows it on {self.x.key}.")
        else:
            self.line(f"Note: {self.statement_name(evidence)} (line {evidence.anchor.line}) delegates {actions} "
                      f"to {self.who}'s account: its IAM policies, not in this template, may allow more "
                      "(see --principal account).")


def _short_name(explanation: Explanation) -> str:
    subject = explanation.subject
    if subject.kind == "identity":
        return subject.owner or subject.identity or subject.label
    return subject.label


def render_explanation(explanation: Explanation, color: bool = False) -> str:
    return _Writer(explanation, color).render()


@click.command("explain")
@click.argument("template", type=click.Path())
@click.option("--key", "key", required=True, metavar="LOGICAL_ID", help="The key.")
@click.option("--principal", required=True, metavar="P",
              help="A logical ID (a function means its role), a principal ARN, 'account' or '*'.")
@click.option("--action", metavar="ACTION", help="One KMS action (default: every capability).")
@click.option("-f", "--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@with_parameters
@click.option("--no-color", is_flag=True, help="No ANSI colour (NO_COLOR is honoured too).")
def explain_command(template, key, principal, action, output_format, parameters, parameters_file,
                    scenario, config_path, no_color) -> None:
    """Why PRINCIPAL can (or cannot) use KEY: the statements, in order, and the verdict
    (per scenario where the template's deployable variants differ)."""
    try:
        explanation = analyzer(parameters, parameters_file, scenario, config_path, template).explain(
            template, key, principal, action)
    except (AccessError, LocatorError) as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(safe.guarded(json.dumps(explanation.to_json(), indent=2, ensure_ascii=False),
                                safe.json_line))
    else:  # no line can command a CI log (reporters/safe.py)
        click.echo(safe.guarded(render_explanation(explanation, use_color(no_color)),
                                safe.text_line), nl=False)
    if explanation.errors:
        raise SystemExit(2)
