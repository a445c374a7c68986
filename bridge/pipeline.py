"""load → normalize → evaluate → locate, for one template at a time.

`Analyzer` compiles the policies once; `analyze(path)` returns a `FileReport` whose
findings carry file, line and column. Anything that stops a file (or part of it) from
being analyzed is a `FileError`, so the file can never be reported as clean.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cdk.assembly import deployment_account
from .engine_input import for_builtin_rules
from .engines import EngineError
from .findings import SEVERITIES, SEVERITY_RANK, FileError, Finding, Related
from .load import LoadedTemplate, TemplateError, load_template
from .normalize import normalize
from .rules import (
    Rule,
    RuleMetadataError,
    builtin_modules,
    catalog_from_modules,
    unknown_rule,
)
from .scenarios import Scenario, describe, plan
from .suppressions import identity_suppressions
from .template_checks import HidingScans, cannot_define_key, hidden_problems, resource_count_problem
from .variant_reads import VariantReads


@dataclass
class FileReport:
    file: str
    status: str  # analyzed | error | skipped
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    keys: int = 0
    input: dict | None = None
    notes: list[str] = field(default_factory=list)  # e.g. scenarios merged beyond the cap
    cdk_paths: dict[str, str] = field(default_factory=dict)  # logical ID: Metadata."aws:cdk:path"


class PolicySet:
    """The Rego modules and data the engine runs, with the rule catalog read from them."""

    def __init__(self, modules: dict[str, str], config: dict | None = None,
                 extra_data: dict | None = None):
        self.modules = modules
        self.config = config or {}
        self.extra_data = extra_data or {}  # bundle data besides the config (other roots)
        self.replaced: list[tuple[str, str]] = []  # (bundle, built-in module it replaces)
        self.escape_sensitive: list = []  # pack calls the embedded engine gets wrong on escapes
        self.packs: set[str] = set()  # the modules of rule packs (not built in)
        self.rules: dict[str, Rule] = catalog_from_modules(modules)
        # the built-in rules alone read action sets as masks only (engine_input.py)
        self.builtin_only = modules == builtin_modules()

    @classmethod
    def builtin(cls, config: dict | None = None, extra: dict[str, str] | None = None) -> PolicySet:
        return cls({**builtin_modules(), **(extra or {})}, config)

    def embedded_program(self) -> tuple[dict[str, str], dict]:
        """The modules and data as the embedded engine runs them: packs' builtin calls
        made exact (embedded_compat.py), the rule packages named in the entrypoint
        (explicit_entrypoint.py), the catalog's table as data (embedded_tables.py)."""
        from .embedded_tables import with_tables
        from .explicit_entrypoint import with_explicit_entrypoint

        modules = self.modules
        if self.packs:
            from .embedded_compat import for_embedded

            modules = for_embedded(self.modules, self.packs)
        data = self.data()
        return with_tables(with_explicit_entrypoint(modules, data), data)

    def data(self) -> dict:
        return {**self.extra_data, "kmspolicy": {**self.extra_data.get("kmspolicy", {}),
                                                 "config": self.config}}


ENGINES = ("embedded", "opa", "opa-server", "opa-cli")
# Engines that evaluate in the analyzing process itself: the CLI runs them in worker
# processes, where a native crash or a hang costs one file (cli/parallel.py).
IN_PROCESS_ENGINES = ("embedded", "opa")


def check_engine(name: str) -> None:
    """In the parent process, before any worker: fail early for an engine that cannot be
    built anywhere, and warn once about an untrusted compiled-bundle cache (forked workers
    inherit that it was said)."""
    if name == "embedded":
        from .engines import bundle_cache

        bundle_cache.check_folder()
    if name == "opa":
        from .engines.opa_golib import require_bindings

        require_bindings()


