"""`kmspolicy fix`: the least-privilege key policy for a key's declared (or inferred)
intent, written into the template in its own style and proven by analysing the patched
template again before it is proposed.

Modules: `deps` (CloudFormation dependencies: may a key policy reference a role?),
`naming` (how each intended principal is written in the key policy), `needs` (what each
needs), `policy` (the new statements), `guards` (refusals, statements kept as written),
`plan` (the intent of each key and its statements), `emit` (YAML/JSON text and the splice
into the template), `proof` (the patched template analysed again), `fixer` (one run).
"""
