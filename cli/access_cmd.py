"""`kmspolicy access TEMPLATE`: per key, who can use, manage, change permissions on and
read it, and the lines that decide each answer."""

from __future__ import annotations

import os
import sys

import click

from kmspolicy.bridge.access.locator import LocatorError
from kmspolicy.bridge.access.report import AccessAnalyzer, AccessError
from kmspolicy.bridge.cdk.assembly import deployment_account, with_account

from .access_render import RENDERERS
from .config import ConfigError, load_config
from .params import parse_parameters
from .reporters import safe
from .selection import find_config


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def fail(message: str) -> None:
    """Bad input or an engine failure: one line on stderr, exit code 2."""
    click.echo(f"kmspolicy: error: {' '.join(str(message).split())}", err=True)
    sys.exit(2)


def analyzer(parameters: tuple[str, ...], parameters_file: tuple[str, ...],
             scenario: tuple[str, ...] = (), config_path: str | None = None,
             template: str | None = None) -> AccessAnalyzer:
    """The organization config (`--config`, else kmspolicy.yaml found as eval finds it)
    decides the verdicts too: which accounts are the stack's own (with the account of the
    CDK stack whose template `template` is), the organization."""
    try:
        wanted = parse_scenario(scenario)
        config = load_config(config_path or find_config(None))
    except (ValueError, ConfigError) as exc:
        fail(str(exc))
    if template is not None:
        config = with_account(config, deployment_account(template))
    return AccessAnalyzer(parse_parameters(parameters, parameters_file), config=config, scenario=wanted)


def parse_scenario(items: tuple[str, ...]) -> dict[str, bool]:
    """`--scenario IsProd=true` (repeatable): the truth of template Conditions."""
    out: dict[str, bool] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or value.lower() not in ("true", "false"):
            raise ValueError(f"--scenario {item!r}: expected CONDITION=true or CONDITION=false")
        out[name] = value.lower() == "true"
    return out


PARAMETER_VALUES = [
    click.option("-p", "--parameter", "parameters", multiple=True, metavar="KEY=VALUE",
                 help="A template parameter value (repeatable)."),
    click.option("--parameters-file", multiple=True, type=click.Path(dir_okay=False),
                 help="Parameter values: JSON/YAML mapping or CloudFormation's ParameterKey list."),
]
SCENARIO = click.option("--scenario", multiple=True, metavar="CONDITION=true|false",
                        help="Only the deployable variants where this template Condition has this "
                             "value (repeatable; default: every variant).")
CONFIG = click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                      help="The organization config (default: .kmspolicy.yaml here, as eval finds it).")


def _with(options, command):
    for option in reversed(options):
        command = option(command)
    return command


def with_parameters(command):
    """-p, --parameters-file, --scenario and -c/--config (access and explain)."""
    return _with([*PARAMETER_VALUES, SCENARIO, CONFIG], command)


def with_parameter_values(command):
    """-p, --parameters-file and -c/--config: a command that reads every variant at once (fix)."""
    return _with([*PARAMETER_VALUES, CONFIG], command)


@click.command("access")
@click.argument("template", type=click.Path())
@click.option("--key", "key", metavar="LOGICAL_ID", help="Only this key.")
@click.option("-f", "--format", "output_format", type=click.Choice(list(RENDERERS)), default="text",
              show_default=True, help="Output format (dot: a Graphviz graph).")
@with_parameters
@click.option("--no-color", is_flag=True, help="No ANSI colour (NO_COLOR is honoured too).")
def access_command(template, key, output_format, parameters, parameters_file, scenario, config_path,
                   no_color) -> None:
    """Who can use each KMS key in TEMPLATE, and the lines that decide it.

    Rows are principals (every identity the template defines, every principal the key
    policy names, "any IAM principal of this account"), columns the capabilities use,
    manage, permissions and read; each cell is allowed, conditional, reachable (through
    CreateGrant or PutKeyPolicy), unknown or denied. A template with Conditions is analysed
    per deployable variant: rows that differ between them are shown per scenario. Exit 2
    when the template could not be read completely (the errors are listed).
    """
    try:
        report = analyzer(parameters, parameters_file, scenario, config_path, template).report(template, key=key)
    except (AccessError, LocatorError) as exc:
        fail(str(exc))
    guard = safe.json_line if output_format == "json" else safe.text_line  # no CI log commands
    click.echo(safe.guarded(RENDERERS[output_format](report, use_color(no_color)), guard), nl=False)
    if report.errors:
        if output_format != "text":
            for error in report.errors:
                click.echo(safe.message(f"kmspolicy: error: {error}"), err=True)
        sys.exit(2)
