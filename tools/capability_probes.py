"""The probes `tools/gen_capabilities.py` runs on the embedded engine (regopy) and on OPA's
own evaluator (opa-golib-python-bindings) to find which builtins and idioms the embedded
engine evaluates as OPA does.

`BUILTIN_PROBES`: for a builtin, Rego expressions whose value OPA defines; each is
evaluated as `x := <expression>` on both engines, with `PROBE_MODULE` loaded. A builtin with none here is probed only
for whether regopy knows it (and is recorded as unverified if it does).

`IDIOMS`: constructs that are not one builtin call (a whole module and a query, or an
input): each is recorded with both engines' answers, and `tools/gen_capabilities.py`
says which of them the pack checks must refuse.

`ESCAPE_PROBES`: for a builtin that takes a string, an expression passing it a string of
the input that holds a quote, a backslash and control characters (`ESCAPE_INPUT`), which
the embedded engine stores with its JSON escapes. A builtin whose probe differs, or that
has none, reads such strings differently from OPA: a pack calling it is evaluated only on
inputs without them (bridge/escape_sensitive.py).

The same probes run again on `NON_ASCII_INPUT`, strings holding characters beyond ASCII
(letters with case, Unicode spaces): regopy maps the case of ASCII letters only, its
regular expressions read bytes, and it trims ASCII spaces only, so a builtin whose probe
differs there is evaluated only on inputs without such characters.

`SPRINTF_VERBS`: each formatting verb with the values it is probed on; a verb is usable
in packs on the embedded engine only if every probe agrees.
"""

from __future__ import annotations

# Builtins that reach the network or the process environment: refused in packs unless
# explicitly allowed (`--allow-builtin NAME`). They are not evaluated by the probes.
ENVIRONMENT_BUILTINS = ("http.send", "net.lookup_ip_addr", "opa.runtime")