def make_engine(policies: PolicySet, name: str = "embedded", **options):
    """The engine `name` loaded with the policies. embedded and opa (OPA's evaluator
    in-process) take no options; opa-server takes `url`, `push`, `token`, `ca_cert`,
    `timeout`, `max_response_bytes`; opa-cli takes `opa_path`, `timeout`. Engine modules
    are imported here, so the embedded default never loads an OPA client."""
    if name == "embedded":
        from .engines.embedded import EmbeddedEngine

        return EmbeddedEngine(*policies.embedded_program(),
                              escape_sensitive=policies.escape_sensitive,
                              input_as_value=policies.builtin_only)
    if name == "opa":
        from .engines.opa_golib import OpaGolibEngine

        return OpaGolibEngine(policies.modules, policies.data())
    if name == "opa-server":
        from .engines.opa_server import OpaServerEngine

        if not options.get("url"):
            raise EngineError("the opa-server engine needs --opa-url")
        from .canary import canary_input

        return OpaServerEngine(options["url"], modules=policies.modules, data=policies.data(),
                               canary=canary_input(policies.config),
                               push=bool(options.get("push")), token=options.get("token"),
                               ca_cert=options.get("ca_cert"),
                               timeout=options.get("timeout") or 10.0,
                               **({"max_response_bytes": options["max_response_bytes"]}
                                  if options.get("max_response_bytes") else {}))
    if name == "opa-cli":
        from .engines.opa_cli import OpaCliEngine

        return OpaCliEngine(policies.modules, policies.data(), opa_path=options.get("opa_path"),
                            timeout=options.get("timeout") or 30.0)
    raise EngineError(f"unknown engine '{name}' (choose from: {', '.join(ENGINES)})")


