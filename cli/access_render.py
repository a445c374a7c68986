"""`kmspolicy access --format text|json|markdown|dot`: the access matrix for people,
PR comments, programs and Graphviz.

Every renderer takes an `AccessReport` and returns the complete output (ending with a
newline); none decides anything. A cell reads `verdict n/m lines`: the verdict of the
capability, how many of the m actions of the capability this key supports (its key spec
and usage) have that verdict, and the template lines that decide it (the principal naming
the subject or its account, the identity-policy item completing a delegation, the
denies, the escalation actions). A row or key that holds in some deployable variants
only is titled with them ("…, only when IsProd is true").
"""

from __future__ import annotations

import json

from kmspolicy.bridge.access.located import (
    CAPABILITIES,
    AccessReport,
    Cell,
    Evidence,
    KeyAccess,
    Subject,
    SubjectRow,
)

from .reporters.safe import clean
from .reporters.text import _Paint

VERDICT_COLORS = {"allowed": "32", "conditional": "33", "unknown": "36", "reachable": "35", "denied": "2"}
VERDICT_MARKS = {"allowed": "✅", "conditional": "⚠️", "unknown": "❔", "reachable": "🔓", "denied": "⛔"}


def subject_title(subject: Subject) -> str:
    """`SignupFunction (role SignupFunctionRole)`, `account (any IAM principal of this account)`."""
    if subject.kind == "identity":
        if subject.owner and subject.identity != subject.owner:
            return f"{subject.owner} (role {subject.identity})"
        return subject.label
    if subject.id == "account:self":
        return f"account ({subject.label})"
    if subject.kind == "any":
        return "* (anyone)"
    return subject.label


def row_title(row: SubjectRow) -> str:
    """The subject, and the scenarios the row holds in when not all."""
    title = subject_title(row.subject)
    return f"{title}, {row.when}" if row.when else title


def key_title(key: KeyAccess) -> str:
    return f"{key.id}, {key.when}" if key.when else key.id


def cell_text(cell: Cell, total: int) -> str:
    text = cell.verdict
    if cell.actions:
        text += f" {len(cell.actions)}/{total}"
    lines = cell.lines()
    if lines:
        text += " " + ",".join(str(n) for n in lines)
    for verdict, actions in cell.also.items():
        text += f"; {verdict} {len(actions)}"
    return text


def _totals(key: KeyAccess) -> dict[str, int]:
    return {cap: len(key.capabilities[cap]) for cap in CAPABILITIES}


# --- text ---------------------------------------------------------------------------

def render_text(report: AccessReport, color: bool = False) -> str:
    paint = _Paint(color)
    out: list[str] = []
    for key in report.keys:
        totals = _totals(key)
        out.append(paint(f"{clean(key_title(key))}  {clean(report.file)}:{key.location.line}", "1"))
        rows = [[clean(row_title(row))] +
                [cell_text(row.cells[cap], totals[cap]) for cap in CAPABILITIES] for row in key.rows]
        header = ["principal", *CAPABILITIES]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        out.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
        for row, cells in zip(key.rows, rows, strict=True):
            parts = [cells[0].ljust(widths[0])]
            for i, cap in enumerate(CAPABILITIES, start=1):
                verdict = row.cells[cap].verdict
                text = cells[i]
                parts.append(paint(verdict, VERDICT_COLORS[verdict]) + text[len(verdict):]
                             + " " * (widths[i] - len(text)))
            out.append(("  " + "  ".join(parts)).rstrip())
        out.append("")
    if report.keys:
        out.append("cells: verdict, actions with that verdict / actions of the capability the key supports, "
                   "deciding lines, then the cell's other actions by (weaker) verdict; "
                   "`kmspolicy explain FILE --key K --principal P` shows why")
    for note in report.notes:
        out.append(f"note: {clean(note)}")
    for error in report.errors:
        out.append(f"{paint('error', '1;31')}: {clean(str(error))}")
    return "\n".join(out) + "\n"


# --- markdown -----------------------------------------------------------------------

def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("\n", " ")


def _md_cell(cell: Cell, total: int) -> str:
    text = f"{VERDICT_MARKS[cell.verdict]} {cell.verdict}"
    if cell.actions:
        text += f" {len(cell.actions)}/{total}"
    lines = cell.lines()
    if lines:
        text += " · " + ", ".join(f"L{n}" for n in lines)
    for verdict, actions in cell.also.items():
        text += f" · {VERDICT_MARKS[verdict]} {verdict} {len(actions)}"
    return text


def render_markdown(report: AccessReport, color: bool = False) -> str:
    out = [f"## Who can use the KMS keys in `{_md(report.file)}`", ""]
    for key in report.keys:
        totals = _totals(key)
        out.append(f"### {_md(key_title(key))} (line {key.location.line})")
        out.append("")
        out.append("| principal | " + " | ".join(CAPABILITIES) + " |")
        out.append("|---" * (len(CAPABILITIES) + 1) + "|")
        for row in key.rows:
            cells = " | ".join(_md_cell(row.cells[cap], totals[cap]) for cap in CAPABILITIES)
            out.append(f"| {_md(row_title(row))} | {cells} |")
        out.append("")
    if report.keys:
        out.append("Each cell: verdict, actions with that verdict / actions of the capability the key "
                   "supports, the template lines that decide it, then the cell's other actions by "
                   "(weaker) verdict. `kmspolicy explain` shows why.")
    for note in report.notes:
        out.append("")
        out.append(f"**note**: {_md(note)}")
    for error in report.errors:
        out.append("")
        out.append(f"**error**: {_md(str(error))}")
    return "\n".join(out) + "\n"


