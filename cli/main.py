"""The `kmspolicy` command line."""

from __future__ import annotations

import os
import sys

import click

from kmspolicy import __version__
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.findings import SEVERITIES, Result, severity_at_least
from kmspolicy.bridge.pipeline import Analyzer, PolicySet
from kmspolicy.bridge.rules import RuleMetadataError

from . import reporters
from .config import ConfigError, load_config
from .params import parse_parameters
from .run import run

FAIL_ON = (*SEVERITIES, "never")


class Failure(click.ClickException):
    """A usage, input or engine error: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"kmspolicy: error: {self.format_message()}", err=True)


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def parse_formats(formats: tuple[str, ...], output: str | None) -> list[tuple[str, str | None]]:
    """`--format name` or `--format name=FILE`; `--output` is the file of a single format."""
    chosen = []
    for item in formats or (reporters.DEFAULT_FORMAT,):
        name, _, file = item.partition("=")
        if name not in reporters.REPORTERS:
            raise click.BadParameter(f"unknown format '{name}' (choose from: "
                                     f"{', '.join(reporters.REPORTERS)})", param_hint="--format")
        chosen.append((name, file or None))
    if output:
        if len(chosen) != 1 or chosen[0][1]:
            raise click.BadParameter("--output goes with exactly one --format; "
                                     "use --format NAME=FILE for several", param_hint="--output")
        chosen = [(chosen[0][0], output)]
    to_stdout = [name for name, file in chosen if file is None]
    if len(to_stdout) > 1:
        raise click.BadParameter(f"only one format can go to stdout (got {', '.join(to_stdout)}); "
                                 "write the others with --format NAME=FILE", param_hint="--format")
    return chosen


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kmspolicy")
def main() -> None:
    """Who can use and manage the KMS keys in your CloudFormation and SAM templates."""


@main.command("eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-f", "--format", "formats", multiple=True, metavar="NAME[=FILE]",
              help=f"Output format ({', '.join(reporters.REPORTERS)}); repeat with =FILE for several.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the output to FILE.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="low", show_default=True,
              help="Exit 1 when a finding is at least this severe.")
@click.option("--severity", type=click.Choice(SEVERITIES), default=None,
              help="Show only findings at least this severe.")
@click.option("-p", "--parameter", "parameters", multiple=True, metavar="KEY=VALUE",
              help="A template parameter value (repeatable).")
@click.option("--parameters-file", multiple=True, type=click.Path(dir_okay=False),
              help="Parameter values: JSON/YAML mapping or CloudFormation's ParameterKey list.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="Organization guardrails (YAML or JSON).")
@click.option("--root", type=click.Path(file_okay=False),
              help="Report paths relative to this folder (default: the working directory).")
@click.option("-v", "--verbose", is_flag=True, help="Also list skipped files and suppressed findings.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary and errors.")
@click.option("--no-color", is_flag=True, help="No ANSI colour (NO_COLOR is honoured too).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def eval_command(paths, formats, output, fail_on, severity, parameters, parameters_file,
                 config_path, root, verbose, quiet, no_color, debug) -> None:
    """Analyze templates (files or directories) and report findings on their lines."""
    try:
        chosen = parse_formats(formats, output)
        values = parse_parameters(parameters, parameters_file)
        config = load_config(config_path)
        analyzer = Analyzer(PolicySet.builtin(config=config), parameters=values)
    except (ConfigError, RuleMetadataError, EngineError) as exc:
        raise Failure(str(exc)) from None
    result = run(list(paths), analyzer, root)
    if severity:
        result.findings = [f for f in result.findings if severity_at_least(f.severity, severity)]
    result.findings.sort(key=lambda f: f.sort_key())
    if verbose:
        for file in result.skipped:
            click.echo(f"kmspolicy: skipped {file} (not a CloudFormation or SAM template)", err=True)
    context = reporters.ReportContext(color=use_color(no_color), verbose=verbose, quiet=quiet,
                                      sources=reporters.file_sources(root), tool_version=__version__,
                                      fail_on=fail_on)
    write_reports(result, chosen, context)
    sys.exit(result.exit_code(fail_on))


def write_reports(result: Result, chosen: list[tuple[str, str | None]],
                  context: reporters.ReportContext) -> None:
    for name, file in chosen:
        reporter = reporters.get_reporter(name)
        if file is None:
            click.echo(reporter.render(result, context), nl=False)
            continue
        plain = reporters.ReportContext(color=False, verbose=context.verbose, quiet=context.quiet,
                                        sources=context.sources, tool_version=context.tool_version,
                                        fail_on=context.fail_on)
        try:
            with open(file, "w", encoding="utf-8") as handle:
                handle.write(reporter.render(result, plain))
        except OSError as exc:
            raise Failure(f"{file}: cannot write the {name} output: {exc.strerror}") from None


def entrypoint() -> None:
    """Console script: any unexpected exception is one line and exit 2 (--debug: traceback)."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if "--debug" in sys.argv:
            raise
        click.echo(f"kmspolicy: internal error: {type(exc).__name__}: {exc} "
                   "(run with --debug for a traceback)", err=True)
        sys.exit(2)
