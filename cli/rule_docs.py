"""Where each built-in rule's documentation page is: `docs/rules/<ID>.md` in the
repository (pyproject's Homepage), at the release tag of this version (`v0.1.0`), so a link
shows the page as it was for the kmspolicy that reported the finding. Rules of other rule
packs have no page here (None)."""

from __future__ import annotations

from functools import cache

from kmspolicy import __version__

HOMEPAGE = "https://github.com/kmspolicy/kmspolicy"  # pyproject.toml [project.urls] Homepage


def docs_base(version: str = __version__) -> str:
    return f"{HOMEPAGE}/blob/v{version}/docs/rules/"


@cache
def builtin_rule_ids() -> frozenset[str]:
    from kmspolicy.bridge.pipeline import PolicySet

    return frozenset(PolicySet.builtin().rules)


def doc_url(rule_id: str) -> str | None:
    return f"{docs_base()}{rule_id}.md" if rule_id in builtin_rule_ids() else None
