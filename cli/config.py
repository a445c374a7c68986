"""Organization guardrails from `--config FILE` (YAML or JSON), validated against
`bridge/schema/config-v1.json`; they become `data.kmspolicy.config` for the rules."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kmspolicy.bridge import schema


class ConfigError(ValueError):
    pass


def load_config(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        line = getattr(exc, "lineno", None) or getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        kind = "JSON" if path.endswith(".json") else "YAML"
        raise ConfigError(f"{path}:{line}: the config is not valid {kind}") from None
    if data is None:
        return {}
    import jsonschema  # only with --config: it is slow to import

    try:
        schema.validate(data, "config-v1")
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ConfigError(f"{path}: {where}: {exc.message}") from None
    return data
