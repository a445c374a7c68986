"""The template as `fix` reads it: loaded once and normalized with its `Fn::If` alternatives
merged. Fix writes one KeyPolicy for every deployable variant and refuses a KeyPolicy that
differs between them (plan.py), so one merged reading is the one it needs."""

from __future__ import annotations

from dataclasses import dataclass

from ..access.errors import AccessError
from ..access.locator import locate
from ..access.principal_arg import principal_parser, resolve_principal
from ..access.report import read_template
from ..findings import FileError
from ..load import LoadedTemplate
from ..normalize import normalize_variant
from ..rules import builtin_policy_dir, read_policy_dir


@dataclass
class Analyzed:
    template: LoadedTemplate
    input: dict
    errors: list[FileError]
    normalizer: object  # bridge.normalize._Normalizer: resolves principals the operator types
    config: dict

    def resolve(self, text: str, key: dict) -> str:
        """The subject id `--admin/--user text` designates (as `explain --principal`)."""
        return resolve_principal(text, key, self.input, principal_parser(self.normalizer), self.config)


def analyze(path: str, parameters: dict[str, str], config: dict) -> Analyzed:
    template = read_template(path, path)
    normalized, normalizer = normalize_variant(template.document, path, parameters, config, None, keep_conditions=True)
    errors = []
    for pointer, message in normalized.problems:
        span = locate(template, pointer)
        errors.append(FileError(path, message, span.line, span.column))
    if not errors and not normalized.input["keys"]:
        raise AccessError(f"{path}: no AWS::KMS::Key or AWS::KMS::ReplicaKey in this template")
    return Analyzed(template, normalized.input, errors, normalizer, config)


def library_modules() -> dict[str, str]:
    """The Rego library (policies/kmspolicy/lib, tests left out): the intent the rules infer."""
    root = builtin_policy_dir() / "kmspolicy"
    return {f"kmspolicy/{name}": source for name, source in read_policy_dir(root).items()
            if name.startswith("lib/") and not name.endswith("_test.rego")}
