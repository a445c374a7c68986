"""kmspolicy's verdict against the referee's, cell by cell.

- allowed, conditional, reachable, denied must equal the referee's verdict;
- unknown never contradicts a caller whose identity side is assumed (a principal the
  template names but does not define), but where every policy deciding the cell is in the
  template the referee proves the answer and `unknown` is a disagreement;
- a cell the referee could not make concrete is "not refereed", never compared.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    status: str  # agree | disagree | not-refereed | referee-error
    kmspolicy: str
    referee: str | None
    category: str = ""


def compare(kmspolicy: str, referee: str | None, kind: str, assumed: bool) -> Outcome:
    if referee is None:
        return Outcome("not-refereed", kmspolicy, None)
    if referee == "error":
        return Outcome("referee-error", kmspolicy, referee, f"iam-simulate rejected the request ({kind})")
    if kmspolicy == referee:
        return Outcome("agree", kmspolicy, referee)
    if kmspolicy == "unknown" and assumed:
        return Outcome("agree", kmspolicy, referee)
    return Outcome("disagree", kmspolicy, referee, f"kmspolicy {kmspolicy}, referee {referee} ({kind})")
