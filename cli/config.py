"""Organization guardrails from `--config FILE` (YAML or JSON), validated against
`bridge/schema/config-v1.json`; they become `data.kmspolicy.config` for the rules."""

from __future__ import annotations

from kmspolicy.bridge import schema
from kmspolicy.bridge.load import TemplateError, load_data


class ConfigError(ValueError):
    pass


def load_config(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        data = load_data(path)
    except TemplateError as exc:
        raise ConfigError(f"{exc} (the config)") from None
    if data is None or data == {}:
        return {}
    problem = schema.config_problem(data)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    return data
