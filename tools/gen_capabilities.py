"""Generate `bridge/data/embedded_capabilities.json` (`make catalogs`); `--check` verifies it.

What the embedded engine (regopy) really supports, found by probing it against OPA's own
evaluator (opa-golib-python-bindings, OPA 1.20): for every builtin of OPA's capabilities
(read from the capabilities files OPA embeds in the bindings' library), the probes of
`tools/capability_probes.py` are evaluated on both engines and the builtin recorded as

* `supported`: every probe gives OPA's value;
* `undefined`: the embedded engine leaves a probe undefined (or errs) where OPA has a value;
* `divergent`: both give a value, and they differ;
* `unverified`: no probe here (the pack checks refuse it: unknown is not "supported");
* `unsupported`: the embedded engine does not know the builtin;
* `not-in-rego-v1`: OPA 1.20 itself refuses it (deprecated builtins);
* `environment`: reaches the network or the environment; not probed.

The idioms and sprintf verbs of the probe file are recorded the same way, and for every
supported builtin that may take a string, `input_escape`: whether it reads an input
string holding JSON escapes as OPA does (`same`), not (`divergent`), or unprobed
(`unverified`), and `non_ascii` the same for a string holding characters beyond ASCII,
with the arguments that may be strings (`string_args`: index to
`string`, or `may` for an argument of several types). regopy runs in a
child process (restarted after a crash: one idiom aborts it), OPA in this process.

Exit codes: 0 ok (or up to date), 1 `--check` found the file stale or missing, 2 the
bindings or regopy are missing, or a probe is inconclusive on OPA (fix the probe).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import capability_probes as probes  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET = REPO_ROOT / "bridge" / "data" / "embedded_capabilities.json"
OPA_VERSION = "v1.20.2"
LIBRARY = "libopabridge.so"


class GenerationError(Exception):
    pass


# ------------------------------------------------------------------ OPA's capabilities


def opa_capabilities(version: str = OPA_VERSION) -> dict:
    """OPA's capabilities document `version`, as OPA embeds it (go:embed) in the bindings'
    library: the embed table holds (name, data) Go string headers pointing into the file."""
    try:
        import opa_bindings
    except ImportError:
        raise GenerationError("opa-golib-python-bindings is not installed (make install)") from None
    data = (Path(opa_bindings.__file__).parent / LIBRARY).read_bytes()
    segments = _load_segments(data)
    name = f"{version}.json".encode()
    at = data.find(name)
    header = data.find(struct.pack("<QQ", _address(segments, at), len(name))) if at >= 0 else -1
    if header < 0:
        raise GenerationError(f"{LIBRARY} holds no capabilities file {version}.json")
    _, _, pointer, length = struct.unpack_from("<QQQQ", data, header)
    start = _offset(segments, pointer)
    try:
        document = json.loads(data[start:start + length])
    except (TypeError, ValueError):
        raise GenerationError(f"{LIBRARY}: {version}.json is not readable") from None
    if not isinstance(document, dict) or not document.get("builtins"):
        raise GenerationError(f"{LIBRARY}: {version}.json has no builtins")
    return document


def _load_segments(data: bytes) -> list[tuple[int, int, int]]:
    if data[:5] != b"\x7fELF\x02":
        raise GenerationError(f"{LIBRARY} is not a 64-bit ELF library")
    table = struct.unpack_from("<Q", data, 0x20)[0]
    size, count = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(count):
        kind, _, offset, address, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, table + i * size)
        if kind == 1:  # PT_LOAD
            out.append((offset, address, filesz))
    return out


def _address(segments, offset: int) -> int:
    return next(a + offset - o for o, a, s in segments if o <= offset < o + s)


def _offset(segments, address: int) -> int:
    return next(o + address - a for o, a, s in segments if a <= address < a + s)


# ------------------------------------------------------------------ running the probes


def run_opa(items: list[dict]) -> list[dict]:
    import opa_bindings

    out = []
    for item in items:
        engine = opa_bindings.OpaEngine()
        engine.print_handler = lambda *_: None
        try:
            if item.get("module"):
                engine.add_policy("probe.rego", item["module"])
            rows = engine.eval_query(item["query"], item.get("input"))
            out.append({"value": rows[0]["x"]} if rows and "x" in rows[0] else {"undefined": True})
        except Exception as exc:  # the bindings raise their own error types
            out.append({"error": _first_line(exc)})
        finally:
            engine.close()
    return out


REGOPY_CHILD = r"""
import json, re, sys
import regopy
for line in sys.stdin:
    item = json.loads(line)
    try:
        rego = regopy.Interpreter()
        if item.get("module"):
            rego.add_module("probe.rego", item["module"])
        if "input" in item:
            rego.set_input_term(json.dumps(item["input"], ensure_ascii=False, sort_keys=True))  # as embedded.input_term
        output = rego.query(item["query"])
        if not output.ok():
            text = re.sub(r"0x[0-9a-f]+", "", " ".join(str(output.node()).split()))
            result = {"error": text[:300]}
        elif output.results and "x" in output.results[0].bindings:
            result = {"value": output.results[0].bindings["x"]}
        else:
            result = {"undefined": True}
    except Exception as exc:
        result = {"error": " ".join(f"{type(exc).__name__}: {exc}".split())[:300]}
    print("probe-result\t" + json.dumps(result), flush=True)
