"""`kmspolicy input TEMPLATE`: the normalized input, exactly as the rules receive it."""

from __future__ import annotations

import json

import click

from kmspolicy.bridge.cdk.assembly import deployment_account
from kmspolicy.bridge.load import TemplateError, load_template
from kmspolicy.bridge.normalize import normalize

from .params import parse_parameters
from .run import display_path


@click.command("input")
@click.argument("template", type=click.Path(dir_okay=False))
@click.option("-p", "--parameter", "parameters", multiple=True, metavar="KEY=VALUE",
              help="A template parameter value (repeatable).")
@click.option("--parameters-file", multiple=True, type=click.Path(dir_okay=False),
              help="Parameter values: JSON/YAML mapping or CloudFormation's ParameterKey list.")
@click.option("--compact", is_flag=True, help="One line of JSON instead of indented.")
def input_command(template, parameters, parameters_file, compact) -> None:
    """Print the rule input (schema v2) of TEMPLATE as JSON.

    This is `input` for the Rego rules, so rule authors can evaluate against it directly:

        kmspolicy input template.yaml > input.json
        opa eval -d policies/ -i input.json data.kmspolicy.main.findings

    Parts of the template that could not be read are listed on stderr (file:line:column)
    and the exit code is 2: the input then lacks them.
    """
    from .main import Failure

    values = parse_parameters(parameters, parameters_file)
    try:
        loaded = load_template(template)
    except TemplateError as exc:
        raise Failure(str(exc) if exc.file else f"{template}: {exc}") from None
    document = loaded.document
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise Failure(f"{template}: not a CloudFormation or SAM template (no Resources mapping)")
    normalized = normalize(document, display_path(template), values, account=deployment_account(template))
    click.echo(json.dumps(normalized.input, indent=None if compact else 2,
                          separators=(",", ":") if compact else None))
    for pointer, message in normalized.problems:
        span, _ = loaded.source_map.locate(pointer)
        click.echo(f"kmspolicy: error: {template}:{span.line}:{span.column}: {message}", err=True)
    if normalized.problems:
        raise SystemExit(2)
