"""Hostile variants of the example templates, as hypothesis strategies.

Shared by the property tests (tests/test_fuzz_properties.py) and the fuzzing harnesses
(fuzz/fuzz_*.py, where atheris drives the same strategies through
`hypothesis.fuzz_one_input`). Two families:

* `mutated_documents()`: a seed document with 1–4 structural mutations — a node deleted,
  a node's type swapped, an intrinsic function (known, malformed or unknown) put in its
  place, random strings (ARN fragments, wildcards, `${}`) in principals, actions,
  resources and conditions, a subtree duplicated.
* `mutated_texts()`: a seed file's bytes with 1–4 textual mutations — lines deleted,
  duplicated or swapped, tabs and YAML indicators inserted, truncation, random bytes
  (NUL, invalid UTF-8), `!!python/...` tags, anchors and aliases.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from kmspolicy.bridge.load import TemplateError, load_template

ROOT = Path(__file__).resolve().parent.parent
SEED_GLOBS = ("examples/*/template.yaml", "examples/*/template.yml", "examples/*/template.json")

# Keys under which random strings matter most (principals, actions, resources, conditions).
POLICY_KEYS = frozenset({
    "Principal", "NotPrincipal", "AWS", "Service", "Federated", "CanonicalUser", "Action",
    "NotAction", "Resource", "NotResource", "Condition", "Effect", "Statement", "KeyPolicy",
    "PolicyDocument", "Policies", "ManagedPolicyArns", "Roles", "Users", "Groups", "Role",
    "Metadata", "kmspolicy", "admins", "users", "suppress",
})
FRAGMENTS = (
    "arn:", "aws", "aws-cn", ":iam::", ":sts::", ":kms:", "111122223333", "123456789012", ":root",
    "root", "role/", "user/", "assumed-role/", "federated-user/", "key/", "alias/", "*", "?",
    "kms:", "kms:*", "Decrypt", "Encrypt", "Create*", "Put*", "GenerateDataKey*", "s3:GetObject",
    "${AWS::AccountId}", "${AWS::Partition}", "${AWS::Region}", "${", "}", "${}", "${!Literal}",
    "${Missing}", "${KmsKey.Arn}", "$", ":", "/", ".", " ", "\t", "\n", "~", "~1", "%", "\\",
    "\u202e", "\x00", "é", "true", "false", "null", "{", "[", "\"",
)
INTRINSIC_NAMES = (
    "Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split",
    "Fn::FindInMap", "Fn::ImportValue", "Fn::Base64", "Fn::GetAZs", "Fn::Cidr", "Fn::Equals",
    "Fn::And", "Fn::Or", "Fn::Not", "Fn::Transform", "Fn::Length", "Fn::ToJsonString",
    "Fn::Bogus", "Fn::ForEach::Loop", "Fn::", "Ref ",
)
TEXT_INSERTS = (
    "\t", " ", "  ", "\n", "- ", ": ", "? ", "[", "]", "{", "}", ",", "#", "&a ", "*a", "<<: *a\n",
    "!Ref ", "!Sub ", "!GetAtt ", "!If ", "!Bogus ", "!!python/object/apply:os.system ['id'] ",
    "!!binary ", "!!str ", "!!int ", "---\n", "...\n", "%YAML 1.1\n", "'", '"', "|", ">", "@",
    "`", "\ufeff", "\u2028", "\x85", "Fn::Sub: ", "Statement: ", "Effect: Deny\n", "Principal: '*'\n",
)


@cache
def seed_files() -> tuple[tuple[str, bytes], ...]:
    """(file name, bytes) of every example template."""
    paths = sorted(p for glob in SEED_GLOBS for p in ROOT.glob(glob))
    return tuple((f"{p.parent.name}{p.suffix}", p.read_bytes()) for p in paths)


@cache
def seed_documents() -> tuple[tuple[str, dict], ...]:
    """(file name, document) of every example template that loads."""
    out = []
    for path in sorted(p for glob in SEED_GLOBS for p in ROOT.glob(glob)):
        try:
            out.append((f"{path.parent.name}{path.suffix}", load_template(str(path)).document))
        except TemplateError:
            continue
    return tuple(out)


# --------------------------------------------------------------------------- values

texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)),
                 max_size=6).map("".join)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 15), max_value=10 ** 15),
    st.floats(allow_nan=False, allow_infinity=False), texts,
)


def names_in(document: Any) -> list[str]:
    """Logical IDs and parameter names a mutation can refer to (and a few that do not exist)."""
    names = ["AWS::AccountId", "AWS::Region", "AWS::NoValue", "AWS::Partition", "Missing"]
    if isinstance(document, dict):
        for section in ("Resources", "Parameters", "Conditions", "Mappings"):
            value = document.get(section)
            if isinstance(value, dict):
                names.extend(str(k) for k in value)
    return names


@st.composite
def intrinsics(draw, names: list[str], depth: int = 0) -> Any:
    """An intrinsic function call: well-formed, malformed, or unknown."""
    name = draw(st.sampled_from(names))
    inner = (intrinsics(names, depth + 1) if depth < 2 else scalars)
    argument = draw(st.one_of(
        st.just(name),
        st.just(f"{name}.Arn"),
        st.just([name, "Arn"]),
        texts.map(lambda t, n=name: f"arn:aws:iam::${{AWS::AccountId}}:role/${{{n}}}{t}"),
        st.tuples(texts, st.dictionaries(st.sampled_from(names), st.one_of(texts, inner),
                                         max_size=2)).map(list),
        st.lists(st.one_of(scalars, inner), max_size=4),
        st.tuples(st.sampled_from(["", ":", "/"]), st.lists(st.one_of(texts, inner), max_size=4)
                  ).map(list),
        scalars,
        inner,
    ))
    return {draw(st.sampled_from(INTRINSIC_NAMES)): argument}


# --------------------------------------------------------------------------- paths


def all_paths(document: Any) -> list[tuple]:
    """Every node's path (tuple of keys and indexes), the root included."""
    out: list[tuple] = [()]
    stack = [((), document)]
    while stack:
        path, node = stack.pop()
        children = node.items() if isinstance(node, dict) else \
            enumerate(node) if isinstance(node, list) else ()
        for key, child in children:
            out.append((*path, key))
            stack.append(((*path, key), child))
    return out