"""


def run_regopy(items: list[dict]) -> list[dict]:
    """Each probe's answer on regopy; a probe that kills the child is recorded as a crash
    and the child restarted for the rest."""
    out: list[dict] = []
    while len(out) < len(items):
        rest = items[len(out):]
        child = subprocess.run([sys.executable, "-c", REGOPY_CHILD], capture_output=True,
                               text=True, input="".join(json.dumps(i) + "\n" for i in rest))
        answers = [json.loads(line.split("\t", 1)[1]) for line in child.stdout.split("\n")
                   if line.startswith("probe-result\t")]  # the probes of print() write to stdout too
        out.extend(answers)
        if len(out) < len(items):
            out.append({"error": f"the process crashed (exit {child.returncode})"})
    return out


def regopy_knows(names: list[str]) -> dict[str, bool]:
    import regopy

    rego = regopy.Interpreter()
    return {name: bool(rego.is_builtin(name)) for name in names}


# ------------------------------------------------------------------ classification


def verdict(opa: dict, embedded: dict) -> str:
    """same | undefined | error | divergent for one conclusive probe."""
    if embedded == opa:
        return "same"
    if "undefined" in embedded:
        return "undefined"
    if "error" in embedded:
        return "error"
    return "divergent"


def _shown(answer: dict) -> str:
    if "value" in answer:
        return json.dumps(answer["value"], ensure_ascii=False)[:120]
    return "undefined" if "undefined" in answer else f"error ({answer['error'][:120]})"


def _dummy(arg: dict) -> str:
    return {"number": "1", "string": '"a"', "boolean": "true", "null": "null", "array": "[]",
            "object": "{}", "set": "set()"}.get(arg.get("type"), "1")


def classify(capabilities: dict) -> tuple[dict, list[str]]:
    """The catalog document, and the probes inconclusive on OPA (a problem to fix)."""
    builtins = {b["name"]: b for b in capabilities["builtins"]}
    unknown = sorted(set(probes.BUILTIN_PROBES) - set(builtins))
    if unknown:
        raise GenerationError(f"probes for builtins OPA {OPA_VERSION} does not have: {unknown}")
    items: list[tuple[str, str, dict]] = []
    for name in sorted(builtins):
        if name in probes.ENVIRONMENT_BUILTINS:
            continue
        for expression in probes.BUILTIN_PROBES.get(name, ()):
            items.append(("builtin", name, {"query": f"x := {expression}",
                                            "module": probes.PROBE_MODULE}))
        if name not in probes.BUILTIN_PROBES:
            args = ", ".join(_dummy(a) for a in builtins[name]["decl"].get("args", []))
            items.append(("v1-check", name, {"query": f"x := {name}({args})"}))
    for idiom, spec in sorted(probes.IDIOMS.items()):
        items.append(("idiom", idiom, {k: spec[k] for k in ("module", "query", "input") if k in spec}))
    for verb in probes.SPRINTF_VERBS:
        for value in probes.SPRINTF_VALUES:
            items.append(("verb", verb, {"query": f'x := sprintf("<{verb}>", [{value}])'}))
    for name, expression in sorted(probes.ESCAPE_PROBES.items()):
        items.append(("escape", name, {"query": f"x := {expression}", "input": probes.ESCAPE_INPUT}))
        expression = probes.NON_ASCII_OVERRIDES.get(name, expression)
        items.append(("non-ascii", name, {"query": f"x := {expression}", "input": probes.NON_ASCII_INPUT}))
    opa = run_opa([i for _, _, i in items])
    embedded = run_regopy([i for _, _, i in items])
    knows = regopy_knows(sorted(builtins))

    inconclusive: list[str] = []
    results: dict[tuple[str, str], list] = {}
    for (kind, name, item), o, e in zip(items, opa, embedded, strict=True):
        if kind in ("builtin", "escape", "non-ascii") and "value" not in o:
            inconclusive.append(f"{name}: {item['query']} is {_shown(o)} on OPA")
        results.setdefault((kind, name), []).append((item, o, e))

    document: dict[str, Any] = {
        "source": {"opa": f"{OPA_VERSION} ({_distribution('opa-golib-python-bindings')})",
                   "embedded": _distribution("regopy")},
        "builtins": {}, "idioms": {}, "sprintf_verbs": {}, "input_escape": {},
    }
    for name in sorted(builtins):
        entry: dict[str, Any]
        if name in probes.ENVIRONMENT_BUILTINS:
            entry = {"status": "environment", "embedded_knows": knows[name]}
        elif (("v1-check", name)) in results:
            (_, o, _), = results[("v1-check", name)]
            if "error" in o and ("deprecated" in o["error"] or "undefined function" in o["error"]):
                entry = {"status": "not-in-rego-v1", "detail": o["error"][:160]}
            elif not knows[name]:
                entry = {"status": "unsupported", "detail": "unknown to the embedded engine"}
            else:
                entry = {"status": "unverified", "detail": "no probe shows it behaves as in OPA"}
        else:
            entry = _builtin_entry(results[("builtin", name)], knows[name])
        document["builtins"][name] = entry
    for idiom, spec in sorted(probes.IDIOMS.items()):
        (item, o, e), = results[("idiom", idiom)]
        document["idioms"][idiom] = {
            "what": spec["what"], "query": item["query"], "opa": _shown(o), "embedded": _shown(e),
            "status": verdict(o, e), **({"refused_by": spec["refused_by"]} if "refused_by" in spec else {}),
        }
    for name in sorted(builtins):
        string_args = _string_args(builtins[name]["decl"])
        if document["builtins"][name]["status"] != "supported" or not string_args:
            continue
        rows = results.get(("escape", name))
        entry = {"status": "unverified", "string_args": string_args}
        if rows:
            (item, o, e), = rows
            entry["status"] = "same" if verdict(o, e) == "same" else "divergent"
            if entry["status"] == "divergent":
                entry["detail"] = f"{item['query'].removeprefix('x := ')}: OPA {_shown(o)}, embedded {_shown(e)}"
        rows = results.get(("non-ascii", name))
        entry["non_ascii"] = "unverified"
        if rows:
            (item, o, e), = rows
            entry["non_ascii"] = "same" if verdict(o, e) == "same" else "divergent"
            if entry["non_ascii"] == "divergent":
                entry["non_ascii_detail"] = (f"{item['query'].removeprefix('x := ')}: OPA {_shown(o)}, "
                                             f"embedded {_shown(e)}")
        document["input_escape"][name] = entry
    stray = sorted(set(probes.ESCAPE_PROBES) - set(document["input_escape"]))
    if stray:
        raise GenerationError(f"escape probes for builtins that are not supported or take no "
                              f"string: {stray}")
    for verb in probes.SPRINTF_VERBS:
        rows = results[("verb", verb)]
        differ = [(item, o, e) for item, o, e in rows if verdict(o, e) != "same"]
        document["sprintf_verbs"][verb] = (
            {"status": "supported"} if not differ else
            {"status": "divergent", "detail": "; ".join(
                f"{item['query'].removeprefix('x := ')}: OPA {_shown(o)}, embedded {_shown(e)}"
                for item, o, e in differ[:2])})
    return document, inconclusive


def _string_args(decl: dict) -> dict[str, str]:
    """The arguments of a builtin that may be strings: `string` if nothing else, `may` if
    the argument takes other types too (count(), equality...)."""
    out = {}
    for index, arg in enumerate(decl.get("args", [])):
        if arg.get("type") == "string":
            out[str(index)] = "string"
        elif _may_be_string(arg):
            out[str(index)] = "may"
    return out


def _may_be_string(tpe: dict) -> bool:
    if not isinstance(tpe, dict):
        return False
    if tpe.get("type") == "string" or (tpe.get("type") == "any" and not tpe.get("of")):
        return True
    return any(_may_be_string(t) for t in tpe.get("of") or [])


def _builtin_entry(rows: list, knows: bool) -> dict:
    conclusive = [(item, o, e) for item, o, e in rows if "value" in o]
    if not conclusive:
        return {"status": "unverified", "detail": "no probe is defined on OPA"}
    worst = None
    for item, o, e in conclusive:
        kind = verdict(o, e)
        if kind != "same" and worst is None:
            expression = item["query"].removeprefix("x := ")
            worst = {"status": "undefined" if kind in ("undefined", "error") else "divergent",
                     "detail": f"{expression}: OPA {_shown(o)}, embedded {_shown(e)}"}
    if worst:
        return worst
    return {"status": "supported"}


def _distribution(name: str) -> str:
    try:
        return f"{name} {importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{name} (not installed)"


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def render(document: dict) -> str:
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> str:
    document, inconclusive = classify(opa_capabilities())
    if inconclusive:
        raise GenerationError("probes with no value on OPA (fix them in "
                              "tools/capability_probes.py): " + "; ".join(inconclusive))
    return render(document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gen_capabilities", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the file is stale or missing")
    parser.add_argument("--output", type=Path, default=TARGET)
    parser.add_argument("--evaluate", action="store_true",
                        help="evaluate the probes given as a JSON list on stdin on both engines; "
                             "print [[OPA's answer, the embedded engine's], ...] (for tests)")
    args = parser.parse_args(argv)
    if args.evaluate:
        items = json.load(sys.stdin)
        print(json.dumps([list(pair) for pair in zip(run_opa(items), run_regopy(items), strict=True)]))
        return 0
    try:
        fresh = generate()
    except GenerationError as exc:
        print(f"gen_capabilities: error: {exc}", file=sys.stderr)
        return 2
    committed = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if committed != fresh:
            print(f"gen_capabilities: stale: {args.output.name} -- run `make catalogs`",
                  file=sys.stderr)
            return 1
        print("gen_capabilities: the capabilities catalog is up to date")
        return 0
    if committed != fresh:
        args.output.write_text(fresh, encoding="utf-8")
        print(f"gen_capabilities: updated {args.output}")
    else:
        print("gen_capabilities: no change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
