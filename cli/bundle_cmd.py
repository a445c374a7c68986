"""`kmspolicy bundle build|inspect`: the organization's guardrail bundle."""

from __future__ import annotations

import json

import click
import yaml

from kmspolicy import __version__
from kmspolicy.bridge.bundle import (
    REPLACES_FIELD,
    BundleError,
    build_bundle,
    bundle_config,
    load_bundle,
    policy_set,
    replacements,
)
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.pack_checks import PackError, compile_with_opa
from kmspolicy.bridge.pipeline import PolicySet
from kmspolicy.bridge.rules import RuleMetadataError, catalog_from_modules

from .config import ConfigError, load_config
from .engine_options import allow_builtin_option


@click.group("bundle")
def bundle_group() -> None:
    """Build and inspect OPA bundles of kmspolicy rules and guardrail config."""


@bundle_group.command("build")
@click.option("-o", "--output", default="guardrails.tar.gz", show_default=True,
              type=click.Path(dir_okay=False), help="The bundle file to write.")
@click.option("--revision", help="The manifest revision (default: a hash of the contents).")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="Organization guardrails (YAML or JSON) to ship as data.kmspolicy.config.")
@click.option("--policies", "policy_dirs", multiple=True, type=click.Path(file_okay=False),
              metavar="DIR", help="A rule pack laid out as a bundle folder: Rego files and "
                                  "data.json files (repeatable).")
@allow_builtin_option
def build_command(output, revision, config_path, policy_dirs, allowed_builtins) -> None:
    """Write an OPA bundle: the built-in rules, the rule packs and the config.

    `opa run --server --bundle FILE` serves it unchanged, and `kmspolicy eval --bundle FILE`
    uses it with any engine. Test files (*_test.rego) are left out. The packs are checked
    first (OPA's compiler, and what the embedded engine supports: docs/writing-rules.md),
    and the bundle is loaded into OPA before it replaces FILE, so a broken bundle is never
    written.
    """
    from .main import Failure

    try:
        config = load_config(config_path)
        policies = policy_set([load_bundle(d) for d in policy_dirs], config,
                              allowed_builtins=frozenset(allowed_builtins))
        from kmspolicy.bridge.engines.embedded import EmbeddedEngine

        EmbeddedEngine(*policies.embedded_program())
        metadata = {"kmspolicy_version": __version__}
        if policies.replaced:
            metadata[REPLACES_FIELD] = sorted({name for _, name in policies.replaced})
        content = build_bundle(policies.modules, policies.config, data=policies.extra_data,
                               revision=revision, metadata=metadata)
        built = write_checked(content, output)
    except (ConfigError, BundleError, RuleMetadataError, EngineError, PackError) as exc:
        raise Failure(str(exc)) from None
    click.echo(f"wrote {output}: revision {built.manifest['revision']}, "
               f"{len(policies.rules)} rules, roots {', '.join(built.manifest['roots'])}", err=True)


def write_checked(content: bytes, output: str):
    """Write the bundle to a temporary file beside `output`, read it back and compile it
    with OPA's compiler, and only then move it to `output` (Failure otherwise)."""
    import os
    import tempfile

    from .main import Failure

    folder = os.path.dirname(os.path.abspath(output))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".kmspolicy-bundle-", suffix=".tar.gz",
                                             dir=folder)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
    except OSError as exc:
        raise Failure(f"{output}: cannot write the bundle: {exc.strerror}") from None
    try:
        built = load_bundle(temporary)
        compile_with_opa(built.rule_modules(), built.data)
        os.replace(temporary, output)
    except (BundleError, PackError) as exc:
        raise Failure(f"{output}: the bundle built does not load, nothing written: {exc}") from None
    except OSError as exc:
        raise Failure(f"{output}: cannot write the bundle: {exc.strerror}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    built.source = output
    return built


@bundle_group.command("inspect")
@click.argument("bundle", type=click.Path())
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def inspect_command(bundle, fmt) -> None:
    """Show a bundle's manifest, rules (from their METADATA) and config."""
    from .main import Failure

    try:
        loaded = load_bundle(bundle)
        rules = catalog_from_modules(loaded.modules)
        config = bundle_config(loaded)
        replaced = replacements(loaded, PolicySet.builtin().modules)
    except (BundleError, RuleMetadataError) as exc:
        raise Failure(str(exc)) from None
    summary = {
        "bundle": bundle,
        "manifest": loaded.manifest,
        "modules": sorted(loaded.modules),
        "replaces": replaced,
        "data": sorted(_top_paths(loaded.extra_data())),
        "rules": [{"id": r.id, "severity": r.severity, "title": r.title, "package": r.package,
                   "file": r.file, "description": r.description, "remediation": r.remediation}
                  for r in sorted(rules.values(), key=lambda r: r.id)],
        "config": config,
    }
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(render_text(summary))


def render_text(summary: dict) -> str:
    manifest = summary["manifest"]
    lines = [
        f"bundle: {summary['bundle']}",
        f"revision: {manifest.get('revision', '(none)') or '(none)'}",
        f"roots: {', '.join(manifest.get('roots', [''])) or '(whole data tree)'}",
        f"rego_version: {manifest.get('rego_version', 1)}",
        f"modules: {len(summary['modules'])}",
    ]
    for name in summary["replaces"]:
        lines.append(f"replaces the built-in module {name} (declared in the manifest)")
    if summary["data"]:
        lines.append(f"other data: {', '.join(summary['data'])}")
    lines.append(f"rules ({len(summary['rules'])}):")
    for rule in summary["rules"]:
        lines.append(f"  {rule['id']:<8} {rule['severity']:<9} {rule['title']}  ({rule['file']})")
    config = yaml.safe_dump(summary["config"], sort_keys=True).rstrip() if summary["config"] else ""
    lines.append("config:" + ("" if config else " (none)"))
    lines.extend(f"  {line}" for line in config.splitlines())
    return "\n".join(lines)


def _top_paths(data: dict, prefix: str = "", depth: int = 2) -> list[str]:
    out = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth > 1:
            out.extend(_top_paths(value, path + "/", depth - 1))
        else:
            out.append(path)
    return out
