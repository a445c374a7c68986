"""Template parameter values from `--parameter K=V` and `--parameters-file`."""

from __future__ import annotations

import json

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
