"""JSON Schemas shipped with kmspolicy (`output-v1.json`: the `--format json` contract).

Schemas are package data of `kmspolicy.bridge.schema`, read with pkgutil.get_data, so
they work from a wheel, a zip or a source checkout alike.
"""

from __future__ import annotations

import copy
import json
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema costs ~90 ms to import: only when something is validated
    from jsonschema import Draft202012Validator

__all__ = ["config_problem", "first_error", "load_schema", "validate", "validator"]


def _file_name(name: str) -> str:
    file_name = name if name.endswith(".json") else f"{name}.json"
    if "/" in file_name or "\\" in file_name or file_name.startswith("."):
        raise ValueError(f"not a schema name: {name!r}")
    return file_name


@cache
def _load(file_name: str) -> dict[str, Any]:
    text = pkgutil.get_data(__name__, file_name).decode("utf-8")
    return json.loads(text)


def load_schema(name: str) -> dict[str, Any]:
    """The schema `name` (`"output-v1"` or `"output-v1.json"`), as a fresh dict."""
    return copy.deepcopy(_load(_file_name(name)))


@cache
def validator(name: str) -> Draft202012Validator:
    """A draft 2020-12 validator for schema `name` (the schema itself is checked first)."""
    from jsonschema import Draft202012Validator

    schema = _load(_file_name(name))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(doc: Any, name: str) -> None:
    """Raise jsonschema.ValidationError (the most relevant one) if `doc` is not valid."""
    from jsonschema.exceptions import best_match

    error = best_match(validator(name).iter_errors(doc))
    if error is not None:
        raise error


def first_error(doc: Any, name: str) -> tuple[str, str] | None:
    """(JSON pointer below `doc`, one-line message) of the most relevant error, or None."""
    from jsonschema.exceptions import best_match

    error = best_match(validator(name).iter_errors(doc))
    if error is None:
        return None
    where = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)
    return where, " ".join(error.message.split())[:300]


def config_problem(config: Any) -> str | None:
    """What is wrong with an organization config (schema config-v1), as "where: message"
    ("(top level)" when at the root); None when it is valid."""
    error = first_error(config, "config-v1")
    if error is None:
        return None
    where, message = error
    return f"{where.lstrip('/') or '(top level)'}: {message}"