class Analyzer:
    def __init__(self, policies: PolicySet, engine=None, parameters: dict[str, str] | None = None,
                 max_bytes: int | None = None, debug: bool = False):
        self.policies = policies
        self.engine = engine if engine is not None else make_engine(policies)
        self.parameters = parameters or {}
        self.max_bytes = max_bytes
        self.debug = debug  # let unexpected exceptions through (tracebacks) instead of errors

    def load(self, path: str) -> LoadedTemplate:
        kwargs = {"max_bytes": self.max_bytes} if self.max_bytes else {}
        return load_template(path, **kwargs)

    def analyze(self, path: str, display: str | None = None) -> FileReport:
        display = display or path
        try:
            template = self.load(path)
            return self.analyze_loaded(template, display, deployment_account(path))
        except TemplateError as exc:
            return FileReport(display, "error", errors=[
                FileError(display, exc.message, exc.line, exc.column)])
        except Exception as exc:  # a bug must cost this file, never the run or a clean report
            if self.debug:
                raise
            return FileReport(display, "error", errors=[FileError(
                display, f"internal error: {_exception_line(exc)} (run with --debug for a "
                         "traceback)", kind="internal")])

    def analyze_loaded(self, template: LoadedTemplate, display: str, account: str | None = None) -> FileReport:
        """`account`: the one the template is known to be deployed to (a CDK stack's
        environment), which is then its own like `AWS::AccountId`."""
        document = template.document
        report = FileReport(display, "analyzed")
        if not _is_template(document):
            return FileReport(display, "skipped")
        if not isinstance(document.get("Resources"), dict):
            span, _ = template.source_map.locate("/Resources")
            report.status = "error"
            report.errors.append(FileError(display, "Resources must be a mapping of logical IDs to resources",
                                           span.line, span.column))
            return report
        too_many = resource_count_problem(document["Resources"])
        if too_many:
            span, _ = template.source_map.locate("/Resources")
            report.status = "error"
            report.errors.append(FileError(display, too_many, span.line, span.column))
            return report
        scans = HidingScans(nothing_hides=not template.may_hide)
        if cannot_define_key(document["Resources"]):
            return self._without_keys(template, display, scans)
        scenarios = plan(document, self.parameters)
        for pointer, message in scenarios.problems:
            span, _ = template.source_map.locate(pointer)
            report.errors.append(FileError(display, _printable(message), span.line, span.column))
        if scenarios.note:
            report.notes.append(scenarios.note)
        runs = self._variants(template, display, scenarios.scenarios, account, scans)
        report.input = runs[0].input
        for run in runs[1:]:
            for kid, key in run.input["keys"].items():
                report.input["keys"].setdefault(kid, key)
        report.keys = len(report.input["keys"])
        report.cdk_paths = _cdk_paths(document["Resources"])
        findings, errors = _merge(runs, scenarios.scenarios)
        report.findings.extend(findings)
        report.errors.extend(errors)
        report.findings.sort(key=Finding.sort_key)
        if report.errors:
            report.status = "error"
        return report

    def _without_keys(self, template: LoadedTemplate, display: str, scans: HidingScans) -> FileReport:
        """A template that defines no key has nothing to normalize or evaluate; only the
        parts it hides (macros, includes, loops it does not determine) may hold one."""
        report = FileReport(display, "analyzed", cdk_paths=_cdk_paths(template.document["Resources"]))
        for pointer, message in hidden_problems(template.document, scans):
            span, _ = template.source_map.locate(pointer)
            report.errors.append(FileError(display, _printable(message), span.line, span.column))
        if report.errors:
            report.status = "error"
        return report

    def _variants(self, template: LoadedTemplate, display: str, scenarios: list[Scenario],
                  account: str | None, scans: HidingScans) -> list[_Variant]:
        """Each scenario's analysis (the merged template's when there are none); scenarios
        alike in all the analysis reads share one (bridge/variant_reads.py)."""
        if len(scenarios) < 2:
            return [self._variant(template, display, scenarios[0] if scenarios else None, account, scans=scans)]
        reads = VariantReads(template.document, scans.may_hide)
        evaluated: dict[str, list] = {}
        done: dict[tuple, _Variant] = {}
        runs = []
        for scenario in scenarios:
            key = reads.key(scenario)
            run = done.get(key) if key is not None else None
            if run is None:
                run = self._variant(template, display, scenario, account, evaluated, scans)
                if key is not None:
                    done[key] = run
            runs.append(run)
        return runs

    def _variant(self, template: LoadedTemplate, display: str, scenario: Scenario | None,
                 account: str | None = None, evaluated: dict[str, list] | None = None,
                 scans: HidingScans | None = None) -> _Variant:
        """Normalize and evaluate one deployable variant (None: the merged template).
        `evaluated`: the engine's decisions on the inputs of the template's other variants,
        by their JSON (Conditions that touch no key or identity give several the same input,
        and the engine's answer depends on the input alone)."""
        normalized = normalize(template.document, display, self.parameters, self.policies.config,
                               scenario=scenario, account=account, scans=scans)
        variant = _Variant(normalized.input)
        unknown = self._unknown_suppressions(normalized.input, template.document)
        for pointer, message in [*normalized.problems, *unknown]:
            span, _ = template.source_map.locate(pointer)
            variant.errors.append(FileError(display, _printable(message), span.line, span.column))
        if not normalized.input["keys"]:
            return variant
        try:
            decisions = self._decisions(normalized.input, evaluated)
            if not isinstance(decisions, list):
                raise EngineError(f"the engine returned {type(decisions).__name__}, "
                                  "not a list of findings")
        except Exception as exc:  # any engine failure is an error for this file, never clean
            if self.debug and not isinstance(exc, EngineError):
                raise
            detail = str(exc) if isinstance(exc, EngineError) else _exception_line(exc)
            variant.errors.append(FileError(display, f"engine error: {detail}", kind="engine"))
            return variant
        for decision in decisions:
            finding = self._locate(decision, template, normalized.input, display, variant)
            if finding is not None:
                variant.findings.append(finding)
        return variant

    def _decisions(self, input_doc: dict, evaluated: dict[str, list] | None) -> Any:
        if self.policies.builtin_only:
            input_doc = for_builtin_rules(input_doc)
        if evaluated is None:
            return self.engine.findings(input_doc)
        text = json.dumps(input_doc, sort_keys=True)
        if text not in evaluated:
            evaluated[text] = self.engine.findings(input_doc)
        return evaluated[text]

    def _unknown_suppressions(self, input_doc: dict, document: Any) -> list[tuple[str, str]]:
        """Suppressions naming a rule that does not exist: a typo must not pass as a suppression;
        on an identity (keys' are checked by their schema), also one without a reason."""
        identity_items = [item for identity in input_doc.get("identities", {}).values()
                          for item in identity_suppressions(document, identity)]
        items = [item for key in input_doc["keys"].values() for item in key.get("suppress", [])]
        return [*[(f"{item['path']}/rule", f"suppress: {unknown_rule(item['rule'], self.policies.rules)}")
                  for item in [*items, *identity_items]
                  if item.get("source") == "kmspolicy" and item["rule"] not in self.policies.rules],
                *[(item["path"], "suppress: a suppression needs a reason") for item in identity_items
                  if not item["reason"]]]

    def _locate(self, decision: Any, template: LoadedTemplate, input_doc: dict, display: str,
                report: _Variant) -> Finding | None:
        try:
            rule_id = decision["rule"]
            pointer = decision["path"]
            message = decision["message"]
            resource = decision.get("resource", "")
            if not all(isinstance(v, str) for v in (rule_id, pointer, message, resource)):
                raise TypeError("rule, path, message and resource must be strings")
        except (TypeError, KeyError, AttributeError):
            report.errors.append(FileError(display, f"a rule returned a malformed finding: {decision!r:.200}",
                                           kind="engine"))
            return None
        rule = self.policies.rules.get(rule_id)
        if rule is None:
            report.errors.append(FileError(display, f"finding of unknown rule {rule_id!r} (no METADATA)",
                                           kind="engine"))
            return None
        rule_config = (self.policies.config.get("rules") or {}).get(rule_id) or {}
        if rule_config.get("enabled") is False:
            return None
        try:
            span = _finding_span(template, pointer)
        except (ValueError, LookupError):
            report.errors.append(FileError(display, f"{rule_id}: finding at unknown location {pointer!r}",
                                           kind="engine"))
            return None
        related = []
        for item in decision.get("related") or []:
            try:
                rspan = _finding_span(template, item["path"])
            except (ValueError, LookupError, KeyError, TypeError):
                continue
            related.append(Related(display, rspan.line, rspan.column, item["path"], item.get("message", "")))
        alias = template.source_map.alias_above(pointer)
        if alias is not None:  # the lines shown are the anchor's: say where this resource repeats them
            aspan = template.source_map.span(alias[0])
            related.append(Related(display, aspan.line, aspan.column, alias[0],
                                   f"{resource} has these lines through the alias *{alias[1]}"))
        finding = Finding(
            rule=rule_id, severity=rule_config.get("severity", _decision_severity(decision, rule)),
            title=rule.title,
            message=message, file=display, line=span.line, column=span.column,
            end_line=span.end_line, end_column=span.end_column, resource=resource, path=pointer,
            related=related,
        )
        finding.fingerprint = fingerprint(finding, template)
        reason = _suppression(input_doc, template.document, resource, rule_id, [r.path for r in related])
        if reason is not None:
            finding.suppressed = True
            finding.suppression_reason = reason
        return finding


