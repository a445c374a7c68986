# Builtins as OPA computes them, for the embedded engine only (bridge/embedded_compat.py
# rewrites the calls of rule packs to these). regopy 1.5 stores every string with its JSON
# escapes (`a"b` is held as `a\"b`): these read the stored form. Never load this module
# on OPA, whose strings hold no escapes.
package kmspolicy.compat

# count(): of a string, its characters, each escape sequence counting as one.
opa_count(x) := count(x) if not is_string(x)

opa_count(x) := count(x) - _escape_overhead(x) if is_string(x)

_escape_overhead(s) := sum([n | some m in regex.find_n(`\\(u[0-9a-fA-F]{4}|.)`, s, -1); n := count(m) - 1])
