#!/usr/bin/env bash
# The user install of README.md ("Install"), from the wheel `make dist` built: a fresh venv
# outside the source tree, then `kmspolicy eval` on the seed example. The run must find as
# many findings as examples/seed/expected.json and no error, which it cannot unless the
# wheel carries the policies, the schemas and the catalogs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
wheels=("$repo"/dist/kmspolicy-*.whl)
if [ "${#wheels[@]}" -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
  echo "check_wheel: expected exactly one dist/kmspolicy-*.whl (run make dist)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$repo/examples/seed/template.yaml" "$work/template.yaml"
cd "$work"
"$python" -m venv venv
venv/bin/pip install --quiet --only-binary regopy "${wheels[0]}"
venv/bin/kmspolicy --version
set +e
venv/bin/kmspolicy eval --format json template.yaml > out.json
code=$?
set -e
venv/bin/python - "$code" "$repo/examples/seed/expected.json" <<'PY'
import json, sys
summary = json.load(open("out.json"))["summary"]
code = int(sys.argv[1])
expected = json.load(open(sys.argv[2]))
print(f"check_wheel: exit {code}, {summary['findings']} findings, {summary['errors']} errors")
if (code, summary["findings"], summary["errors"]) != (expected["exit_code"], len(expected["findings"]), 0):
    sys.exit("check_wheel: the installed wheel does not give the seed example's findings")
PY
rules=$(venv/bin/kmspolicy rules --format json | venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)["rules"]))')
documented=$(ls "$repo"/docs/rules/KP*.md | wc -l)
if [ "$rules" -ne "$documented" ]; then
  echo "check_wheel: the wheel has $rules rules, docs/rules has $documented" >&2
  exit 1
fi
echo "check_wheel: $rules rules; the wheel works outside the source tree"
