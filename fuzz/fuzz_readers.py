"""Fuzz the readers of the files an operator names: bundles, config, baseline, parameters.

    python fuzz/fuzz_readers.py --seconds 60 [--work DIR] [libFuzzer options]   (make fuzz)

The first byte of an input picks what the rest becomes: a `--config` file (YAML or
JSON), a `--baseline`, a `--parameters-file`, a bundle archive as raw bytes (gzip
header added when missing, so the tar reader is reached), or a well-formed bundle
whose `.manifest`, `data.json`, `data.yaml` or Rego file is the rest. Each is written to a
scratch file under `--work` and read through the reader kmspolicy uses (reading limits,
parsing limits, schema); `contracts.check_*` say what must hold: a value of the right
shape or one error line naming the file, never another exception, a hang or unbounded
memory. Without atheris, hypothesis generates raw bytes and mutated example texts.
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import runner  # noqa: E402

if runner.have_atheris():
    import atheris

    with atheris.instrument_imports(include=["kmspolicy", "yaml"]):
        import contracts
else:
    import contracts

DICTIONARY = Path(__file__).resolve().parent / "template.dict"
MEMBERS = (".manifest", "data.json", "data.yaml", "kmspolicy/rules/x.rego", "a/b/data.json")
SCRATCH: Path = Path()


def _tarball(name: str, content: bytes) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return raw.getvalue()


def _scratch(name: str, content: bytes) -> str:
    path = SCRATCH / name
    path.write_bytes(content)
    return str(path)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    kind, rest = data[0] % 8, data[1:]
    if kind == 0:
        contracts.check_config(_scratch("config.yaml", rest))
    elif kind == 1:
        contracts.check_config(_scratch("config.json", rest))
    elif kind == 2:
        contracts.check_baseline(_scratch("baseline.json", rest))
    elif kind == 3:
        contracts.check_parameters(_scratch("parameters.yaml", rest))
    elif kind == 4:
        archive = rest if rest[:2] == b"\x1f\x8b" else gzip.compress(rest, mtime=0)
        contracts.check_bundle(_scratch("raw.tar.gz", archive))
    else:
        member = MEMBERS[(data[0] // 8) % len(MEMBERS)]
        contracts.check_bundle(_scratch("bundle.tar.gz", _tarball(member, rest)))


def main() -> None:
    global SCRATCH
    args, extra = runner.parse_args("readers")
    SCRATCH = args.work / "scratch"
    SCRATCH.mkdir(parents=True, exist_ok=True)
    if runner.have_atheris() and not args.hypothesis:
        runner.run_atheris(test_one_input, args, extra, seeds=True,
                           options=(f"-dict={DICTIONARY}", "-max_len=65536"))
        return
    import mutations
    from hypothesis import strategies as st

    texts = mutations.mutated_texts().map(lambda c: c[1])
    strategy = st.builds(lambda kind, body: bytes([kind]) + body, st.integers(0, 255),
                         st.one_of(st.binary(max_size=2048), texts))
    runner.run_hypothesis(strategy, test_one_input, args.seconds)


if __name__ == "__main__":
    main()
