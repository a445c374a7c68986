"""`kmspolicy baseline create`: record today's findings for `eval --baseline`."""

from __future__ import annotations

import sys

import click

from kmspolicy.bridge.bundle import BundleError
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.rules import RuleMetadataError

from .access_cmd import with_parameter_values
from .baseline import BaselineError, write_baseline
from .config import ConfigError, load_config
from .engine_options import build_analyzer, engine_options, engine_settings
from .params import parse_parameters
from .run import run


@click.group("baseline")
def baseline_group() -> None:
    """Record today's findings, so that `eval --baseline` reports only new ones."""


@baseline_group.command("create")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The baseline file to write, e.g. .kmspolicy-baseline.json.")
@with_parameter_values
@click.option("--root", type=click.Path(file_okay=False),
              help="Paths relative to this folder (default: the working directory); "
                   "give eval the same.")
@engine_options
def baseline_create(paths, output, parameters, parameters_file, config_path, root,
                    **engine) -> None:
    """Write the findings of PATHS (not the suppressed ones) to a baseline file."""
    from .main import Failure

    try:
        values = parse_parameters(parameters, parameters_file)
        config = load_config(config_path)
        analyzer = build_analyzer(engine_settings(engine), config, config_path is not None, values)
    except (ConfigError, RuleMetadataError, EngineError, BundleError) as exc:
        raise Failure(str(exc)) from None
    with run(list(paths), analyzer, root) as result:
        try:
            count = write_baseline(output, result)
        except BaselineError as exc:
            raise Failure(str(exc)) from None
        errors = [str(error) for error in result.errors]
    for error in errors:
        click.echo(f"kmspolicy: error: {error}", err=True)
    click.echo(f"kmspolicy: wrote {count} finding{'s' * (count != 1)} to {output}", err=True)
    if errors:
        click.echo("kmspolicy: the files above could not be analyzed; their findings are not "
                   "in the baseline", err=True)
        sys.exit(2)