# --- json ---------------------------------------------------------------------------

def render_json(report: AccessReport, color: bool = False) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


# --- dot ----------------------------------------------------------------------------

def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _short(actions: set[str]) -> str:
    names = sorted(a.removeprefix("kms:") for a in actions)
    return ", ".join(names) if len(names) <= 4 else ", ".join(names[:3]) + f" +{len(names) - 3}"


class _Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, str] = {}
        self.edges: dict[tuple[str, str, str], set[str]] = {}

    def node(self, node_id: str, attrs: str) -> str:
        self.nodes.setdefault(node_id, attrs)
        return node_id

    def edge(self, src: str, dst: str, style: str, actions: set[str]) -> None:
        self.edges.setdefault((src, dst, style), set()).update(actions)


_EDGE_STYLES = {"grant": "", "deny": ', color="red", fontcolor="red"',
                "reachable": ', style="dashed", color="purple", fontcolor="purple"'}


def _statement_node(graph: _Graph, key: KeyAccess, evidence: Evidence, prefix: str) -> str:
    line = evidence.anchor.line if evidence.anchor else key.location.line
    name = evidence.sid or f"statement {evidence.statement}"
    if evidence.policy == "identity":
        origin = evidence.origin or {}
        name = origin.get("template") or name
        node_id = f"{prefix}identity:{evidence.identity}:{evidence.statement}"
        label = f"{name}\n{evidence.identity} policy, line {line}"
    else:
        node_id = f"{prefix}key:{evidence.statement}"
        label = f"{name}\nkey policy, line {line}"
    shape = "box, style=rounded" if evidence.policy == "identity" else "box"
    return graph.node(node_id, f"label={_dot(label)}, shape={shape}")


def render_dot(report: AccessReport, color: bool = False) -> str:
    graph = _Graph()
    for key in report.keys:
        prefix = f"{key.id}/" if not key.when else f"{key.id} ({key.when})/"
        key_label = f"{key_title(key)}\nKMS key, line {key.location.line}"
        key_node = graph.node(f"{prefix}key", f"label={_dot(key_label)}, shape=doubleoctagon")
        for row in key.rows:
            row_id = row.subject.id if not row.when else f"{row.subject.id} ({row.when})"
            subject = graph.node(f"{prefix}{row_id}", f"label={_dot(row_title(row))}, shape=ellipse")
            # a row of some scenarios only has statement nodes of its own: a statement
            # index may be another statement in another variant
            statements = f"{prefix}{row.when}/" if row.when else prefix
            for cap in CAPABILITIES:
                _cell_edges(graph, key, row.cells[cap], subject, key_node, statements)
    out = ["digraph kmspolicy_access {", "  rankdir=LR;", '  node [fontname="Helvetica"];',
           '  edge [fontname="Helvetica", fontsize=10];']
    for node_id, attrs in graph.nodes.items():
        out.append(f"  {_dot(node_id)} [{attrs}];")
    for (src, dst, style), actions in graph.edges.items():
        label = _short(actions) if actions else style
        out.append(f"  {_dot(src)} -> {_dot(dst)} [label={_dot(label)}{_EDGE_STYLES[style]}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _cell_edges(graph: _Graph, key: KeyAccess, cell: Cell, subject: str, key_node: str,
                prefix: str) -> None:
    """subject -> key statement -> key; bilateral: subject -> identity statement -> the
    delegating key statement -> key."""
    delegations = [g for g in cell.grants if g.role == "delegation"]
    completed = any(g.role == "identity" for g in cell.grants)
    for grant in cell.grants:
        node = _statement_node(graph, key, grant, prefix)
        actions = set(grant.actions)
        if grant.role == "identity":
            graph.edge(subject, node, "grant", actions)
            for delegation in delegations:
                target = _statement_node(graph, key, delegation, prefix)
                graph.edge(node, target, "grant", actions & set(delegation.actions))
            continue
        if grant.role == "direct" or not completed:
            graph.edge(subject, node, "grant", actions)
        graph.edge(node, key_node, "grant", actions)
    for deny in cell.denies:
        node = _statement_node(graph, key, deny, prefix)
        graph.edge(subject, node, "deny", set(deny.actions))
        graph.edge(node, key_node, "deny", set(deny.actions))
    for path in cell.escalation:
        node = _statement_node(graph, key, path.via, prefix)
        graph.edge(subject, node, "reachable", {path.action})
        graph.edge(node, key_node, "reachable", set(path.gains))


# format name -> render(report, color); only text uses colour
RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown, "dot": render_dot}