@dataclass
class _Variant:
    input: dict
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)


def _merge(runs: list[_Variant], scenarios: list[Scenario]) -> tuple[list[Finding], list[FileError]]:
    """One finding (or error) per distinct result; one that holds in only some scenarios
    names them in its message."""
    if len(runs) == 1:
        return runs[0].findings, runs[0].errors
    found: dict[tuple, tuple[Finding, set[int]]] = {}
    failed: dict[tuple, tuple[FileError, set[int]]] = {}
    for i, run in enumerate(runs):
        for f in run.findings:
            found.setdefault((f.rule, f.resource, f.path, f.message), (f, set()))[1].add(i)
        for e in run.errors:
            failed.setdefault((e.message, e.line, e.column, e.kind), (e, set()))[1].add(i)
    every = set(range(len(runs)))
    findings = []
    for variants in _by_location(found.values()):
        findings.append(_one_finding(variants, every, scenarios))
    errors = []
    for error, present in failed.values():
        if present != every:
            error.message = _printable(f"{error.message} ({describe(present, scenarios)})")
        errors.append(error)
    return findings, errors


def _by_location(found) -> list[list[tuple[Finding, set[int]]]]:
    """The findings of a rule at one place, whatever their wording in each scenario."""
    groups: dict[tuple, list[tuple[Finding, set[int]]]] = {}
    for finding, present in found:
        groups.setdefault((finding.rule, finding.resource, finding.path), []).append((finding, present))
    return list(groups.values())


