"""Proven before proposed: the patched template analysed again, in the same run.

A fix is proposed only if, for every key it rewrites:
- no finding located in the new key policy remains, except one the original template
  had too, on a statement the plan said would carry it (a principal named through the
  account principal narrowed by aws:PrincipalArn, an IAM user the intent names, at its
  principal): those are listed as remaining, with the reason;
- no finding appears that the original template did not have;
- every intended user keeps every use action it had, no administrator can reach a use
  action, the deployer is allowed kms:PutKeyPolicy, and (unless root is `delegate`) no
  IAM principal of the account can use the key without a condition narrowing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import catalog
from ..findings import Finding
from ..pipeline import FileReport
from .plan import KeyPlan


@dataclass
class Verdict:
    resolved: list[Finding] = field(default_factory=list)
    remaining: list[tuple[Finding, str]] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)  # why the fix is not safe

    @property
    def safe(self) -> bool:
        return not self.blocking


def _in_policy(finding: Finding, policy_path: str) -> bool:
    return finding.path == policy_path or finding.path.startswith(policy_path + "/")


def _statement_index(finding: Finding, policy_path: str) -> int | None:
    rest = finding.path[len(policy_path):].split("/")
    if len(rest) > 2 and rest[1] == "Statement" and rest[2].isdigit():
        return int(rest[2])
    return None


def _mask(names) -> int:
    return catalog.action_mask(names)



def _use_mask() -> int:
    return catalog.class_mask("use")


def _names(mask: int) -> list[str]:
    return sorted(a for a, bit in catalog.key_action_bits().items() if mask & bit)


def caveat(plan: KeyPlan, index: int, key: dict, finding: Finding, policy_path: str) -> str | None:
    """Why the plan expects `finding` on its statement `index` (None: it expects none)."""
    if index >= len(plan.statements):
        return None
    st = plan.statements[index]
    if st.naming.through_account and st.role != "root":
        return ("named through the account principal narrowed by aws:PrincipalArn, the only way to name it "
                "without a circular dependency")
    at_principal = finding.path.startswith(f"{policy_path}/Statement/{index}/Principal")
    if at_principal and st.iam_user:
        return "the intent names an IAM user"
    return None


def prove(before: FileReport, after: FileReport, plans: list[KeyPlan]) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    seen_before = {(f.rule, f.resource) for f in before.findings}
    for error in after.errors:
        for plan in plans:
            verdicts.setdefault(plan.key_id, Verdict()).blocking.append(
                f"the patched template could not be analysed: {error.message}")
    for plan in plans:
        verdict = verdicts.setdefault(plan.key_id, Verdict())
        kid = plan.key_id
        key_before = before.input["keys"][kid]
        key_after = after.input["keys"].get(kid)
        if key_after is None:
            verdict.blocking.append(f"{kid} is no longer a key in the patched template")
            continue
        policy_path = plan.policy_path
        after_key_findings = [f for f in after.findings if f.resource == kid and not f.suppressed]
        expected_rules = set()
        for f in after_key_findings:
            if not _in_policy(f, policy_path):
                continue
            index = _statement_index(f, policy_path)
            reason = caveat(plan, index, key_after, f, policy_path) if index is not None else None
            if reason is None:
                verdict.blocking.append(f"{f.rule} would remain in the new key policy: {f.message}")
            elif (f.rule, kid) not in seen_before:
                verdict.blocking.append(f"{f.rule} would be new ({reason}): {f.message}")
            else:
                verdict.remaining.append((f, reason))
                expected_rules.add(f.rule)
        for f in after.findings:
            if f.resource == kid and not f.suppressed and (f.rule, f.resource) not in seen_before \
                    and not _in_policy(f, policy_path):
                verdict.blocking.append(f"{f.rule} is new in the patched template: {f.message}")
        still = {(f.rule, f.message) for f in after_key_findings}
        verdict.resolved = [f for f in before.findings if f.resource == kid and not f.suppressed
                            and (f.rule, f.message) not in still]
        _check_access(plan, key_before, key_after, verdict)
    return verdicts


def _check_access(plan: KeyPlan, key_before: dict, key_after: dict, verdict: Verdict) -> None:
    use = _use_mask()
    before, after = key_before.get("access") or {}, key_after.get("access") or {}
    for sid in plan.users:
        had = before.get(sid, {}).get("allowed", 0) & use
        has = after.get(sid, {}).get("allowed", 0) | after.get(sid, {}).get("conditional", 0)
        lost = had & ~has
        if lost:
            verdict.blocking.append(f"intended user {plan.labels.get(sid, sid)} would lose {', '.join(_names(lost))}")
    for sid in plan.admins:
        cell = after.get(sid, {})
        reach = (cell.get("allowed", 0) | cell.get("conditional", 0) | cell.get("reachable", 0)) & use
        if reach:
            verdict.blocking.append(f"administrator {plan.labels.get(sid, sid)} could still reach "
                                    f"{', '.join(_names(reach))}")
    if plan.root != "delegate":
        account = after.get("account:self", {}).get("allowed", 0) & use
        if account:
            verdict.blocking.append("any IAM principal of the account could still call "
                                    f"{', '.join(_names(account))} without a condition narrowing it")
    put = _mask(["kms:PutKeyPolicy"])
    for index, st in enumerate(plan.statements):
        if st.role != "deployer":
            continue
        if index >= len(key_after["statements"]):
            verdict.blocking.append(f"the patched key policy does not have the deployer statement {st.sid}")
            continue
        principals = key_after["statements"][index].get("principals") or []
        ok = any((after.get(p["id"], {}).get("allowed", 0) | after.get(p["id"], {}).get("conditional", 0)) & put
                 for p in principals)
        if not ok:
            verdict.blocking.append(f"the deployer {st.who} would not be allowed kms:PutKeyPolicy"
                                    + _other_account_note(principals))


def _other_account_note(principals: list[dict]) -> str:
    """Why a deployer named in a literal account gets nothing: KMS takes PutKeyPolicy only
    from the key's own account, and an account ID the config does not list is another."""
    accounts = sorted({p["account"] for p in principals if p.get("account") not in (None, "", "self", "unknown")})
    if not accounts:
        return ""
    return (f": account {', '.join(accounts)} is not the stack's as far as kmspolicy knows, and KMS allows "
            "kms:PutKeyPolicy only from the key's own account; list it under `accounts` in the config, or give "
            "the deployer's account as `*`")

