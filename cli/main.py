"""The `kmspolicy` command line."""

from __future__ import annotations

import functools
import io
import os
import signal
import sys
from dataclasses import replace
from importlib import import_module
from typing import TYPE_CHECKING

import click

from kmspolicy import __version__
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.findings import SEVERITIES, Finding, Result, severity_at_least
from kmspolicy.bridge.load import MAX_BYTES
from kmspolicy.bridge.pipeline import IN_PROCESS_ENGINES, PolicySet
from kmspolicy.bridge.rules import Rule, RuleMetadataError
from kmspolicy.bridge.spool import SpoolError

from . import reporters
from .config import ConfigError, load_config
from .engine_options import build_analyzer, check_engine, engine_options, engine_settings, load_policies
from .params import parse_parameters, unknown_parameters
from .progress import progress_for
from .reporters import safe
from .run import DEFAULT_TIMEOUT, default_jobs, run
from .selection import find_config, select_rules, selection_options, selection_settings

if TYPE_CHECKING:
    from .baseline import BaselineMatch

FAIL_ON = (*SEVERITIES, "never")
# The other commands, imported only when run (or listed by --help): eval does not pay for them.
COMMANDS = {
    "rules": "rules_cmd:rules_command",
    "bundle": "bundle_cmd:bundle_group",
    "input": "input_cmd:input_command",
    "test": "test_cmd:test_command",
    "access": "access_cmd:access_command",
    "explain": "explain_cmd:explain_command",
    "baseline": "baseline_cmd:baseline_group",
    "fix": "fix_cmd:fix_command",
}
# Errors of modules imported only for some options (--bundle, --baseline): caught if imported.
ON_DEMAND_ERRORS = {"kmspolicy.bridge.bundle": "BundleError", "kmspolicy.cli.baseline": "BaselineError"}


class Failure(click.ClickException):
    """A usage, input or engine error: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        say(f"kmspolicy: error: {self.format_message()}")


def use_color(no_color: bool) -> bool:
    if no_color or "NO_COLOR" in os.environ or sys.stdout is None:
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def check_stdout(chosen: list[tuple[str, str | None]]) -> None:
    """Before any work: a format that goes to stdout needs a stdout (`>&-` closes it)."""
    to_stdout = [name for name, file in chosen if file is None]
    if not to_stdout:
        return
    usable = sys.stdout is not None and not sys.stdout.closed
    if usable:
        try:
            os.fstat(sys.stdout.fileno())
        except (AttributeError, io.UnsupportedOperation):  # not a file (e.g. captured by a test)
            pass
        except (OSError, ValueError):
            usable = False
    if not usable:
        raise Failure(f"stdout is closed: nowhere to write the {to_stdout[0]} report "
                      "(write it to a file with --output FILE)")


def silence_stdout() -> None:
    """After a failed write to stdout: what is still buffered goes nowhere, so that Python
    does not fail again (and differently) when it flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, ValueError, OSError):
        pass


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


