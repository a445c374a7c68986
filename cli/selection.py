"""What `eval` looks at and which rules run: `--exclude`, `--allow-empty`, `--check`,
`--skip-check`, and the config file found without `--config` (`.kmspolicy.yaml` or
`.kmspolicy.yml` in `--root`, else the working directory).

Rule ids, wherever they are written (the config's `rules`, `--check`, `--skip-check`), must
name a rule that exists: an unknown one is an error with a "did you mean".
"""

from __future__ import annotations

from pathlib import Path

import click

from kmspolicy.bridge.rules import unknown_rule

from .config import ConfigError

CONFIG_NAMES = (".kmspolicy.yaml", ".kmspolicy.yml")

OPTIONS = (
    click.option("--exclude", "exclude", multiple=True, metavar="GLOB",
                 help="Leave out files and folders matching GLOB (repeatable; also `exclude:` "
                      "in the config), e.g. 'tests/fixtures/*' or '*.generated.yaml'."),
    click.option("--allow-empty", is_flag=True,
                 help="A folder with no template is not an error (exit 0)."),
    click.option("--check", "checks", multiple=True, metavar="ID,...",
                 help="Run only these rules (comma-separated, repeatable)."),
    click.option("--skip-check", "skip_checks", multiple=True, metavar="ID,...",
                 help="Do not run these rules (comma-separated, repeatable)."),
)


def selection_options(command):
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def selection_settings(kwargs: dict) -> dict:
    """Pop the selection options out of a command's keyword arguments."""
    return {name: kwargs.pop(name) for name in ("exclude", "allow_empty", "checks", "skip_checks")}


def find_config(root: str | None) -> str | None:
    """The config file used when `--config` is not given, if there is one."""
    for folder in dict.fromkeys(filter(None, (root, "."))):
        for name in CONFIG_NAMES:
            path = Path(folder) / name
            if path.is_file():
                return str(path)
    return None


def split_ids(values: tuple[str, ...]) -> list[str]:
    return [part.strip().upper() for value in values for part in value.split(",") if part.strip()]


def select_rules(config: dict, known: set[str], checks: tuple[str, ...],
                 skip_checks: tuple[str, ...], config_path: str | None = None) -> dict:
    """The config with `--check`/`--skip-check` applied to its `rules`; every id checked."""
    where = f"{config_path}: rules" if config_path else "rules"
    for rule_id in config.get("rules") or {}:
        if rule_id not in known:
            raise ConfigError(f"{where}: {unknown_rule(rule_id, known)}")
    only, skip = split_ids(checks), split_ids(skip_checks)
    for option, ids in (("--check", only), ("--skip-check", skip)):
        for rule_id in ids:
            if rule_id not in known:
                raise click.BadParameter(unknown_rule(rule_id, known), param_hint=option)
    if not only and not skip:
        return config
    rules = {rule_id: dict(setting) for rule_id, setting in (config.get("rules") or {}).items()}
    for rule_id in known:
        if (only and rule_id not in only) or rule_id in skip:
            rules.setdefault(rule_id, {})["enabled"] = False
    return {**config, "rules": rules}
