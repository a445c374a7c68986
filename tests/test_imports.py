"""Start-up stays small: `kmspolicy eval` imports only what it uses (issue 8).

Each check runs the command in a fresh interpreter and lists `sys.modules` afterwards, so
a module imported at the top of a file eval loads — directly or through a registry — fails
here. (`python -X importtime` misses modules imported through importlib.import_module.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kmspolicy.cli.main import COMMANDS
from kmspolicy.cli.reporters import _MODULES

from .conftest import EXAMPLES, ROOT

SEED = EXAMPLES / "seed" / "template.yaml"  # a SAM template (Transform: AWS::Serverless-2016-10-31)
COMMAND_MODULES = {f"kmspolicy.cli.{target.partition(':')[0]}" for target in COMMANDS.values()}
NEVER_FOR_EVAL = COMMAND_MODULES | {
    "kmspolicy.cli.access_render", "kmspolicy.cli.baseline", "kmspolicy.cli.parallel",
    "kmspolicy.bridge.access.report", "kmspolicy.bridge.access.evidence",
    "kmspolicy.bridge.access.scenario_merge", "kmspolicy.bridge.bundle", "kmspolicy.bridge.regotest",
    "jsonschema", "samtranslator", "tarfile", "xml.etree.ElementTree", "multiprocessing",
    # the pack checks and what only packs need (~20 ms): no pack, none of them
    "kmspolicy.bridge.pack_checks", "kmspolicy.bridge.escape_sensitive", "kmspolicy.bridge.embedded_compat",
    "kmspolicy.bridge.rego_types", "importlib.resources", "kmspolicy.bridge.access.located",
}
RUN_AND_LIST_MODULES = """
import json, sys
from click.testing import CliRunner
from kmspolicy.cli.main import main
result = CliRunner().invoke(main, sys.argv[1:])
print(json.dumps({"exit": result.exit_code, "output": result.output, "modules": sorted(sys.modules)}))
"""


def modules_after(*args: str) -> tuple[int, str, set[str]]:
    proc = subprocess.run([sys.executable, "-c", RUN_AND_LIST_MODULES, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    run = json.loads(proc.stdout)
    return run["exit"], run["output"], set(run["modules"])


@pytest.mark.parametrize("fmt, reporter_modules, needs", [
    ("text", {"text"}, set()),
    ("json", {"json_format"}, set()),
    ("sarif", {"sarif"}, set()),
    ("junit", {"junit"}, {"xml.etree.ElementTree"}),
    ("github", {"github", "text"}, set()),  # the annotations' summary line is the text report's
])
def test_eval_of_one_template_imports_only_what_it_uses(fmt, reporter_modules, needs):
    # --timeout 0: analyzed in this process (under a time limit, in a worker: below)
    code, output, modules = modules_after("eval", "--timeout", "0", "--format", fmt, str(SEED))
    assert code == 1, output  # it ran: the seed has findings
    assert {"kmspolicy.bridge.engines.embedded", "kmspolicy.bridge.normalize"} | needs <= modules
    assert sorted((NEVER_FOR_EVAL - needs) & modules) == []
    formats = {module for module in _MODULES.values() if f"kmspolicy.cli.reporters.{module}" in modules}
    assert formats == reporter_modules


def test_under_the_default_time_limit_one_template_is_analyzed_in_a_worker():
    code, output, modules = modules_after("eval", "--jobs", "1", str(SEED))
    assert code == 1, output
    assert {"kmspolicy.cli.parallel", "multiprocessing"} <= modules
    assert "kmspolicy.bridge.engines.embedded" not in modules  # the worker builds the engine


def test_every_command_is_listed_and_runs_though_imported_on_demand():  # --help imports them all
    code, output, modules = modules_after("--help")
    assert code == 0
    listed = {line.split()[0] for line in output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == {"eval", *COMMANDS}
    for name in COMMANDS:
        code, output, modules = modules_after(name, "--help")
        assert code == 0 and "Usage:" in output
        module = f"kmspolicy.cli.{COMMANDS[name].partition(':')[0]}"
        assert module in modules


def test_eval_with_a_baseline_and_a_config_imports_their_readers(tmp_path):
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"version": 1, "tool": "kmspolicy", "findings": []}')
    config = tmp_path / "config.yaml"
    config.write_text("deployers: ['arn:aws:iam::*:role/cfn-deployer']\n")
    code, output, modules = modules_after("eval", "--baseline", str(baseline), "--config", str(config),
                                          str(SEED))
    assert code == 1, output
    assert {"kmspolicy.cli.baseline", "jsonschema"} <= modules
