"""`kmspolicy fix TEMPLATE`: the least-privilege key policy for each key's intent, as a
unified diff (or `--write`), proven by analysing the patched template in the same run.
Exit 0 with a proven patch, 2 when the intent cannot be met or the proof fails (no patch)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import click

from kmspolicy import __version__
from kmspolicy.bridge.access.located import Subject
from kmspolicy.bridge.cdk.assembly import deployment_account, with_account
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.findings import FileStatus, Result
from kmspolicy.bridge.fix.fixer import FixError, FixResult, fix
from kmspolicy.bridge.fix.plan import Overrides
from kmspolicy.bridge.pipeline import PolicySet

from .access_cmd import fail, with_parameter_values
from .access_render import subject_title
from .config import ConfigError, load_config
from .params import parse_parameters
from .reporters import ReportContext, safe
from .reporters.sarif import REPORTER as SARIF
from .reporters.sarif import add_fixes, sarif_fix
from .selection import find_config


def _short(actions: list[str]) -> str:
    names = [a.removeprefix("kms:") for a in actions]
    return ", ".join(names) if len(names) <= 6 else ", ".join(names[:5]) + f" and {len(names) - 5} more"


def _title(change) -> str:
    identity = change.subject_id.split(":", 1)[1] if change.kind == "identity" else None
    return subject_title(Subject(change.subject_id, change.kind, change.subject, "", identity, change.owner))


def access_lines(result: FixResult, kid: str) -> list[str]:
    out = []
    by_subject: dict[str, list[str]] = {}
    for c in result.changes[kid]:
        if c.before == c.after:
            what = f"keeps {c.before}"
        elif c.after == "none":
            what = f"loses ({c.before} before)"
        elif c.before == "none":
            what = f"gains ({c.after})"
        else:
            what = f"{c.before} -> {c.after}"
        by_subject.setdefault(_title(c), []).append(f"{c.capability}: {what}: {_short(c.actions)}")
    for subject, parts in by_subject.items():
        out.append(f"  {subject}")
        out += [f"    {p}" for p in parts]
    return out


def render_text(result: FixResult) -> str:
    out = []
    if result.safe and result.plans:
        out.append(result.diff().rstrip("\n"))
        out.append("")
    for kid in result.unchanged:
        out.append(f"{kid}: nothing to fix (no finding a key policy answers)")
    for plan in result.plans:
        verdict = result.verdicts[plan.key_id]
        head = "proven" if verdict.safe else "NOT proposed"
        out.append(f"{plan.key_id}: {head} (root: {plan.root}; intent: {plan.source})")
        for f in verdict.resolved:
            out.append(f"  resolves {f.rule} (line {f.line}): {f.title}")
        for f, why in verdict.remaining:
            out.append(f"  remains  {f.rule} (line {f.line} of the patched template): {why}")
        for why in verdict.blocking:
            out.append(f"  blocks   {why}")
        if result.before_format == "json":  # JSON has no comments: the reasons are here
            out.append("  statements:")
            for st in plan.statements:
                out.append(f"    {st.sid}: {' '.join(st.notes)}")
        out.append("  access change (verdict before -> after, as `kmspolicy access` computes it):")
        out += access_lines(result, plan.key_id)
    return "\n".join(out) + "\n"


def render_json(result: FixResult) -> str:
    keys = []
    for plan in result.plans:
        v = result.verdicts[plan.key_id]
        keys.append({
            "key": plan.key_id, "root": plan.root, "intent": plan.source,
            "proven": v.safe,
            "resolves": [{"rule": f.rule, "line": f.line, "message": f.message} for f in v.resolved],
            "remains": [{"rule": f.rule, "line": f.line, "message": f.message, "reason": why}
                        for f, why in v.remaining],
            "blocking": v.blocking,
            "statements": [{"sid": s.sid, "role": s.role, "actions": s.actions, "notes": s.notes}
                           for s in plan.statements],
            "access_change": [{"principal": c.subject, "capability": c.capability, "before": c.before,
                               "after": c.after, "actions": c.actions} for c in result.changes[plan.key_id]],
        })
    doc = {"version": 1, "kind": "fix", "tool": {"name": "kmspolicy", "version": __version__},
           "file": result.file, "proven": result.safe, "diff": result.diff() if result.safe else None,
           "keys": keys, "unchanged": result.unchanged}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_sarif(result: FixResult, config: dict) -> str:
    findings = [f for f in result.before.findings]
    report = Result(files=[FileStatus(result.file, "analyzed", len(result.plans))], findings=findings)
    stream = io.StringIO()
    SARIF.write(report, ReportContext(rules=PolicySet.builtin(config=config).rules), stream)
    document = json.loads(stream.getvalue())
    fixes = {}
    if result.safe:
        for plan in result.plans:
            edits = result.edits[plan.key_id]
            change = sarif_fix(f"Replace the key policy of {plan.key_id} with the least-privilege policy "
                               "for its intent (proven by analysing the patched template)", result.file,
                               [((e.line, e.column, e.end_line, e.end_column), e.text)
                                for e in sorted(edits, key=lambda e: (e.line, e.column))])
            for f in result.verdicts[plan.key_id].resolved:
                fixes[f.fingerprint] = change
    return json.dumps(add_fixes(document, fixes), indent=2, ensure_ascii=False) + "\n"


@click.command("fix")
@click.argument("template", type=click.Path())
@click.option("--key", "key", metavar="LOGICAL_ID", help="Only this key.")
@click.option("-f", "--format", "output_format", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True)
@click.option("--write", "write", is_flag=True, help="Apply the proven patch to TEMPLATE.")
@click.option("--admin", "admins", multiple=True, metavar="ID|ARN", help="An administrator (repeatable).")
@click.option("--user", "users", multiple=True, metavar="ID|ARN", help="A user (repeatable).")
@click.option("--deployer", "deployers", multiple=True, metavar="ARN",
              help="The role that deploys the stack (repeatable; default: config `deployers`).")
@click.option("--root", "root", type=click.Choice(["break-glass", "delegate"]),
              help="break-glass: the root user only; delegate: account delegation.")
@with_parameter_values
def fix_command(template, key, output_format, write, admins, users, deployers, root, parameters,
                parameters_file, config_path) -> None:
    """The least-privilege key policy for each key's intent, proven before it is proposed."""
    try:
        config = with_account(load_config(config_path or find_config(None)), deployment_account(template))
        result = fix(template, config, parse_parameters(parameters, parameters_file),
                     Overrides(admins, users, deployers, root), key)
    except (FixError, ConfigError, EngineError, click.BadParameter) as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(safe.guarded(render_json(result), safe.json_line), nl=False)
    elif output_format == "sarif":
        click.echo(safe.guarded(render_sarif(result, config), safe.json_line), nl=False)
    else:
        click.echo(safe.guarded(render_text(result), safe.text_line), nl=False)
    if not result.safe:
        raise SystemExit(2)
    if write:
        Path(template).write_text(result.patched, encoding="utf-8")