def _parent(document: Any, path: tuple) -> Any:
    node = document
    for key in path[:-1]:
        node = node[key]
    return node


def _replace(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _parent(document, path)[path[-1]] = value
    return document


def _get(document: Any, path: tuple) -> Any:
    return _parent(document, path)[path[-1]] if path else document


# --------------------------------------------------------------------------- mutations


def _pick_path(draw, document: Any, focused: bool) -> tuple:
    paths = all_paths(document)
    if focused:
        policy_paths = [p for p in paths if any(k in POLICY_KEYS for k in p if isinstance(k, str))]
        paths = policy_paths or paths
    return draw(st.sampled_from(paths))


def delete_node(draw, document: Any) -> Any:
    path = _pick_path(draw, document, draw(st.booleans()))
    if not path:
        return document
    parent = _parent(document, path)
    del parent[path[-1]]
    return document


def swap_type(draw, document: Any) -> Any:
    path = _pick_path(draw, document, draw(st.booleans()))
    old = _get(document, path)
    new = draw(st.one_of(
        scalars,
        st.just([old]),
        st.just({"Value": old}),
        st.just(list(old.values()) if isinstance(old, dict) else old),
        st.just(old[0] if isinstance(old, list) and old else old),
        st.just(json.dumps(old, default=str)),
        st.lists(scalars, max_size=3),
        st.dictionaries(texts, scalars, max_size=3),
    ))
    return _replace(document, path, new)


def insert_intrinsic(draw, document: Any) -> Any:
    path = _pick_path(draw, document, draw(st.booleans()))
    return _replace(document, path, draw(intrinsics(names_in(document))))


def random_policy_strings(draw, document: Any) -> Any:
    path = _pick_path(draw, document, True)
    value = draw(st.one_of(texts, st.lists(texts, min_size=1, max_size=4),
                           st.dictionaries(st.sampled_from(["AWS", "Service", "Federated", "X"]),
                                           st.one_of(texts, st.lists(texts, max_size=3)),
                                           min_size=1, max_size=2)))
    return _replace(document, path, value)


def duplicate_subtree(draw, document: Any) -> Any:
    source = _get(document, _pick_path(draw, document, True))
    target = _pick_path(draw, document, draw(st.booleans()))
    if not target:
        return document
    copies = draw(st.integers(min_value=1, max_value=3))
    return _replace(document, target, [copy.deepcopy(source) for _ in range(copies)]
                    if copies > 1 else copy.deepcopy(source))


MUTATIONS = (delete_node, swap_type, insert_intrinsic, random_policy_strings, duplicate_subtree)


@st.composite
def mutated_documents(draw) -> tuple[str, Any]:
    """(seed name, mutated document)."""
    name, seed = draw(st.sampled_from(seed_documents()))
    document = copy.deepcopy(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        mutation = draw(st.sampled_from(MUTATIONS))
        document = mutation(draw, document)
    return name, document


def render(document: Any, fmt: str) -> bytes:
    """The document as a template file: JSON, or YAML in PyYAML's safe block style."""
    if fmt == "json":
        return json.dumps(document, indent=1).encode("utf-8")
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")


@st.composite
def mutated_files(draw) -> tuple[str, bytes]:
    """(file name, bytes) of a mutated document written as JSON or YAML."""
    name, document = draw(mutated_documents())
    fmt = draw(st.sampled_from(["yaml", "json"]))
    return f"{Path(name).stem}.{fmt}", render(document, fmt)


# --------------------------------------------------------------------------- text


@st.composite
def mutated_texts(draw) -> tuple[str, bytes]:
    """(file name, bytes): a seed file's text, mutated line- and byte-wise."""
    name, data = draw(st.sampled_from(seed_files()))
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(("delete", "duplicate", "swap", "insert", "truncate",
                                     "bytes", "indent")))
        at = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
        if kind == "delete" and len(lines) > 1:
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "swap":
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind == "insert":
            column = draw(st.integers(min_value=0, max_value=len(lines[at])))
            insert = draw(st.sampled_from(TEXT_INSERTS)).encode("utf-8")
            lines[at] = lines[at][:column] + insert + lines[at][column:]
        elif kind == "truncate":
            joined = b"\n".join(lines)
            lines = joined[:draw(st.integers(min_value=0, max_value=len(joined)))].split(b"\n")
        elif kind == "bytes":
            column = draw(st.integers(min_value=0, max_value=len(lines[at])))
            lines[at] = lines[at][:column] + draw(st.binary(min_size=1, max_size=4)) + \
                lines[at][column:]
        else:
            lines[at] = draw(st.sampled_from([b"\t", b" ", b"   "])) + lines[at]
    return name, b"\n".join(lines)
