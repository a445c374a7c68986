"""Reading a cloud assembly's `manifest.json`: its stacks, their templates and constructs.

`is_assembly_dir(folder)` tells whether a folder holds a cloud assembly (a `manifest.json`
that is an object with `artifacts`, as `cdk synth` writes it: its first lines say so, so
a web app's `manifest.json` is not taken for one). `read_manifest(folder)` reads it: each
stack (artifact type `aws:cloudformation:stack`) with its template file and its
constructs by logical ID (the `aws:cdk:logicalId` metadata entries, from the artifact's
`metadata` and its `additionalMetadataFile`), each with its creation trace when one was
recorded (newer CDK versions write it as the construct's `aws:cdk:creationStack` entry,
older ones as the `trace` of every entry), the account the stack deploys to when its
`environment` names one, and its nested stacks' templates (`*.nested.template.json`, files
of the asset manifest it depends on; their constructs are in the parent's metadata); the
folders of nested assemblies (`cdk:cloud-assembly`, one per stage); and what
is wrong with it (a template or metadata file that is missing or outside the assembly).
A manifest that cannot be read or parsed is an `AssemblyError` naming the file and line.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..reading import ReadError, read_file

MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
ASSET_MANIFEST = "cdk:asset-manifest"
NESTED_TEMPLATE_SUFFIX = ".nested.template.json"
LOGICAL_ID = "aws:cdk:logicalId"
CREATION_STACK = "aws:cdk:creationStack"
_ENVIRONMENT = re.compile(r"^aws://(?P<account>\d{12})/")
# Manifests written with --debug carry a stack trace per construct: far larger than templates.
MAX_MANIFEST_BYTES = 64_000_000
_SNIFF_BYTES = 4096


class AssemblyError(ValueError):
    def __init__(self, message: str, file: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return f"{self.file}{f':{self.line}' if self.line else ''}: {self.message}"


@dataclass(frozen=True)
class Construct:
    path: str  # the construct path without its leading slash: Stack/DataKey/Resource
    trace: tuple[str, ...] = ()  # the creation trace, innermost frame first; () when not recorded

    @property
    def name(self) -> str:
        """The path as cdk-nag and the CDK docs show it: without CDK's trailing `/Resource`
        (the L1 resource an L2 construct wraps)."""
        return self.path.removesuffix("/Resource") or self.path


@dataclass
class StackArtifact:
    name: str  # displayName (Stage/Stack) or the artifact id
    template: str  # absolute path of the template file
    account: str | None = None  # the 12-digit account of its `environment`; None when agnostic
    constructs: dict[str, Construct] = field(default_factory=dict)  # by logical ID
    by_path: dict[str, Construct] = field(default_factory=dict)  # the same, by construct path
    nested_templates: list[str] = field(default_factory=list)  # absolute paths
    parent: str | None = None  # for a nested stack's template: the name of the stack deploying it


@dataclass
class ManifestInfo:
    folder: str  # absolute
    stacks: list[StackArtifact] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)  # absolute folders of nested assemblies
    problems: list[str] = field(default_factory=list)  # "what is wrong", one line each

    @property
    def manifest(self) -> str:
        return os.path.join(self.folder, MANIFEST)


def is_assembly_dir(folder: str) -> bool:
    path = os.path.join(folder, MANIFEST)
    if not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return head.lstrip().startswith("{") and '"artifacts"' in head


def read_manifest(folder: str) -> ManifestInfo:
    """The assembly in `folder` (call `is_assembly_dir` first); AssemblyError if its
    manifest cannot be read. Remembered while the manifest file does not change."""
    folder = os.path.abspath(folder)
    try:
        info = os.stat(os.path.join(folder, MANIFEST))
    except OSError as err:
        raise AssemblyError(f"cannot read the cloud assembly manifest: {err.strerror}",
                            os.path.join(folder, MANIFEST)) from None
    return _read_manifest(folder, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=8)
def _read_manifest(folder: str, _mtime: int, _size: int) -> ManifestInfo:
    out = ManifestInfo(folder)
    manifest = _load_json(out.manifest, "cloud assembly manifest")
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise AssemblyError("not a cloud assembly manifest: no `artifacts` object", out.manifest)
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, dict):
            continue
        kind, properties = artifact.get("type"), artifact.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        if kind == STACK_ARTIFACT:
            stack = _stack(out, artifact_id, artifact, properties)
            if stack is not None:
                stack.nested_templates = _nested_templates(out, artifact, artifacts)
                out.stacks.append(stack)
        elif kind == NESTED_ASSEMBLY:
            nested = _inside(out, properties.get("directoryName"), f"nested assembly {artifact_id}")
            if nested is not None:
                if is_assembly_dir(nested):
                    out.nested.append(nested)
                else:
                    out.problems.append(f"nested assembly {artifact_id}: {properties['directoryName']}"
                                        f" has no {MANIFEST}")
    return out


def _stack(out: ManifestInfo, artifact_id: str, artifact: dict, properties: dict) -> StackArtifact | None:
    name = artifact.get("displayName") if isinstance(artifact.get("displayName"), str) else artifact_id
    template = _inside(out, properties.get("templateFile"), f"stack {name}")
    if template is None:
        return None
    if not os.path.isfile(template):
        out.problems.append(f"stack {name}: its template {properties['templateFile']} is missing")
        return None
    environment = artifact.get("environment")
    match = _ENVIRONMENT.match(environment) if isinstance(environment, str) else None
    stack = StackArtifact(name, template, match["account"] if match else None)
    _add_constructs(stack, artifact.get("metadata"))
    extra = artifact.get("additionalMetadataFile")
    if extra is not None:
        path = _inside(out, extra, f"stack {name} metadata")
        if path is not None and not os.path.isfile(path):
            out.problems.append(f"stack {name}: its metadata file {extra} is missing")
        elif path is not None:
            try:
                _add_constructs(stack, _load_json(path, "construct metadata file"))
            except AssemblyError as err:
                out.problems.append(f"stack {name}: {err}")
    return stack


def _nested_templates(out: ManifestInfo, artifact: dict, artifacts: dict) -> list[str]:
    """The nested stack templates among the files of the asset manifests the stack depends
    on. An asset manifest that cannot be read names none: its nested templates are then
    analyzed as templates no stack lists (their findings say so)."""
    found: list[str] = []
    dependencies = artifact.get("dependencies")
    for dependency in dependencies if isinstance(dependencies, list) else []:
        assets = artifacts.get(dependency) if isinstance(dependency, str) else None
        if not isinstance(assets, dict) or assets.get("type") != ASSET_MANIFEST:
            continue
        properties = assets.get("properties")
        file = properties.get("file") if isinstance(properties, dict) else None
        path = _inside(out, file, f"asset manifest {dependency}")
        try:
            manifest = _load_json(path, "asset manifest") if path and os.path.isfile(path) else None
        except AssemblyError:
            manifest = None
        files = manifest.get("files") if isinstance(manifest, dict) else None
        for asset in files.values() if isinstance(files, dict) else []:
            source = asset.get("source") if isinstance(asset, dict) else None
            relative = source.get("path") if isinstance(source, dict) else None
            if isinstance(relative, str) and relative.endswith(NESTED_TEMPLATE_SUFFIX):
                nested = os.path.normpath(os.path.join(out.folder, relative))
                if os.path.commonpath([nested, out.folder]) == out.folder:
                    found.append(nested)
    return found


def _add_constructs(stack: StackArtifact, metadata: Any) -> None:
    if not isinstance(metadata, dict):
        return
    for path, entries in metadata.items():
        if not isinstance(path, str) or not isinstance(entries, list):
            continue
        entries = [entry for entry in entries if isinstance(entry, dict)]
        created = next((_frames(e.get("data")) for e in entries if e.get("type") == CREATION_STACK), ())
        for entry in entries:
            if entry.get("type") == LOGICAL_ID and isinstance(entry.get("data"), str):
                construct = Construct(path.lstrip("/"), _frames(entry.get("trace")) or created)
                stack.constructs[entry["data"]] = stack.by_path[construct.path] = construct


def _frames(trace: Any) -> tuple[str, ...]:
    return tuple(f for f in trace if isinstance(f, str)) if isinstance(trace, list) else ()


def _inside(out: ManifestInfo, relative: Any, what: str) -> str | None:
    """`relative` (a path the manifest gives) as an absolute path inside the assembly."""
    if not isinstance(relative, str) or not relative:
        out.problems.append(f"{what}: no file name")
        return None
    path = os.path.normpath(os.path.join(out.folder, relative))
    if os.path.commonpath([path, out.folder]) != out.folder:
        out.problems.append(f"{what}: {relative} is outside the cloud assembly")
        return None
    return path


def _load_json(path: str, what: str) -> Any:
    """Python's own JSON reader: manifests with traces run to megabytes, and nothing here
    needs the source map of the template loader; a problem names its line."""
    try:
        text = read_file(path, MAX_MANIFEST_BYTES, what).decode("utf-8-sig")
        return json.loads(text)
    except ReadError as err:
        raise AssemblyError(err.message, path) from None
    except UnicodeDecodeError:
        raise AssemblyError("not UTF-8 text", path) from None
    except json.JSONDecodeError as err:
        raise AssemblyError(f"not valid JSON: {err.msg}", path, err.lineno) from None
    except RecursionError:
        raise AssemblyError("nested too deeply", path) from None


def stack_for_template(template: str) -> tuple[StackArtifact, str] | None:
    """The stack whose template is the file `template`, and the application's folder (the
    one holding the outermost assembly, as `cdk.json` does); None when the file is not a
    stack template of a readable assembly (its manifest's problems are discovery's to say)."""
    path = os.path.abspath(template)
    folder = os.path.dirname(path)
    if not is_assembly_dir(folder):
        return None
    try:
        info = read_manifest(folder)
    except AssemblyError:
        return None
    real = os.path.realpath(path)
    for stack in info.stacks:
        if os.path.realpath(stack.template) == real:
            return stack, application_dir(folder)
    for stack in info.stacks:
        if any(os.path.realpath(nested) == real for nested in stack.nested_templates):
            return dataclasses.replace(stack, template=path, nested_templates=[], parent=stack.name), \
                application_dir(folder)
    return None


def deployment_account(template: str) -> str | None:
    """The account a stack template is deployed to, when its cloud assembly's manifest
    names one (`env: {account: ...}` in the app): CDK deploys the stack there only."""
    located = stack_for_template(template)
    return located[0].account if located is not None else None


def with_account(config: dict | None, account: str | None) -> dict:
    """`config` with `account` (a deployment account) among the accounts that are its own."""
    config = config or {}
    if account is None:
        return config
    return {**config, "accounts": [*(config.get("accounts") or []), account]}


def application_dir(folder: str) -> str:
    top = os.path.abspath(folder)
    while is_assembly_dir(os.path.dirname(top)) and os.path.dirname(top) != top:
        top = os.path.dirname(top)
    return os.path.dirname(top)
