# Builtins as OPA computes them, for the embedded engine only (bridge/embedded_compat.py
# rewrites the calls of rule packs to these). regopy 1.5 stores every string with its JSON
# escapes (`a"b` is held as `a\"b`): these read the stored form. Never load this module
# on OPA, whose strings hold no escapes.
package kmspolicy.compat

# count(): of a string, its characters, each escape sequence counting as one.
opa_count(x) := count(x) if not is_string(x)

opa_count(x) := count(x) - _escape_overhead(x) if is_string(x)

_escape_overhead(s) := sum([n | some m in regex.find_n(`\\(u[0-9a-fA-F]{4}|.)`, s, -1); n := count(m) - 1])

# concat(): of a set, its elements in sorted order (regopy joins them in insertion order).
opa_concat(delimiter, collection) := concat(delimiter, opa_sort(collection)) if is_set(collection)

opa_concat(delimiter, collection) := concat(delimiter, collection) if not is_set(collection)

# Ordering as OPA orders values (ast.Compare): null < booleans < numbers < strings <
# arrays < objects < sets; strings by their bytes, arrays element by element, the shorter
# first when one starts the other. regopy compares strings by their quoted text ("a b" <
# "a"), and sorts numbers, and takes their max and min, by their text (10 before 9).
# Objects, sets and arrays of them are not ordered here: comparing two of one type is an
# evaluation error naming _unordered_on_the_embedded_engine.
opa_lt(a, b) := true if {
	_type_rank(a) < _type_rank(b)
} else := false if {
	_type_rank(a) > _type_rank(b)
} else := _scalar_lt(a, b) if {
	_type_rank(a) < 4
} else := _array_lt(a, b) if {
	is_array(a)
} else := _unordered_on_the_embedded_engine(a)

opa_gt(a, b) := opa_lt(b, a)

opa_lte(a, b) := false if {
	opa_lt(b, a)
} else := true

opa_gte(a, b) := false if {
	opa_lt(a, b)
} else := true

opa_sort(collection) := [elements[i] |
	some rank in _indexes(elements)
	some i in _indexes(elements)
	_sort_position(elements, i) == rank
] if {
	elements := _elements(collection)
}

opa_max(collection) := candidate if {
	elements := _elements(collection)
	some candidate in elements
	count([other | some other in elements; opa_lt(candidate, other)]) == 0
}

opa_min(collection) := candidate if {
	elements := _elements(collection)
	some candidate in elements
	count([other | some other in elements; opa_lt(other, candidate)]) == 0
}

_elements(collection) := collection if is_array(collection)

_elements(collection) := [member | some member in collection] if is_set(collection)

# Equal elements keep their order among themselves: OPA's sort cannot tell them apart.
_sort_position(elements, i) := count([j |
	some j in _indexes(elements)
	_sorts_before(elements[j], j, elements[i], i)
])

_indexes(elements) := [] if count(elements) == 0

_indexes(elements) := numbers.range(0, count(elements) - 1) if count(elements) > 0

_sorts_before(other, _, value, _) if opa_lt(other, value)

_sorts_before(other, j, value, i) if {
	other == value
	j < i
}

_type_rank(v) := 0 if is_null(v)

_type_rank(v) := 1 if is_boolean(v)

_type_rank(v) := 2 if is_number(v)

_type_rank(v) := 3 if is_string(v)

_type_rank(v) := 4 if is_array(v)

_type_rank(v) := 5 if is_object(v)

_type_rank(v) := 6 if is_set(v)

# Two values of one type that is not a collection.
_scalar_lt(a, b) := true if {
	is_number(a)
	a < b
} else := false if {
	is_number(a)
} else := _string_lt(a, b) if {
	is_string(a)
} else := b if {
	a == false
} else := false

# A string the other starts with is the smaller; otherwise the first character that
# differs decides, as regopy's comparison of the quoted texts does.
_string_lt(a, b) := true if {
	a != b
	startswith(b, a)
} else := false if {
	startswith(a, b)
} else := true if {
	a < b
} else := false

_array_lt(a, b) := _element_lt(a[k], b[k]) if {
	differing := [i | some i in _indexes(a); i < count(b); a[i] != b[i]]
	count(differing) > 0
	k := differing[0]
} else := true if {
	count(a) < count(b)
} else := false

_element_lt(x, y) := true if {
	_type_rank(x) < _type_rank(y)
} else := false if {
	_type_rank(x) > _type_rank(y)
} else := _scalar_lt(x, y) if {
	_type_rank(x) < 4
} else := _unordered_on_the_embedded_engine(x)

_unordered_on_the_embedded_engine(_) := "objects, sets and nested arrays"

_unordered_on_the_embedded_engine(_) := "are not ordered on the embedded engine"
