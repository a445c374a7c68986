"""SafeLines writes a block whole when text_line would change none of its lines: the output
must be exactly the line-by-line guard's, whatever the text and however it is written."""

from __future__ import annotations

import io
import random

import pytest

from kmspolicy.cli.reporters import safe
from kmspolicy.cli.reporters.safe import SafeLines, json_line, text_line

PIECES = ["::", ":", "##[", "#", "[", " ", "\t", "\n", "\x0c", "\x1c", "\u2003", "\r", "a",
          "AWS::KMS::Key", "arn:aws:iam::1:root", "stop-commands::x", "\n  ::add-mask::",
          "::warning file=a::", "é", "\u202e"]


def guarded_by_lines(text: str, guard) -> str:
    return "\n".join(guard(line) for line in text.split("\n"))


def written(chunks: list[str], guard) -> str:
    out = io.StringIO()
    lines = SafeLines(out, guard)
    for chunk in chunks:
        lines.write(chunk)
    lines.finish()
    return out.getvalue()


@pytest.mark.parametrize("seed", range(300))
def test_output_is_the_line_by_line_guard(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
    cuts = sorted(rng.sample(range(len(text) + 1), k=min(len(text) + 1, rng.randint(0, 4))))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    for guard in (text_line, json_line):
        assert written(chunks, guard) == guarded_by_lines(text, guard)


@pytest.mark.parametrize("text", [
    "::stop-commands::x\n", "a\n::add-mask::b\n", "a\n \t::x\n", "\n\x0c::x\n", "x ##[y\n",
    "\u2003::x\n",
])
def test_a_block_with_a_command_is_guarded(text):
    assert safe._commands_in(text)
    assert written([text], text_line) != text


@pytest.mark.parametrize("text", ["AWS::KMS::Key\n", "a ::b\n", "arn:aws:iam::1:root\n  x: y::z\n"])
def test_a_block_without_one_is_written_as_it_is(text):
    assert not safe._commands_in(text)
    assert written([text], text_line) == text
