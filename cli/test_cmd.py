"""`kmspolicy test [DIR…]`: the Rego rule tests on the embedded engine, reported like `opa test`."""

from __future__ import annotations

import click

from kmspolicy.bridge.bundle import BundleError, load_bundle
from kmspolicy.bridge.embedded_compat import for_embedded
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.pack_checks import PackError, check_packs
from kmspolicy.bridge.regotest import TEST_RULE_START, run_cases
from kmspolicy.bridge.rules import builtin_policy_dir, package_of, read_policy_dir

from .engine_options import allow_builtin_option

RULER = "-" * 80


@click.command("test")
@click.argument("dirs", nargs=-1, type=click.Path(file_okay=False))
@click.option("--bundle", "bundles", multiple=True, type=click.Path(), metavar="FILE|DIR",
              help="Also load this bundle (and run its tests when no DIR is given).")
@click.option("-v", "--verbose", is_flag=True, help="List every case, passed or not.")
@allow_builtin_option
def test_command(dirs, bundles, verbose, allowed_builtins) -> None:
    """Run the rule tests in DIR (rule-pack folders), or in the built-in policies and the
    --bundle bundles when no DIR is given. No opa binary is needed.

    The convention: a `<rule>_test.rego` beside each rule, `package <rule package>_test`,
    holding `cases`, an object of named cases, each an `input` and the complete set of
    `findings` that `data.<rule package>.findings` must return for it, plus a rule

        test_cases if { every c in cases { <rule>.findings == c.findings with input as c.input } }

    for `opa test`. The embedded engine (regopy 1.5) crashes compiling `with input as`
    around rules that call functions, so here each case is evaluated with its input set
    directly: the same assertion, one result per case. Other `test_*` rules are reported
    as skipped (run them with `opa test`). The built-in policies are always loaded, so a
    rule pack can import data.kmspolicy.lib.*; data.kmspolicy.config is empty. The packs
    are checked first, as by `eval --bundle` (docs/writing-rules.md, section 7).

    Exit 0 when every case passes, 1 when one fails, 2 when nothing could be run.
    """
    from .main import Failure

    modules = {f"kmspolicy/{name}": source for name, source in
               read_policy_dir(builtin_policy_dir() / "kmspolicy", include_tests=True).items()}
    builtin = dict(modules)
    selected = set(modules) if not dirs else set()
    data: dict = {}
    try:
        for path in (*bundles, *dirs):
            loaded = load_bundle(path)
            modules.update(loaded.modules)
            data.update(loaded.extra_data())
            if dirs and path not in dirs:
                continue
            selected.update(loaded.modules)
    except BundleError as exc:
        raise Failure(str(exc)) from None
    data.setdefault("kmspolicy", {})["config"] = {}
    packs = {name: source for name, source in modules.items() if builtin.get(name) != source}
    try:
        check_packs(packs, modules, data, allowed=frozenset(allowed_builtins))
    except PackError as exc:
        raise Failure(str(exc)) from None
    chosen = {name: source for name, source in modules.items()
              if name in selected or not name.endswith("_test.rego")}
    chosen.update({name: source for name, source in modules.items()  # test helpers (fixtures)
                   if not (package_of(source) or "").endswith("_test")})
    try:
        results = run_cases(for_embedded(chosen, set(packs)), data)  # as the engine runs packs
    except EngineError as exc:
        raise Failure(str(exc)) from None
    results = [r for r in results if r.file in selected]
    skipped = other_test_rules({name: modules[name] for name in selected})
    if not results:
        raise Failure("no test cases found (a `cases` object in a *_test.rego package)")
    click.echo(render(results, skipped, verbose), nl=False)
    raise SystemExit(0 if all(r.passed for r in results) else 1)


def other_test_rules(modules: dict[str, str]) -> list[str]:
    """`data.<package>.<test rule>` of the test rules not expressed as cases."""
    out = []
    for name, source in sorted(modules.items()):
        if not name.endswith("_test.rego"):
            continue
        package = package_of(source)
        for line in source.splitlines():
            match = TEST_RULE_START.match(line)
            if match and match.group(0) != "test_cases":
                out.append(f"data.{package}.{match.group(0)}")
    return out


def render(results, skipped: list[str], verbose: bool) -> str:
    lines: list[str] = []
    by_file: dict[str, list] = {}
    for result in results:
        if verbose or not result.passed:
            by_file.setdefault(result.file, []).append(result)
    for file, items in sorted(by_file.items()):
        lines.append(f"{file}:")
        for r in items:
            status = "PASS" if r.passed else "FAIL"
            lines.append(f'data.{r.package}.cases["{r.name}"]: {status} ({_duration(r.seconds)})')
            if not r.passed:
                lines.extend(f"  {part}" for part in r.message.split("; "))
        lines.append("")
    if verbose:
        lines.extend(f"{rule}: SKIPPED (a test_* rule without cases: run it with opa test)"
                     for rule in skipped)
    passed = sum(r.passed for r in results)
    failed = len(results) - passed
    lines.append(RULER)
    lines.append(f"PASS: {passed}/{len(results)}")
    if failed:
        lines.append(f"FAIL: {failed}/{len(results)}")
    if skipped:
        lines.append(f"SKIPPED: {len(skipped)} test_* rules without cases")
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.1f}ms" if seconds < 1 else f"{seconds:.2f}s"
