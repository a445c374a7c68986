"""The effective-access model: who can do what with each key, computed the way AWS does.

`compute(input_doc, config)` adds `access` to every key of a normalized input: per subject,
the KMS actions it is allowed, allowed under conditions, unknown (policy content the
template does not show), reachable through escalation and explicitly denied, with the
statements that decide them. The Rego rules read it (policies/kmspolicy/lib/access.rego is
a thin view); `kmspolicy access` and `explain` read it too (report.py).
"""

from .model import add_subject, compute

__all__ = ["add_subject", "compute"]
