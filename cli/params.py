"""Template parameter values from `--parameter K=V` and `--parameters-file`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from kmspolicy.bridge.load import TemplateError, load_data


def parse_parameters(pairs: tuple[str, ...], files: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for file in files:
        values.update(_read_file(file))
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--parameter")
        values[key] = value
    return values


def _read_file(file: str) -> dict[str, str]:
    """{K: V}, or CloudFormation's [{ParameterKey, ParameterValue}] list, as JSON or YAML."""
    try:
        data = load_data(file)
    except TemplateError as exc:
        raise click.BadParameter(_one_line(exc), param_hint="--parameters-file") from None
    if isinstance(data, dict) and isinstance(data.get("Parameters"), dict):
        data = data["Parameters"]
    if isinstance(data, list):
        try:
            return {str(item["ParameterKey"]): str(item["ParameterValue"]) for item in data}
        except (TypeError, KeyError):
            raise click.BadParameter(f"{file}: expected ParameterKey/ParameterValue items",
                                     param_hint="--parameters-file") from None
    if isinstance(data, dict):
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    raise click.BadParameter(f"{file}: expected a mapping of parameter values",
                             param_hint="--parameters-file")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def unknown_parameters(pairs: tuple[str, ...], result, root: str | None) -> list[str]:
    """The `--parameter` names that no analyzed template declares under `Parameters`
    (a typo, or a value meant for another stack): warned about, not an error."""
    names = dict.fromkeys(pair.partition("=")[0] for pair in pairs)
    if not names:
        return []
    declared: set[str] = set()
    base = Path(root or os.getcwd())
    for status in result.files:
        path = base / status.file if (base / status.file).is_file() else Path(status.file)
        try:
            document = load_data(str(path))
        except (TemplateError, OSError):
            continue
        if isinstance(document, dict) and isinstance(document.get("Parameters"), dict):
            declared.update(str(name) for name in document["Parameters"])
    return [name for name in names if name not in declared]
