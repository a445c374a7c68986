"""A stand-in `opa` executable for the opa-cli engine's tests when no opa binary is on PATH.

It accepts exactly the two invocations the engine makes and evaluates with the real OPA
engine (opa_bindings), reading the bundle tarball with tarfile alone:

    opa version
    opa eval --bundle BUNDLE.tar.gz --stdin-input --format json QUERY

Anything else is a usage error (exit 2), so a changed command line fails the tests.
FAKE_OPA_FAIL=1 makes eval report an OPA error; FAKE_OPA_SLEEP=S delays it;
FAKE_OPA_UNDEFINED=1 makes the result undefined.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
import time


def load(engine, path: str) -> None:
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            content = archive.extractfile(member).read().decode("utf-8")
            name = member.name.lstrip("/")
            if name.endswith(".rego"):
                engine.add_policy(name, content)
            elif name.endswith("data.json"):
                engine.add_data(json.loads(content), ".".join(name.split("/")[:-1]))


def main(argv: list[str]) -> int:
    from opa_bindings import OpaEngine, OpaError

    if argv == ["version"]:
        print("Version: 1.20.0 (stand-in: opa_bindings)")
        return 0
    if len(argv) != 7 or argv[:2] != ["eval", "--bundle"] or argv[3:6] != ["--stdin-input", "--format", "json"]:
        print(f"fake opa: unexpected arguments {argv}", file=sys.stderr)
        return 2
    bundle, query = argv[2], argv[6]
    time.sleep(float(os.environ.get("FAKE_OPA_SLEEP", "0")))
    if os.environ.get("FAKE_OPA_FAIL"):
        print(json.dumps({"errors": [{"message": "rego_type_error: injected failure"}]}))
        return 1
    engine = OpaEngine()
    load(engine, bundle)
    try:
        value = engine.eval_document(query.removeprefix("data."), json.loads(sys.stdin.read()))
    except OpaError as exc:
        if exc.code == "undefined":
            print("{}")
            return 0
        print(json.dumps({"errors": [{"message": exc.message}]}))
        return 1
    if os.environ.get("FAKE_OPA_UNDEFINED"):
        print("{}")
        return 0
    print(json.dumps({"result": [{"expressions": [{"value": value, "text": query}]}]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
