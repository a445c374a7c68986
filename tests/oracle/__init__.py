"""The independent referee for kmspolicy's access verdicts (issue 12).

Test-only: it drives `@cloud-copilot/iam-simulate` (AGPL-3.0, installed by
`make oracle-deps` into tests/oracle/node_modules) and is never imported by the product.
Only `kmspolicy_side.py` reads kmspolicy; every other module stands on its own.
"""