# Written with infix syntax in Rego; the probe uses the operator.
BUILTIN_PROBES: dict[str, tuple[str, ...]] = {
    "abs": ("abs(-2.5)", "abs(3)"),
    "and": ("{1, 2} & {2, 3}",),
    "array.concat": ('array.concat([1], [2, "a"])',),
    "array.flatten": ("array.flatten([1, [2, [3]]])",),
    "array.reverse": ("array.reverse([1, 2, 3])",),
    "array.slice": ("array.slice([1, 2, 3, 4], 1, 3)", "array.slice([1, 2], 1, 9)"),
    "assign": ("1",),
    "base64.decode": ('base64.decode("aGVsbG8=")',),
    "base64.encode": ('base64.encode("hello")',),
    "base64.is_valid": ('base64.is_valid("aGVsbG8=")', 'base64.is_valid("!")'),
    "base64url.decode": ('base64url.decode("aGk_")',),
    "base64url.encode": ('base64url.encode("hi?")',),
    "base64url.encode_no_pad": ('base64url.encode_no_pad("hi")',),
    "bits.and": ("bits.and(12, 10)",),
    "bits.lsh": ("bits.lsh(1, 4)",),
    "bits.negate": ("bits.negate(5)",),
    "bits.or": ("bits.or(12, 10)",),
    "bits.rsh": ("bits.rsh(16, 2)",),
    "bits.xor": ("bits.xor(12, 10)",),
    "ceil": ("ceil(1.2)", "ceil(-1.2)"),
    "concat": ('concat("-", ["a", "b"])', 'concat(",", sort({"b", "a"}))'),
    "contains": ('contains("abc", "b")', 'contains("abc", "d")'),
    "count": ('count([1, 2])', 'count({"a": 1})', 'count("héllo")', 'count({1})'),
    "crypto.hmac.equal": ('crypto.hmac.equal("a", "a")',),
    "crypto.hmac.md5": ('crypto.hmac.md5("msg", "key")',),
    "crypto.hmac.sha1": ('crypto.hmac.sha1("msg", "key")',),
    "crypto.hmac.sha256": ('crypto.hmac.sha256("msg", "key")',),
    "crypto.hmac.sha512": ('crypto.hmac.sha512("msg", "key")',),
    "crypto.md5": ('crypto.md5("hello")',),
    "crypto.sha1": ('crypto.sha1("hello")',),
    "crypto.sha256": ('crypto.sha256("hello")',),
    "div": ("7 / 2", "6 / 3"),
    "endswith": ('endswith("abc", "bc")',),
    "eq": ("[x | x := 1; x = 1]",),
    "equal": ("1 == 1", '{"a": [1]} == {"a": [1]}'),
    "floor": ("floor(1.7)", "floor(-1.2)"),
    "format_int": ("format_int(255, 16)", "format_int(-12, 10)", "format_int(9, 8)"),
    "glob.match": ('glob.match("a.*", ["."], "a.b")', 'glob.match("a*", [], "ab")',
                   'glob.match("*.b", ["."], "a.c.b")'),
    "glob.quote_meta": ('glob.quote_meta("a*b")',),
    "graph.reachable": ('graph.reachable({"a": ["b"], "b": ["c"], "c": []}, ["a"])',),
    "graph.reachable_paths": ('graph.reachable_paths({"a": ["b"], "b": []}, ["a"])',),
    "graphql.parse_query": ('graphql.parse_query("{ a }")',),
    "graphql.schema_is_valid": ('graphql.schema_is_valid("type Query { a: Int }")',),
    "gt": ("2 > 1", '"b" > "a"'),
    "gte": ("2 >= 2",),
    "hex.decode": ('hex.decode("6869")',),
    "hex.encode": ('hex.encode("hi")',),
    "indexof": ('indexof("abcb", "b")', 'indexof("abc", "z")'),
    "indexof_n": ('indexof_n("abcb", "b")',),
    "internal.member_2": ('1 in [1, 2]', '"a" in {"a"}'),
    "internal.member_3": ('0, 1 in [1, 2]',),
    "intersection": ("intersection({{1, 2}, {2, 3}})",),
    "io.jwt.decode": (
        'io.jwt.decode("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhIn0.'
        'Y2jLVZIAVNGDFz9QCgs8f9w8p4E1WBxrmsQ2DJd9dPA")',),
    "io.jwt.verify_hs256": (
        'io.jwt.verify_hs256("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhIn0.'
        'Y2jLVZIAVNGDFz9QCgs8f9w8p4E1WBxrmsQ2DJd9dPA", "secret")',),
    "io.jwt.encode_sign": ('io.jwt.encode_sign({"alg": "HS256"}, {"a": 1}, {"kty": "oct", "k": "c2VjcmV0"})',),
    "io.jwt.verify_hs384": ('io.jwt.verify_hs384(io.jwt.encode_sign({"alg": "HS384"}, {"a": 1}, '
                            '{"kty": "oct", "k": "c2VjcmV0"}), "secret")',),
    "io.jwt.verify_hs512": ('io.jwt.verify_hs512(io.jwt.encode_sign({"alg": "HS512"}, {"a": 1}, '
                            '{"kty": "oct", "k": "c2VjcmV0"}), "secret")',),
    "io.jwt.decode_verify": ('io.jwt.decode_verify(io.jwt.encode_sign({"alg": "HS256"}, {"a": 1}, '
                             '{"kty": "oct", "k": "c2VjcmV0"}), {"secret": "secret"})',),
    "is_array": ("is_array([])", "is_array({})"),
    "is_boolean": ("is_boolean(false)",),
    "is_null": ("is_null(null)",),
    "is_number": ("is_number(1.5)",),
    "is_object": ("is_object({})", "is_object(set())"),
    "is_set": ("is_set(set())", "is_set([])"),
    "is_string": ('is_string("a")', "is_string(1)"),
    "json.filter": ('json.filter({"a": {"b": 1, "c": 2}}, ["a/b"])',),
    "json.is_valid": ('json.is_valid("{\\"a\\": 1}")', 'json.is_valid("{")'),
    "json.marshal": ('json.marshal({"a": [1, "x"]})', "json.marshal({1})"),
    "json.marshal_with_options": ('json.marshal_with_options({"a": 1}, {"pretty": true})',),
    "json.match_schema": ('json.match_schema({"a": 1}, {"type": "object"})',),
    "json.patch": ('json.patch({"a": 1}, [{"op": "add", "path": "/b", "value": 2}])',),
    "json.remove": ('json.remove({"a": {"b": 1, "c": 2}}, ["a/b"])',),
    "json.unmarshal": ('json.unmarshal("[1, {}]")',),
    "json.verify_schema": ('json.verify_schema({"type": "object"})',),
    "lower": ('lower("AbC")',),
    "lt": ("1 < 2", "[1] < [2]"),
    "lte": ("2 <= 2",),
    "max": ("max([1, 3, 2])", 'max({"a", "b"})'),
    "min": ("min([1, 3, 2])",),
    "minus": ("3 - 5", "{1, 2} - {2}"),
    "mul": ("3 * 1.5",),
    "neq": ("1 != 2",),
    "net.cidr_contains": ('net.cidr_contains("10.0.0.0/8", "10.1.2.3")',),
    "net.cidr_contains_matches": ('net.cidr_contains_matches(["10.0.0.0/8"], ["10.1.1.1"])',),
    "net.cidr_expand": ('net.cidr_expand("10.0.0.0/31")',),
    "net.cidr_intersects": ('net.cidr_intersects("10.0.0.0/8", "10.1.0.0/16")',),
    "net.cidr_is_valid": ('net.cidr_is_valid("10.0.0.0/8")', 'net.cidr_is_valid("x")'),
    "net.cidr_merge": ('net.cidr_merge(["10.0.0.0/24", "10.0.1.0/24"])',),
    "numbers.range": ("numbers.range(1, 3)", "numbers.range(3, 1)"),
    "numbers.range_step": ("numbers.range_step(0, 6, 2)",),
    "object.filter": ('object.filter({"a": 1, "b": 2}, ["a"])',),
    "object.get": ('object.get({"a": {"b": 1}}, ["a", "b"], 0)', 'object.get({"a": 1}, "z", 0)'),
    "object.keys": ('object.keys({"a": 1, "b": 2})',),
    "object.remove": ('object.remove({"a": 1, "b": 2}, ["a"])',),
    "object.subset": ('object.subset({"a": 1, "b": 2}, {"a": 1})',),
    "object.union": ('object.union({"a": {"b": 1}}, {"a": {"c": 2}})',
                     'object.union({"a": 1}, {"b": {"c": 1}})'),
    "object.union_n": ('object.union_n([{"a": 1}, {"b": 2}])',),
    "or": ("{1} | {2}",),
    "plus": ("1 + 2.5",),
    "print": ('[1 | print("kmspolicy capability probe")]',),
    "product": ("product([2, 3])",),
    "rand.intn": ('is_number(rand.intn("kmspolicy", 10))',),
    "regex.find_all_string_submatch_n": (
        'regex.find_all_string_submatch_n("a(x*)b", "axxb ab", -1)',),
    "regex.find_n": ('regex.find_n("a.", "abacad", 2)',),
    "regex.globs_match": ('regex.globs_match("a.*", "a.b")',),
    "regex.is_valid": ('regex.is_valid("a+")', 'regex.is_valid("(")'),
    "regex.match": ('regex.match("^a+$", "aaa")', 'regex.match("^arn:aws:iam::[0-9]{12}:root$", '
                    '"arn:aws:iam::123456789012:root")'),
    "regex.replace": ('regex.replace("abab", "b", "x")',),
    "regex.split": ('regex.split("[,;]", "a,b;c")',),
    "regex.template_match": ('regex.template_match("urn:foo:{.*}", "urn:foo:bar", "{", "}")',),
    "rego.metadata.chain": ("data.probe.chain",),
    "rego.metadata.rule": ("data.probe.rule",),
    "rego.parse_module": ('rego.parse_module("x.rego", "package x")["package"]["path"][1]'
                          '["value"]',),
    "rem": ("7 % 3",),
    "replace": ('replace("aXbX", "X", "-")',),
    "round": ("round(1.5)", "round(-1.5)", "round(1.4)"),
    "semver.compare": ('semver.compare("1.2.3", "1.10.0")',),
    "semver.is_valid": ('semver.is_valid("1.2.3")', 'semver.is_valid("x")'),
    "sort": ("sort([3, 1, 2])", 'sort({"b", "a"})'),
    "split": ('split("a:b:c", ":")',),
    "sprintf": ('sprintf("%v-%d", ["a", 3])',),
    "startswith": ('startswith("abc", "ab")',),
    "strings.any_prefix_match": ('strings.any_prefix_match("abc", ["x", "a"])',),
    "strings.any_suffix_match": ('strings.any_suffix_match("abc", ["bc"])',),
    "strings.count": ('strings.count("abab", "ab")',),
    "strings.render_template": ('strings.render_template("{{.a}}", {"a": 1})',),
    "strings.replace_n": ('strings.replace_n({"a": "1", "b": "2"}, "ab")',),
    "strings.reverse": ('strings.reverse("abc")',),
    "strings.split_n": ('strings.split_n("a:b:c", ":", 2)',),
    "substring": ('substring("abcdef", 1, 3)', 'substring("abc", 1, -1)'),
    "sum": ("sum([1, 2.5])",),
    "time.add_date": ("time.add_date(0, 1, 0, 0)",),
    "time.clock": ("time.clock(0)",),
    "time.date": ("time.date(0)",),
    "time.diff": ("time.diff(0, 86400000000000)",),
    "time.format": ("time.format(0)",),
    "time.now_ns": ("is_number(time.now_ns())",),
    "time.parse_duration_ns": ('time.parse_duration_ns("1h")',),
    "time.parse_ns": ('time.parse_ns("2006-01-02", "2020-03-04")',),
    "time.parse_rfc3339_ns": ('time.parse_rfc3339_ns("2020-01-01T00:00:00Z")',),
    "time.weekday": ("time.weekday(0)",),
    "to_number": ('to_number("1.5")', "to_number(true)", "to_number(null)"),
    "trace": ('trace("kmspolicy capability probe")',),
    "trim": ('trim("xxaxx", "x")',),
    "trim_left": ('trim_left("xxa", "x")',),
    "trim_prefix": ('trim_prefix("abc", "ab")',),
    "trim_right": ('trim_right("axx", "x")',),
    "trim_space": ('trim_space("  a  ")',),
    "trim_suffix": ('trim_suffix("abc", "bc")',),
    "type_name": ('type_name({})', "type_name(set())", 'type_name("a")'),
    "union": ("union({{1}, {2}})",),
    "units.parse": ('units.parse("10K")', 'units.parse("1m")'),
    "units.parse_bytes": ('units.parse_bytes("1KiB")', 'units.parse_bytes("1KB")'),
    "upper": ('upper("abc")',),
    "uri.is_valid": ('uri.is_valid("https://a.example/b")',),
    "uri.parse": ('uri.parse("https://a.example/b?c=d")',),
    "urlquery.decode": ('urlquery.decode("a%20b")',),
    "urlquery.decode_object": ('urlquery.decode_object("a=1&a=2&b=3")',),
    "urlquery.encode": ('urlquery.encode("a b&")',),
    "urlquery.encode_object": ('urlquery.encode_object({"a": "1 2"})',),
    "uuid.parse": ('uuid.parse("00000000-0000-1000-8000-000000000000")',),
    "uuid.rfc4122": ('is_string(uuid.rfc4122("a"))',),
    "walk": ('[p | walk({"a": [1]}, [p, _])]',),
    "yaml.is_valid": ('yaml.is_valid("a: 1")',),
    "yaml.marshal": ('yaml.marshal({"a": [1]})',),
    "yaml.unmarshal": ('yaml.unmarshal("a: [1, x]")',),
}

