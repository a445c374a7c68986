# METADATA
# title: Object helpers that every engine evaluates alike
# description: |
#   object.union merges nested objects on OPA and replaces them on the embedded engine
#   (bridge/data/embedded_capabilities.json), so rule packs that run on the embedded engine
#   use these instead.
package kmspolicy.lib.objects

# a with the keys of b set to b's values (no merging of nested objects).
override(a, b) := object.union(object.remove(a, object.keys(b)), b)
