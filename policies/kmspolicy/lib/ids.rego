# METADATA
# title: The ids of the input's keys and identities, enumerated once
# description: |
#   regopy 1.5 pays about a millisecond on a typical input every time a rule enumerates
#   input.keys or input.identities (`some key in input.keys`, or `input.keys[kid]` with
#   `kid` unbound), however little the rule does with them, and about a tenth of that for
#   object.keys; indexing either with an id already bound, and iterating inside one key,
#   cost microseconds. So the built-in rules iterate these sets, computed once per
#   evaluation, and index the input with them (`some kid in ids.keys` then
#   `key := input.keys[kid]`).
package kmspolicy.lib.ids

default keys := set()

keys := object.keys(input.keys)

default identities := set()

identities := object.keys(input.identities)