# The module every builtin probe is evaluated with (for the builtins that only work in a rule).
PROBE_MODULE = """package probe

# METADATA
# title: probe
rule := rego.metadata.rule()

chain := count(rego.metadata.chain())
"""

# Constructs other than one builtin call. `module` (optional) is added as `probe.rego`;
# `query` is evaluated; `input` (optional) is handed over as JSON text, as the embedded
# engine receives every input. `refused_by` names the pack check that refuses it when
# the engines disagree.
IDIOMS: dict[str, dict] = {
    "sort-set-index": {
        "what": "indexing the result of sort() directly (sort(s)[0])",
        "query": "x := sort({3, 1, 2})[0]",
        "refused_by": "set-argument",
    },
    "sort-then-index": {
        "what": "sort() bound to a variable, then indexed",
        "query": "s := sort({3, 1, 2}); x := s[0]",
        "refused_by": "set-argument",
    },
    "format-int-base-2": {
        "what": "format_int() in base 2",
        "query": "x := format_int(5, 2)",
        "refused_by": "format-int-base",
    },
    "concat-set": {
        "what": "concat() of a set",
        "query": 'x := concat(",", {"b", "a", "c"})',
        "refused_by": "set-argument",
    },
    "set-iteration-order": {
        "what": "an array comprehension over a set (its order)",
        "query": 'x := [v | some v in {"b", "a", "c"}]',
        "refused_by": "iteration-order",
    },
    "set-iteration-order-computed": {
        "what": "an array comprehension over a set the policy computes",
        "query": 's := {v | some v in ["b", "a", "c"]}; x := [v | s[v]]',
        "refused_by": "iteration-order",
    },
    "object-iteration-order": {
        "what": "an array comprehension over the keys of an object the policy builds",
        "query": 'x := [k | some k; {"b": 1, "a": 2}[k]]',
        "refused_by": "iteration-order",
    },
    "input-object-iteration-order": {
        "what": "an array comprehension over the keys of an input object",
        "query": "x := [k | some k; input.o[k]]",
        "input": {"o": {"b": 1, "a": 2, "c": 3}},
    },
    "input-object-values-order": {
        "what": "an array comprehension over the values of an input object",
        "query": "x := [v | some v in input.o]",
        "input": {"o": {"b": 1, "a": 2, "c": 3}},
    },
    "string-order": {
        "what": "comparing strings where one is a prefix of the other followed by a space",
        "query": 'x := ["a b" < "a", "a" < "a!"]',
    },
    "sort-numbers": {
        "what": "sorting numbers of more than one digit",
        "query": "x := sort([10, 9, 100])",
    },
    "max-numbers": {
        "what": "the largest of numbers of more than one digit",
        "query": "x := [max([10, 9]), min([10, 9])]",
    },
    "order-across-types": {
        "what": "comparing values of different types (null < booleans < numbers < strings < arrays)",
        "query": 'x := [1 < "a", "a" < 1, null < false, false < 0, [] < "a", true <= false, 2 >= 10]',
    },
    "order-arrays": {
        "what": "comparing arrays: element by element, then the shorter first",
        "query": "x := [[1] < [1, 0], [10] < [9], [1, 2] < [1, 3], [\"a\"] > [\"a b\"]]",
    },
    "sort-mixed": {
        "what": "sorting values of several types, a set of strings, and the max and min of a set",
        "query": 'x := [sort([10, "a b", null, 9, "a", true, [2], false, [1, 5]]), sort({"a b", "a", "a!"}), '
                 "max({10, 9, 100}), min({\"b\", \"a b\"})]",
    },
    "order-input-strings": {
        "what": "comparing and sorting strings of the input",
        "query": "x := [input.a < input.b, sort([input.b, input.a]), max([input.a, input.b])]",
        "input": {"a": "Key", "b": "Key role"},
    },
    "sort-array-index": {
        "what": "indexing the sorted copy of an array",
        "query": "x := sort([3, 1, 2])[0]",
    },
    "sort-comprehension-index": {
        "what": "indexing the sorted copy of an array comprehension over a set",
        "query": "x := sort([v | some v in {3, 1, 2}])[0]",
    },
    "string-escape": {
        "what": "a string literal with an escape sequence",
        "query": 'x := count("a\\"b")',
        "refused_by": "string-escape",
    },
    "string-escape-newline": {
        "what": "a string literal with \\n",
        "query": 'x := count("a\\nb")',
        "refused_by": "string-escape",
    },
    "raw-string": {
        "what": "a raw (backquoted) string literal",
        "query": 'x := count(`a"b\\n`)',
        "refused_by": "string-escape",
    },
    "input-non-ascii": {
        "what": "an input string holding characters beyond ASCII",
        "query": "x := [count(input.s), substring(input.s, 0, 1), split(input.s, \"/\")]",
        "input": {"s": "é/ü"},
    },
    "input-escape": {
        "what": "an input string holding a quote or a backslash",
        "query": "x := count(input.s)",
        "input": {"s": 'a"b\\c'},
    },
    # Patterns with escapes, where the escape means the same to both engines' matchers.
    **{f"pattern-escape {call}": {
        "what": f"an escape sequence in the pattern of {call}",
        "query": query,
        "refused_by": "string-escape",
    } for call, query in (
        ("regex.match", 'x := [regex.match("^a\\\\.b$", "a.b"), regex.match(`^a\\.b$`, "axb")]'),
        ("regex.find_n", 'x := regex.find_n("a\\\\d", "a1 a2 ab", -1)'),
        ("regex.split", 'x := regex.split("\\\\s+", "a  b c")'),
        ("regex.replace", 'x := regex.replace("a.b", "\\\\.", "-")'),
        ("glob.match", 'x := [glob.match("a\\\\*", [], "a*"), glob.match("a\\\\*", [], "ab")]'),
    )},
    "with-input-function": {
        "what": "`with input as` around a rule that calls a function",
        "module": "package probe\n\nf(v) := v + 1\n\nr := f(input.a)\n",
        "query": "x := data.probe.r with input as {\"a\": 1}",
        "refused_by": "with",
    },
    "some-kv-in-comprehension": {
        "what": "`some k, v in x` inside a comprehension",
        "query": 'x := [v | some k, v in {"a": 1}]',
    },
    "every": {
        "what": "every",
        "query": "x := true; every v in [1, 2] { v > 0 }",
    },
    "set-comprehension": {
        "what": "a set comprehension",
        "query": "x := {v | some v in [1, 1, 2]}",
    },
    "object-comprehension": {
        "what": "an object comprehension",
        "query": 'x := {k: v | some k, v in {"a": 1}}',
    },
    "function-two-outputs": {
        "what": "a function yielding two different outputs for one input",
        "module": "package probe\n\nf(_) := 1\n\nf(_) := 2\n\nr := f(0)\n",
        "query": "x := data.probe.r",
    },
    "default-rule": {
        "what": "a default rule",
        "module": "package probe\n\ndefault r := false\n\nr if input.missing\n",
        "query": "x := data.probe.r",
    },
    "else": {
        "what": "else",
        "module": "package probe\n\nr := 1 if input.missing\n\nelse := 2\n",
        "query": "x := data.probe.r",
    },
    "template-string": {
        "what": "a template string ($\"...{x}\")",
        "query": 'x := $"a{1}b"',
    },
}