def _one_finding(variants: list[tuple[Finding, set[int]]], every: set[int],
                 scenarios: list[Scenario]) -> Finding:
    """One decision, one finding: where the scenarios word it differently (what a
    delegation reaches depends on the variant), the wording of most scenarios leads and
    the others follow with the scenarios they hold in; the highest severity stands."""
    variants = sorted(variants, key=lambda v: (-len(v[1]), min(v[1])))
    finding, present = variants[0]
    if present != every:
        finding.message = f"{finding.message} ({describe(present, scenarios)})"
    for other, where in variants[1:]:
        finding.message += f" {describe(where, scenarios).replace('only when', 'When', 1)}: {other.message}"
        if SEVERITY_RANK[other.severity] > SEVERITY_RANK[finding.severity]:
            finding.severity = other.severity
    return finding


def _cdk_paths(resources: dict) -> dict[str, str]:
    paths = {}
    for rid, resource in resources.items():
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
        if isinstance(path, str) and path:
            paths[rid] = path
    return paths


def _decision_severity(decision: dict, rule: Rule) -> str:
    """A rule may raise or lower one finding's severity (e.g. destructive actions)."""
    severity = decision.get("severity")
    return severity if severity in SEVERITIES else rule.severity


def _finding_span(template: LoadedTemplate, pointer: str):
    """Where a finding points: its node, or for a multi-line mapping value its key line."""
    span, found = template.source_map.locate(pointer)
    if span.end_line > span.line:
        key = template.source_map.key_span(found)
        if key is not None:
            return key
    return span


def fingerprint(finding: Finding, template: LoadedTemplate) -> str:
    """Stable across unrelated edits: rule, file, resource, pointer and the flagged text."""
    line = template.lines[finding.line - 1].strip() if 0 < finding.line <= len(template.lines) else ""
    raw = "\x1f".join((finding.rule, _posix(finding.file), finding.resource, finding.path, line))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@functools.lru_cache(maxsize=256)
def _posix(file: str) -> str:
    """A file's findings share their path (the cache holds a few files' only)."""
    return Path(file).as_posix()


def _suppression(input_doc: dict, document: Any, resource: str, rule_id: str,
                 related_paths: list[str]) -> str | None:
    """The reason a finding is accepted: by its key's Metadata.kmspolicy.suppress; a finding
    on an identity (KP013) by the identity's own, or by that of every key it names as a
    related location (`/Resources/<key>`)."""
    key = input_doc["keys"].get(resource)
    if key:
        return _reason(key.get("suppress", []), rule_id)
    identity = input_doc.get("identities", {}).get(resource)
    if not identity:
        return None
    own = _reason(identity_suppressions(document, identity), rule_id)
    if own is not None:
        return own
    named = [input_doc["keys"][p.removeprefix("/Resources/")] for p in related_paths
             if p.removeprefix("/Resources/") in input_doc["keys"]]
    reasons = [_reason(k.get("suppress", []), rule_id) for k in named]
    return reasons[0] if reasons and None not in reasons else None


def _reason(items: list[dict], rule_id: str) -> str | None:
    return next((item["reason"] for item in items if item["rule"] == rule_id and item["reason"]), None)


def _printable(message: str, limit: int = 300) -> str:
    """One line, of bounded length: messages quote template text, which can be anything."""
    line = message.replace("\r", "\\r").replace("\n", "\\n")
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _exception_line(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def _is_template(document: Any) -> bool:
    return isinstance(document, dict) and "Resources" in document


__all__ = ["ENGINES", "IN_PROCESS_ENGINES", "Analyzer", "FileReport", "PolicySet", "RuleMetadataError",
           "check_engine", "make_engine"]
