"""Does a file look like a CloudFormation or SAM template? Decided from its text, before
parsing, so that a directory scan can pass over other YAML and JSON (mkdocs.yml, CI files,
tsconfig.json with comments, a Helm values file with a duplicate key) without calling them
broken, while a file that looks like a template and does not parse stays an error.

A template, here, is text with any of:
- an `AWSTemplateFormatVersion` key;
- a `Transform` key naming an AWS transform (`AWS::Serverless-2016-10-31`, `AWS::Include`, …);
- a top-level `Resources` key (YAML: at the start of a line; JSON: `"Resources": {`)
  followed by a `Type` whose value starts with `AWS::`, `Custom::` or `Alexa::`.
"""

from __future__ import annotations

import codecs
import os
import re

_KEY = r"""(?:^|[\s{,])["']?"""  # a key at the start of a line, after `{` or `,`, maybe quoted
FORMAT_VERSION = re.compile(_KEY + r"""AWSTemplateFormatVersion["']?\s*:""", re.MULTILINE)
TRANSFORM = re.compile(_KEY + r"""Transform["']?\s*:[\s\[\-"']*AWS::""", re.MULTILINE)
RESOURCES = re.compile(r"""^["']?Resources["']?[ \t]*:|"Resources"\s*:\s*\{""", re.MULTILINE)
RESOURCE_TYPE = re.compile(_KEY + r"""Type["']?\s*:\s*["']?(?:AWS|Custom|Alexa)::""", re.MULTILINE)


def decode(data: bytes) -> str:
    """Text for sniffing: UTF-8 (or UTF-16/32 with a byte-order mark); bad bytes replaced."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def looks_like_template(text: str) -> bool:
    # Each pattern is searched only in a text holding its word: finding none is quicker.
    if "AWSTemplateFormatVersion" in text and FORMAT_VERSION.search(text):
        return True
    if "Transform" in text and TRANSFORM.search(text):
        return True
    resources = RESOURCES.search(text) if "Resources" in text else None
    return resources is not None and RESOURCE_TYPE.search(text, resources.end()) is not None


def file_looks_like_template(path: str, limit: int) -> bool | None:
    """From the first `limit` bytes of the file; None when it cannot be read or is not a
    regular file (a pipe would block: the loader reports those)."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except OSError:
        return None
    return looks_like_template(decode(data))