# `s`: an input string with each kind of character regopy stores escaped (a quote, a
# backslash, named control characters, one written as a \\u escape); `j`: JSON text
# holding escapes; `b`: the base64 of a string with a quote.
ESCAPE_INPUT: dict = {"s": 'a"b\\c\nd\te\u0001f', "j": '{"a": "x\\"y\\n"}', "b": "YSJiXGMKZAll"}
# `w` for the trimming probes: Unicode spaces at either end.
NON_ASCII_OVERRIDES = {"trim_space": "trim_space(input.w)", "trim": 'trim(input.w, " ")'}
NON_ASCII_INPUT: dict = {"s": "aÉbİcǆd\u00a0e\u2003f", "w": "\u00a0 é \u2003", "j": '{"a": "xé"}', "b": "YcOJYg=="}
ESCAPE_PROBES: dict[str, str] = {
    "base64.decode": 'base64.decode(input.b)',
    "base64.encode": 'base64.encode(input.s)',
    "base64.is_valid": 'base64.is_valid(input.s)',
    "base64url.decode": 'base64url.decode(input.b)',
    "base64url.encode": 'base64url.encode(input.s)',
    "base64url.encode_no_pad": 'base64url.encode_no_pad(input.s)',
    "concat": 'concat(input.s, [input.s, "x"])',
    "contains": '[contains(input.s, "b"), contains(input.s, input.s)]',
    "count": 'count(input.s)',
    "crypto.hmac.equal": 'crypto.hmac.equal(input.s, input.s)',
    "crypto.hmac.md5": 'crypto.hmac.md5(input.s, "k")',
    "crypto.hmac.sha1": 'crypto.hmac.sha1(input.s, "k")',
    "crypto.hmac.sha256": 'crypto.hmac.sha256(input.s, "k")',
    "crypto.hmac.sha512": 'crypto.hmac.sha512(input.s, "k")',
    "crypto.md5": 'crypto.md5(input.s)',
    "crypto.sha1": 'crypto.sha1(input.s)',
    "crypto.sha256": 'crypto.sha256(input.s)',
    "endswith": '[endswith(input.s, "f"), endswith(input.s, input.s)]',
    "equal": 'input.s == concat("", [input.s])',
    "glob.match": '[glob.match("a*f", [], input.s), glob.match("a?b*", [], input.s), glob.match("*", [], input.s)]',
    "glob.quote_meta": 'glob.quote_meta(input.s)',
    "hex.encode": 'hex.encode(input.s)',
    "indexof": 'indexof(input.s, "c")',
    "indexof_n": 'indexof_n(input.s, "e")',
    "internal.member_2": 'input.s in [input.s]',
    "json.is_valid": 'json.is_valid(input.j)',
    "json.marshal": 'json.marshal([input.s])',
    "json.unmarshal": 'json.unmarshal(input.j)',
    "lower": 'lower(input.s)',
    "object.get": 'object.get({input.s: 1}, input.s, 0)',
    "regex.find_all_string_submatch_n": 'regex.find_all_string_submatch_n("a(.)b", input.s, -1)',
    "regex.find_n": 'regex.find_n("a.", input.s, -1)',
    "regex.is_valid": 'regex.is_valid(input.s)',
    "regex.match": 'regex.match("^a.b", input.s)',
    "regex.replace": 'regex.replace(input.s, "a.", "x")',
    "regex.split": 'regex.split("\\\\s", input.s)',
    "regex.template_match": 'regex.template_match("a{.}b*", input.s, "{", "}")',
    "regex.globs_match": 'regex.globs_match("a.*", input.s)',
    "replace": 'replace(input.s, "b", "x")',
    "split": 'split(input.s, "b")',
    "sprintf": 'sprintf("%v", [input.s])',
    "startswith": '[startswith(input.s, "a"), startswith(input.s, input.s)]',
    "strings.any_prefix_match": 'strings.any_prefix_match(input.s, ["a"])',
    "strings.any_suffix_match": 'strings.any_suffix_match(input.s, ["f"])',
    "strings.count": 'strings.count(input.s, "b")',
    "strings.replace_n": 'strings.replace_n({"b": "x"}, input.s)',
    "strings.reverse": 'strings.reverse(input.s)',
    "substring": 'substring(input.s, 1, 3)',
    "trim": 'trim(input.s, "af")',
    "trim_left": 'trim_left(input.s, "a")',
    "trim_prefix": 'trim_prefix(input.s, "a")',
    "trim_right": 'trim_right(input.s, "f")',
    "trim_space": 'trim_space(input.s)',
    "trim_suffix": 'trim_suffix(input.s, "f")',
    "type_name": 'type_name(input.s)',
    "is_string": 'is_string(input.s)',
    "is_array": 'is_array(input.s)',
    "is_boolean": 'is_boolean(input.s)',
    "is_null": 'is_null(input.s)',
    "is_number": 'is_number(input.s)',
    "is_object": 'is_object(input.s)',
    "is_set": 'is_set(input.s)',
    "neq": 'input.s != "a"',
    "lt": 'input.s < "a#"',
    "lte": 'input.s <= "a#"',
    "gt": '"a#" > input.s',
    "gte": '"a#" >= input.s',
    "internal.member_3": '0, input.s in [input.s]',
    "json.marshal_with_options": 'json.marshal_with_options([input.s], {"pretty": false})',
    "urlquery.decode": 'urlquery.decode(input.s)',
    "rand.intn": 'is_number(rand.intn(input.s, 10))',
    "upper": 'upper(input.s)',
    "uri.is_valid": 'uri.is_valid(input.s)',
    "yaml.marshal": 'yaml.marshal([input.s])',
    "yaml.is_valid": 'yaml.is_valid(input.s)',
    "yaml.unmarshal": 'yaml.unmarshal(input.j)',
    "semver.is_valid": 'semver.is_valid(input.s)',
    "uuid.rfc4122": 'is_string(uuid.rfc4122(input.s))',
    "walk": '[v | walk([input.s], [_, v])]',
}

# The formatting verbs of sprintf, each probed on these values.
SPRINTF_VALUES = ('"a"', "1", "1.5", "true", "null", "[1, \"a\"]", '{"a": 1}', "{1, 2}")
SPRINTF_VERBS = ("%v", "%s", "%d", "%q", "%x", "%f", "%.2f", "%5d", "%t", "%%")
