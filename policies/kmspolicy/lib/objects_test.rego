package kmspolicy.lib.objects_test

cases["override_replaces_nested_objects"] := {
	"input": {},
	"target": "kmspolicy.lib.objects_test.nested",
	"findings": {"a": {"c": 2}, "d": 1},
}

nested := data.kmspolicy.lib.objects.override({"a": {"b": 1}, "d": 1}, {"a": {"c": 2}})
