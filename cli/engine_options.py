"""The engine options shared by commands that evaluate (`--engine`, `--opa-*`, `--bundle`),
and the analyzer they configure."""

from __future__ import annotations

import click

from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.environment_builtins import ENVIRONMENT_BUILTINS
from kmspolicy.bridge.pipeline import ENGINES, Analyzer, PolicySet, check_engine, make_engine

OPTIONS = (
    click.option("--engine", type=click.Choice(ENGINES), default="embedded", show_default=True,
                 help="Where the Rego runs: built in (regopy), OPA's own evaluator in this process "
                      "(opa: the kmspolicy[opa] extra), a remote OPA server, or the opa binary."),
    click.option("--bundle", "bundles", multiple=True, type=click.Path(exists=False),
                 metavar="FILE|DIR",
                 help="An OPA bundle (.tar.gz or folder) of extra rules and config (repeatable)."),
    click.option("--opa-url", metavar="URL", help="The OPA server (opa-server engine)."),
    click.option("--opa-token", envvar="KMSPOLICY_OPA_TOKEN", metavar="TOKEN",
                 help="Bearer token for the OPA server (or KMSPOLICY_OPA_TOKEN)."),
    click.option("--opa-ca-cert", type=click.Path(exists=True, dir_okay=False), metavar="PEM",
                 help="CA certificate that signed the OPA server's TLS certificate."),
    click.option("--opa-timeout", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
                 help="Time limit per request, for the whole answer (opa-server: 10 s; opa-cli: "
                      "30 s per template)."),
    click.option("--opa-push", is_flag=True,
                 help="Upload the policies and config to the OPA server before evaluating "
                      "(otherwise it must already serve the guardrail bundle)."),
    click.option("--opa-path", metavar="PATH", help="The opa binary (opa-cli engine; "
                                                    "default: opa on PATH)."),
)

allow_builtin_option = click.option(
    "--allow-builtin", "allowed_builtins", multiple=True, metavar="NAME",
    type=click.Choice(ENVIRONMENT_BUILTINS),
    help="Let rule packs call this builtin that reaches the network or the environment "
         "(refused otherwise; repeatable).")


def engine_options(command):
    for option in reversed((*OPTIONS, allow_builtin_option)):
        command = option(command)
    return command


def engine_settings(kwargs: dict) -> dict:
    """Pop the engine options out of a command's keyword arguments."""
    names = ("engine", "bundles", "opa_url", "opa_token", "opa_ca_cert", "opa_timeout",
             "opa_push", "opa_path", "allowed_builtins")
    return {name: kwargs.pop(name) for name in names}


def build_analyzer(settings: dict, config: dict, config_given: bool,
                   parameters: dict[str, str], policies: PolicySet | None = None) -> Analyzer:
    """Policies (built in + bundles + config, unless already loaded: `policies`) and the
    chosen engine, as one Analyzer. Raises EngineError, BundleError, RuleMetadataError or
    click.UsageError."""
    name = settings["engine"]
    remote = name == "opa-server" and not settings["opa_push"]
    if settings["opa_url"] and name != "opa-server":
        raise click.UsageError("--opa-url goes with --engine opa-server")
    if remote and (settings["bundles"] or config_given):
        raise click.UsageError("without --opa-push the OPA server evaluates its own bundle and "
                               "config: drop --bundle/--config, or add --opa-push to upload them")
    policies = policies or load_policies(settings["bundles"], config, settings["engine"],
                                         settings["allowed_builtins"],
                                         check=not settings.get("packs_checked"))
    if settings.get("packs_checked"):  # what the check found, earlier in this run
        policies.escape_sensitive = settings.get("escape_sensitive", [])
    engine = make_engine(policies, name, url=settings["opa_url"], push=settings["opa_push"],
                         token=settings["opa_token"], ca_cert=settings["opa_ca_cert"],
                         timeout=settings["opa_timeout"], opa_path=settings["opa_path"])
    if remote:
        policies = PolicySet(engine.remote_modules(), engine.remote_config())
    return Analyzer(policies, engine=engine, parameters=parameters)


def load_policies(bundle_paths, config: dict, engine: str = "embedded",
                  allowed_builtins=(), check: bool = True) -> PolicySet:
    """The built-in policies with the bundles, checked for `engine` (pack_checks) unless
    `check` is False (they were, earlier in this run)."""
    if not bundle_paths:
        return PolicySet.builtin(config=config)
    from kmspolicy.bridge.bundle import load_bundle, policy_set

    return policy_set([load_bundle(path) for path in bundle_paths], config, engine=engine,
                      allowed_builtins=frozenset(allowed_builtins), check=check)


__all__ = ["EngineError", "build_analyzer", "check_engine", "engine_options", "engine_settings", "load_policies"]