class LazyGroup(click.Group):
    """The commands of COMMANDS are imported when first looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and name not in self.commands:
            module, _, attribute = COMMANDS[name].partition(":")
            self.add_command(getattr(import_module(f".{module}", __package__), attribute), name)
        return super().get_command(ctx, name)


def input_errors() -> tuple[type[Exception], ...]:
    """What eval reports as one line, exit 2 (a module not imported raised none of its errors)."""
    on_demand = tuple(getattr(sys.modules[module], name) for module, name in ON_DEMAND_ERRORS.items()
                      if module in sys.modules)
    return (ConfigError, RuleMetadataError, EngineError, *on_demand)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             invoke_without_command=True, no_args_is_help=True)
@click.option("--version", "show_version", is_flag=True,
              help="Show the version and exit; with -v, the data catalogs' versions too.")
@click.option("-v", "--verbose", is_flag=True, help="With --version: the catalogs' versions.")
@click.pass_context
def main(ctx: click.Context, show_version: bool, verbose: bool) -> None:
    """Who can use and manage the KMS keys in your CloudFormation and SAM templates."""
    if show_version:
        click.echo(version_text(verbose))
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)


def version_text(verbose: bool) -> str:
    lines = [f"kmspolicy, version {__version__}"]
    if verbose:
        from kmspolicy.bridge import catalog
        lines += [f"SAM policy templates: {catalog.sam_catalog_source()}",
                  f"AWS managed policies: {catalog.managed_catalog_source()}"]
    return "\n".join(lines)


@main.command("eval")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-f", "--format", "formats", multiple=True, metavar="NAME[=FILE]",
              help=f"Output format ({', '.join(reporters.REPORTERS)}); repeat with =FILE for several.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the output to FILE.")
@click.option("--fail-on", type=click.Choice(FAIL_ON, case_sensitive=False), default="low", show_default=True,
              help="Exit 1 when a finding is at least this severe.")
@click.option("--severity", type=click.Choice(SEVERITIES, case_sensitive=False), default=None,
              help="Show only findings at least this severe.")
@click.option("-p", "--parameter", "parameters", multiple=True, metavar="KEY=VALUE",
              help="A template parameter value (repeatable).")
@click.option("--parameters-file", multiple=True, type=click.Path(dir_okay=False),
              help="Parameter values: JSON/YAML mapping or CloudFormation's ParameterKey list.")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="Organization guardrails (YAML or JSON; default: .kmspolicy.yaml or "
                   ".kmspolicy.yml in --root or the working directory).")
@click.option("--root", type=click.Path(file_okay=False),
              help="Report paths relative to this folder (default: the working directory).")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="Hide the findings recorded in this file by `kmspolicy baseline create`.")
@click.option("--skip-non-templates", is_flag=True,
              help="Skip files given by name that are not templates, as in folders (pre-commit).")
@click.option("-v", "--verbose", is_flag=True, help="Also list skipped files and suppressed findings.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary and errors.")
@click.option("--no-color", is_flag=True, help="No ANSI colour (NO_COLOR is honoured too).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--max-file-size", type=click.IntRange(min=1), default=MAX_BYTES, metavar="BYTES",
              show_default=True, help="Refuse template files larger than this (an error, exit 2).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the number of CPUs; 1: none, all in this process).")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help=f"Stop analyzing a file after SECONDS: an error, exit 2 (default "
                   f"{DEFAULT_TIMEOUT:g}; 0: no limit). Under a limit, even --jobs 1 analyzes "
                   "in a worker process, the only kind that can be stopped; 0 with --jobs 1 "
                   "analyzes in this process.")
@selection_options
@engine_options
def eval_command(paths, formats, output, fail_on, severity, parameters, parameters_file,
                 config_path, root, baseline_path, skip_non_templates, verbose, quiet, no_color,
                 debug, max_file_size, jobs, timeout, **engine) -> None:
    """Analyze templates (files or directories) and report findings on their lines."""
    try:
        chosen = parse_formats(formats, output)
        check_stdout(chosen)
        values = parse_parameters(parameters, parameters_file)
        selection = selection_settings(engine)
        settings = engine_settings(engine)
        config_given, config_path = config_path is not None, config_path or find_config(root)
        if verbose and config_path and not config_given:
            click.echo(f"kmspolicy: using the config {config_path}", err=True)
        config = load_config(config_path)
        checked = load_policies(settings["bundles"], config, settings["engine"],
                                settings["allowed_builtins"])
        config = select_rules(config, set(checked.rules), selection["checks"],
                              selection["skip_checks"], config_path)
        jobs = jobs or default_jobs()
        settings["packs_checked"] = True
        settings["escape_sensitive"] = checked.escape_sensitive
        in_process = settings["engine"] in IN_PROCESS_ENGINES
        if timeout and not in_process:
            raise click.UsageError(f"--timeout goes with the {' and '.join(IN_PROCESS_ENGINES)} "
                                   "engines (--opa-timeout bounds the others)")
        check_engine(settings["engine"])
        if in_process and (jobs > 1 or timeout != 0):
            # each worker builds an engine from these (the rule selection is in their config)
            policies = load_policies(settings["bundles"], config, settings["engine"],
                                     settings["allowed_builtins"], check=False)
            build = functools.partial(build_analyzer, settings, config, config_given, values, policies)
            analyzer = functools.partial(configured_analyzer, build, max_file_size, debug)
        else:
            build = functools.partial(build_analyzer, settings, config, config_given, values)
            analyzer = configured_analyzer(build, max_file_size, debug)
            policies = analyzer.policies
        for warning in config_warnings(policies, config_path):
            say(f"kmspolicy: warning: {warning}")
        for bundle, module in checked.replaced:
            say(f"kmspolicy: warning: {bundle} replaces the built-in module {module} (declared "
                "in its manifest): the built-in rules it held do not run as shipped")
        known = None
        if baseline_path:
            from .baseline import load_baseline

            known = load_baseline(baseline_path)
        result = run(list(paths), analyzer, root, jobs=jobs, skip_non_templates=skip_non_templates,
                     progress=progress_for([name for name, _ in chosen], quiet), timeout=timeout,
                     exclude=(*selection["exclude"], *config.get("exclude", [])),
                     allow_empty=selection["allow_empty"], engine=settings["engine"])
        for name in unknown_parameters(parameters, result, root):
            click.echo(f"kmspolicy: warning: --parameter {name}: no analyzed template declares "
                       "this parameter", err=True)
    except (SpoolError, *input_errors()) as exc:
        raise Failure(str(exc)) from None
    try:  # the result's lists are spooled in temporary files: closed whatever happens
        hidden = 0
        if known is not None:
            from .baseline import apply_baseline

            match = apply_baseline(result, known)
            hidden = match.hidden
            say(baseline_note(baseline_path, match))
        if severity:
            result.keep_findings(lambda f: severity_at_least(f.severity, severity))
        result.findings.sort(key=Finding.sort_key)
        if verbose:
            for entry in result.skipped:
                say(f"kmspolicy: skipped {entry}")
        if not result.files and not result.errors:
            say(f"kmspolicy: warning: {no_template_note(paths, len(result.skipped), verbose)}")
        context = reporters.ReportContext(color=use_color(no_color), verbose=verbose, quiet=quiet,
                                          sources=reporters.file_sources(root), tool_version=__version__,
                                          fail_on=fail_on, rules=effective_rules(policies),
                                          baseline_hidden=hidden)
        write_reports(result, chosen, context)
        code = result.exit_code(fail_on)
    except SpoolError as exc:
        raise Failure(str(exc)) from None
    finally:
        result.close()
    sys.exit(code)


def configured_analyzer(build, max_bytes: int, debug: bool):
    """`build()` with the per-file limits and --debug (module level: workers unpickle it)."""
    analyzer = build()
    analyzer.max_bytes = max_bytes
    analyzer.debug = debug
    return analyzer


def write_reports(result: Result, chosen: list[tuple[str, str | None]],
                  context: reporters.ReportContext) -> None:
    for name, file in chosen:
        reporter = reporters.get_reporter(name)
        if file is None:
            stdout = EchoStream()
            try:
                reporter.write(result, context, stdout)
                stdout.flush()
                if sys.stdout is not None:
                    sys.stdout.flush()
            except OSError as exc:
                silence_stdout()
                raise Failure(f"stdout: cannot write the {name} output: "
                              f"{exc.strerror or exc}") from None
            continue
        try:
            with open(file, "w", encoding="utf-8") as handle:
                reporter.write(result, replace(context, color=False), handle)
        except OSError as exc:
            raise Failure(f"{file}: cannot write the {name} output: {exc.strerror}") from None
        except BaseException:  # interrupted: leave no half report that could pass for one
            _remove_partial(file)
            raise
    if any(name == "github" for name, _ in chosen):
        from .reporters.github import append_step_summary

        try:
            append_step_summary(result, context)
        except OSError as exc:
            raise Failure(f"{exc.filename}: cannot write the GitHub step summary: "
                          f"{exc.strerror}") from None


def _remove_partial(file: str) -> None:
    try:
        if os.path.isfile(file) and not os.path.islink(file):
            os.unlink(file)
    except OSError:
        pass


class EchoStream:
    """A text stream onto stdout through click.echo (which CliRunner captures), in chunks."""

    CHUNK = 64 * 1024

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            click.echo("".join(self.parts), nl=False)
        self.parts.clear()
        self.size = 0


def effective_rules(policies: PolicySet) -> dict[str, Rule]:
    """The rules that run, with the severities the configuration sets."""
    settings = policies.config.get("rules") or {}
    rules = {}
    for rule_id, rule in policies.rules.items():
        setting = settings.get(rule_id) or {}
        if setting.get("enabled") is not False:
            rules[rule_id] = replace(rule, severity=setting.get("severity", rule.severity))
    return rules


def no_template_note(paths: tuple[str, ...], skipped: int, verbose: bool) -> str:
    """Said whenever nothing was analyzed: a scan of nothing must not read as a clean pass."""
    where = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    note = f"no CloudFormation or SAM template found in {where}, so nothing was checked"
    if skipped:
        note += (f" ({skipped} YAML/JSON file{'s' * (skipped != 1)} without Resources "
                 f"skipped{'' if verbose else '; -v lists them'})")
    return note + "; hidden folders (.*) and vendored ones (node_modules, .venv, ...) are not searched"


def config_warnings(policies: PolicySet, config_path: str | None) -> list[str]:
    """Configuration that silently checks less than meant: unknown rule ids, every rule off."""
    settings = policies.config.get("rules") or {}
    source = config_path or "the configuration"
    warnings = [f"{source}: rules.{rule_id} names no known rule (known: "
                f"{', '.join(sorted(policies.rules))})"
                for rule_id in sorted(settings) if rule_id not in policies.rules]
    if policies.rules and not effective_rules(policies):
        warnings.append(f"{source} disables every rule: nothing is checked")
    return warnings


def baseline_note(path: str, match: BaselineMatch) -> str:
    note = f"kmspolicy: {match.hidden} known finding{'s' * (match.hidden != 1)} hidden by the baseline {path}"
    if match.stale:
        note += f" ({match.stale} baseline entr{'ies' if match.stale != 1 else 'y'} no longer found)"
    return note


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: the run stops where it is (a BaseException, so neither
    click nor any `except Exception` takes it for a finding or an input error)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, _frame) -> None:
    for each in (signal.SIGINT, signal.SIGTERM):  # one is enough: clean up undisturbed
        signal.signal(each, signal.SIG_IGN)
    raise Interrupted(signum)


def entrypoint() -> None:
    """Console script: any unexpected exception is one line and exit 2 (--debug: traceback);
    SIGINT and SIGTERM stop the run at once (workers too) with exit 128 + the signal's
    number (130, 143) and no report claiming to be complete."""
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, _interrupt)
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except Interrupted as stop:
        name = signal.Signals(stop.signum).name
        say(f"kmspolicy: interrupted ({name}): the run was stopped; any report written is "
            "incomplete")
        sys.exit(128 + stop.signum)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if "--debug" in sys.argv:
            raise
        hint = " (run with --debug for a traceback)" if sys.argv[1:2] == ["eval"] else ""
        say(f"kmspolicy: internal error: {type(exc).__name__}: {exc}{hint}")
        sys.exit(2)


def say(line: str) -> None:
    """A line on stderr (if there is a stderr to write to), unable to drive the terminal or
    command the CI log whatever file names and template text it holds (reporters/safe.py)."""
    try:
        click.echo(safe.message(line), err=True)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # python -m kmspolicy.cli.main
    entrypoint()
