"""Organization guardrails from `--config FILE` (YAML or JSON), validated against
`bridge/schema/config-v1.json`; they become `data.kmspolicy.config` for the rules.
Severities are accepted in any case (`High`); `exclude` is read by the CLI (cli/discover.py).
Rule ids are checked against the catalog once the policies are loaded (cli/selection.py)."""

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
    data = _lower_severities(data)
    problem = schema.config_problem(data)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    return data


def _lower_severities(data):
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, dict):
        return data
    lowered = {rule_id: {**setting, "severity": setting["severity"].lower()}
               if isinstance(setting, dict) and isinstance(setting.get("severity"), str) else setting
               for rule_id, setting in rules.items()}
    return {**data, "rules": lowered}
