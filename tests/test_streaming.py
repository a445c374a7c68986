"""Flat memory at organization scale: spooled results (bridge/spool.py) and reporters that
write piece by piece give the same bytes as in-memory lists, and the number of findings
held in memory does not grow with the files scanned."""

from __future__ import annotations

import gc
import io
import json
import os
import random
import tempfile
from collections import Counter
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge import spool as spool_module
from kmspolicy.bridge.findings import SEVERITIES, FileError, FileStatus, Finding, Related, Result
from kmspolicy.bridge.pipeline import FileReport
from kmspolicy.bridge.rules import Rule
from kmspolicy.bridge.spool import Pickled, Spool, SpoolError, in_order, sorted_items
from kmspolicy.cli import main as cli_main
from kmspolicy.cli.baseline import apply_baseline, write_baseline
from kmspolicy.cli.reporters import REPORTERS, ReportContext, get_reporter, sarif
from kmspolicy.cli.reporters import github as gh
from kmspolicy.cli.reporters.json_stream import Streamed, write_json
from kmspolicy.cli.reporters.text import _finding_key, in_report_order
from kmspolicy.cli.run import run

from .conftest import ROOT

SEED = "examples/seed/template.yaml"


@pytest.fixture
def small_chunks(monkeypatch):
    """Sorts spill to disk after 7 items and merge 3 runs at a time, so every sort of more
    than 21 items merges in several passes."""
    monkeypatch.setattr(spool_module, "SORT_CHUNK", 7)
    monkeypatch.setattr(spool_module, "MERGE_WIDTH", 3)


# --- Spool and sorted_items -------------------------------------------------------------


def test_spool_reads_back_what_was_appended_as_often_as_asked():
    items = [("a", 1, None), {"k": [1, 2]}, "é\u2028", None, ("b", (2, 3))]
    with Spool(items[:2]) as spool:
        spool.extend(items[2:])
        assert len(spool) == 5 and bool(spool)
        assert list(spool) == items
        assert list(spool) == items  # a second pass: several reports from one result
        assert [(x, y) for x in spool for y in spool][:6] == [(items[0], y) for y in items] + [
            (items[1], items[0])]  # nested passes each keep their place
        assert spool[0] == items[0] and spool[-1] == items[-1] and spool[3] is None
        with pytest.raises(IndexError):
            spool[5]
        with pytest.raises(TypeError):
            spool[1:2]


def test_spool_appends_during_a_pass_are_seen_by_the_next_pass_only():
    spool = Spool([1, 2, 3])
    seen = []
    for item in spool:
        seen.append(item)
        spool.append(item * 10)
    assert seen == [1, 2, 3]
    assert list(spool) == [1, 2, 3, 10, 20, 30]


def test_an_empty_spool_has_no_file_and_a_closed_one_is_empty():
    spool = Spool()
    assert len(spool) == 0 and not spool and list(spool) == [] and spool._store is None
    spool.append("x")
    revision = spool.revision
    spool.close()
    assert len(spool) == 0 and list(spool) == [] and spool.revision != revision


def test_sorted_items_is_a_stable_sort_with_few_items_in_memory(small_chunks):
    rng = random.Random(8)
    items = [(rng.randint(0, 9), n) for n in range(100)]  # many ties on the key
    key = lambda item: item[0]  # noqa: E731
    assert list(sorted_items(items, key=key)) == sorted(items, key=key)
    assert list(sorted_items(Spool(items), key=key)) == sorted(items, key=key)
    assert list(sorted_items(items[:7], key=key)) == sorted(items[:7], key=key)  # one full chunk
    assert list(sorted_items([])) == []
    spool = Spool(items)
    spool.sort(key=key)
    assert list(spool) == sorted(items, key=key)
    assert in_order(spool, key) and not in_order(items, key) and in_order([])


def test_sorting_a_spool_in_order_keeps_its_file():
    spool = Spool([1, 2, 2, 3])
    store, revision = spool._store, spool.revision
    spool.sort()
    assert spool._store is store and spool.revision == revision
    spool.sort(key=lambda n: -n)
    assert list(spool) == [3, 2, 2, 1] and spool._store is not store


def _stored_bytes(spool: Spool) -> bytes:
    buffer = bytearray(spool._store.size)
    assert spool._store.read_at(0, memoryview(buffer)) == len(buffer)
    return bytes(buffer)


def test_pickled_items_are_written_into_a_spool_as_they_are():
    items = [("a", 1), {"k": [1, 2]}, "é\u2028", None]
    pickled = Pickled(items)
    assert len(pickled) == 4 and list(pickled) == items and pickled == items and pickled[1] == items[1]
    with Spool(["x"]) as spool, Spool(["x", *items]) as appended:
        revision = spool.revision
        spool.extend(pickled)
        spool.extend(Pickled())
        assert spool.revision != revision and len(spool) == 5 and list(spool) == ["x", *items]
        assert spool._store.size == appended._store.size  # the same bytes as one append each
        assert _stored_bytes(spool) == _stored_bytes(appended)
        spool.append("y")  # appending after reading: at the end, not where the read stopped
        assert list(spool) == ["x", *items, "y"]
    with Spool() as empty:
        empty.extend(Pickled())
        assert empty._store is None and list(empty) == []


def test_a_spool_knows_it_is_sorted_by_a_key_until_it_changes():
    key = lambda n: -n  # noqa: E731
    spool = Spool([3, 1, 2])
    assert not spool.is_sorted_by(key)
    spool.sort(key=key)
    assert spool.is_sorted_by(key) and not spool.is_sorted_by(lambda n: -n) and not spool.is_sorted_by(None)
    spool.append(0)
    assert not spool.is_sorted_by(key)
    spool.sort(key=key)  # already in order: the file is kept, and so is the mark
    assert spool.is_sorted_by(key)
    spool.extend(Pickled([5]))
    assert not spool.is_sorted_by(key)
    spool.sort()
    assert spool.is_sorted_by(None) and list(spool) == [0, 1, 2, 3, 5]
    spool.close()
    assert not spool.is_sorted_by(None)


def _finding(n: int, rng: random.Random) -> Finding:
    return Finding(rule=f"KP00{rng.randint(1, 3)}", severity=rng.choice(SEVERITIES), title="t",
                   message=rng.choice(["m", "n"]), file=rng.choice(["a.yaml", "b.yaml"]),
                   line=rng.randint(1, 3), column=1, end_line=1, end_column=2,
                   resource=rng.choice(["K", "L"]), path=f"/Resources/{rng.choice('KL')}",
                   fingerprint=str(rng.randint(0, 2)), suppressed=rng.random() < 0.3)


@pytest.mark.parametrize("seed", range(20))
def test_the_text_report_order_from_a_spool_sorted_by_sort_key(seed, small_chunks):
    rng = random.Random(seed)
    findings = [_finding(n, rng) for n in range(rng.randint(0, 60))]  # many ties on sort_key
    expected = sorted(findings, key=_finding_key)
    with Spool(findings) as spool:
        assert list(in_report_order(spool)) == expected  # not marked: sorted from scratch
        spool.sort(key=Finding.sort_key)
        assert spool.is_sorted_by(Finding.sort_key)
        assert list(in_report_order(spool)) == expected
    assert list(in_report_order(findings)) == expected


def test_spool_files_leave_nothing_in_the_temporary_folder(tmp_path, monkeypatch):
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    spool = Spool(range(1000))
    assert sum(spool) == sum(range(1000))
    assert list(folder.iterdir()) == []  # already unlinked: nothing left however we exit
    spool.close()


def test_a_temporary_folder_that_cannot_hold_the_spool_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(SpoolError, match=r"cannot keep the results in the temporary folder .*missing"):
        Spool().append(1)
    monkeypatch.chdir(ROOT)
    out = CliRunner().invoke(cli_main.main, ["eval", "--jobs", "1", SEED])
    assert out.exit_code == 2
    assert out.output.startswith("kmspolicy: error: cannot keep the results in the temporary folder")
    assert "Traceback" not in out.output


# --- the streaming JSON writer -----------------------------------------------------------


def _random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice([0, -7, 2.5, "x\n\"y\"", "é\u2028€", None, True, False, [], {}])
    if roll < 0.65:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {f"k{n}é": _random_value(rng, depth + 1) for n in range(rng.randint(0, 3))}


def _streamed(value, rng: random.Random):
    if isinstance(value, list):
        items = [_streamed(item, rng) for item in value]
        return Streamed(iter(items)) if rng.random() < 0.6 else items
    if isinstance(value, dict):
        return {key: _streamed(item, rng) for key, item in value.items()}
    return value


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_write_json_gives_the_bytes_of_json_dumps_indent_2(ensure_ascii):
    for seed in range(500):
        rng = random.Random(seed)
        value = _random_value(rng)
        out = io.StringIO()
        write_json(out, _streamed(value, rng), ensure_ascii=ensure_ascii)
        assert out.getvalue() == json.dumps(value, indent=2, ensure_ascii=ensure_ascii), seed


# --- reporters: spooled and streamed == in memory and rendered ----------------------------

RULES = {
    "KP001": Rule("KP001", "kmspolicy.rules.account_delegation", "Account delegation",
                  "The :root ARN names the account.", "medium", "Name the principals.", "r1.rego"),
    "KP003": Rule("KP003", "kmspolicy.rules.admin_can_escalate", "Admin can escalate",
                  "An admin can grant itself use.", "high", "", "r3.rego"),
    "KP005": Rule("KP005", "kmspolicy.rules.public_key", "Anyone can use the key", "Principal *.",
                  "critical", "Add a condition.", "r5.rego"),
}


def synthetic_lists(seed: int, files: int) -> dict[str, list]:
    """A scan's worth of results, out of order, with ties, suppressions, errors, odd text."""
    rng = random.Random(seed)
    statuses, findings, errors, skipped = [], [], [], []
    for n in range(files):
        file = f"org-{n % 3}/repo-{n:03}/{rng.choice(['a', 'b'])}.yaml"
        if rng.random() < 0.15:
            statuses.append(FileStatus(file, "error"))
            errors.append(FileError(file, rng.choice(["bad: tab", "engine [x] 100%, done"]),
                                    rng.choice([None, 3]), rng.choice([None, 7]),
                                    rng.choice(["input", "engine"])))
            continue
        keys = tuple(sorted(rng.sample(["AppKey", "DataKey", "LogKey"], rng.randint(0, 2))))
        statuses.append(FileStatus(file, "analyzed", len(keys), keys))
        for _ in range(rng.randint(0, 6)):
            rule = rng.choice([*RULES, "ORG9"])
            line = rng.randint(1, 4)  # few lines: many findings share a location
            suppressed = rng.random() < 0.2
            findings.append(Finding(
                rule=rule, severity=rng.choice(SEVERITIES), title=f"{rule} title",
                message=rng.choice(["Admin, can: escalate 100%\nthrough [grant].", "plain",
                                    "é\u202e\x1b[31m"]),
                file=file, line=line, column=rng.randint(1, 9), end_line=line + rng.randint(0, 1),
                end_column=rng.randint(1, 30), resource=rng.choice(["AppKey", "DataKey", ""]),
                path="/Resources/AppKey", suppressed=suppressed,
                suppression_reason=rng.choice([None, "reviewed"]) if suppressed else None,
                fingerprint=rng.choice(["fp1", "fp2", f"fp-{n}"]),
                related=[Related(file, line + 1, 3, "/p", "grants kms:*")] * rng.randint(0, 2)))
        if rng.random() < 0.1:
            skipped.append(f"org/notes-{n}.yaml")
    errors.append(FileError("missing/path", "no such file or directory"))
    for items in (statuses, findings, errors):
        rng.shuffle(items)
    return {"files": statuses, "findings": findings, "errors": errors, "skipped": skipped}


def in_memory(lists: dict[str, list]) -> Result:
    return Result(**{name: list(items) for name, items in lists.items()})


def spooled(lists: dict[str, list]) -> Result:
    result = Result.spooled()
    for name, items in lists.items():
        getattr(result, name).extend(items)
    return result


def source_lines(file: str) -> list[str] | None:
    return None if file.startswith("org-2") else [f"line {n}: \tAWS: '*'" for n in range(1, 5)]


CONTEXTS = {
    "default": {},
    "verbose": {"verbose": True},
    "quiet": {"quiet": True},
    "color": {"color": True, "verbose": True},
    "baseline": {"baseline_hidden": 3, "fail_on": "high"},
}


@pytest.mark.parametrize("variant", CONTEXTS)
@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_every_format_writes_a_spooled_result_as_it_renders_the_lists(fmt, variant, small_chunks):
    lists = synthetic_lists(seed=len(fmt) * 31 + len(variant), files=40)
    context = ReportContext(tool_version="9.9.9", rules=RULES, sources=source_lines,
                            **CONTEXTS[variant])
    reporter = get_reporter(fmt)
    expected = reporter.render(in_memory(lists), context)
    with spooled(lists) as result:
        streamed = io.StringIO()
        reporter.write(result, context, streamed)
        assert streamed.getvalue() == expected
        assert reporter.render(result, context) == expected  # spools read again: same bytes
    if fmt == "json":
        assert expected == json.dumps(in_memory(lists).to_json("9.9.9"), indent=2) + "\n"


def test_sarif_result_limit_is_the_same_selection_from_a_spool(monkeypatch, small_chunks):
    monkeypatch.setattr(sarif, "MAX_RESULTS", 10)
    lists = synthetic_lists(seed=5, files=30)
    assert len(lists["findings"]) > 30
    context = ReportContext(tool_version="9.9.9", rules=RULES)
    with spooled(lists) as result:
        streamed = sarif.REPORTER.render(result, context)
    assert streamed == sarif.REPORTER.render(in_memory(lists), context)
    # what the limit keeps, computed the plain way: the most severe, back in report order
    ordered = sorted(lists["findings"], key=lambda f: (f.sort_key(), f.fingerprint))
    ranked = sorted(ordered, key=lambda f: (-sarif.SEVERITY_RANK.get(f.severity, 0), f.suppressed,
                                            f.sort_key()))
    kept = sorted(ranked[:10], key=Finding.sort_key)
    results = json.loads(streamed)["runs"][0]["results"]
    # a finding more or less severe than its rule refers to the rule's severity variant
    default = {d["id"]: d["properties"]["severity"] for d in json.loads(streamed)["runs"][0]["tool"]["driver"]["rules"]}
    assert [(r["ruleId"], r["message"]["text"].split("\n\n")[0], r["properties"]["severity"])
            for r in results] == [(f.rule if f.severity == default[f.rule] else f"{f.rule}/{f.severity}",
                                   sarif.plain(f.message), f.severity) for f in kept]


@pytest.mark.parametrize("limit", [300, gh.MAX_SUMMARY_BYTES])
def test_github_step_summary_from_a_spool(monkeypatch, small_chunks, limit):
    monkeypatch.setattr(gh, "MAX_SUMMARY_BYTES", limit)
    lists = synthetic_lists(seed=9, files=30)
    context = ReportContext(tool_version="9.9.9", rules=RULES, verbose=True, baseline_hidden=2)
    environ = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r",
               "GITHUB_SHA": "0" * 40}
    expected = gh.step_summary(in_memory(lists), context, environ)
    with spooled(lists) as result:
        assert gh.step_summary(result, context, environ) == expected
    assert ("more lines left out" in expected) == (limit == 300)


def test_summary_and_exit_code_follow_the_spools(small_chunks):
    lists = synthetic_lists(seed=3, files=40)
    with spooled(lists) as result:
        plain = in_memory(lists)
        assert result.summary() == plain.summary()
        for fail_on in (*SEVERITIES, "never"):
            assert result.exit_code(fail_on) == plain.exit_code(fail_on)
        result.summary()["by_severity"]["high"] = -1  # the caller's copy, not the remembered one
        assert result.summary() == plain.summary()
        result.keep_findings(lambda f: f.severity == "info")
        plain.keep_findings(lambda f: f.severity == "info")
        assert isinstance(result.findings, Spool) and isinstance(plain.findings, list)
        assert result.summary() == plain.summary()
        result.errors.close()
        plain.errors.clear()
        assert result.summary() == plain.summary() and result.exit_code("info") == plain.exit_code("info")
    # lists can change in place: never remembered
    plain = in_memory(lists)
    before = plain.summary()["suppressed"]
    next(f for f in plain.findings if not f.suppressed).suppressed = True
    assert plain.summary()["suppressed"] == before + 1


def test_baseline_from_a_spooled_result(tmp_path, small_chunks):
    lists = synthetic_lists(seed=4, files=40)
    paths = []
    for name, result in (("lists", in_memory(lists)), ("spools", spooled(lists))):
        path = tmp_path / f"{name}.json"
        count = write_baseline(str(path), result)
        assert count == sum(1 for f in lists["findings"] if not f.suppressed)
        known = Counter(entry["fingerprint"] for entry in json.loads(path.read_text())["findings"][::2])
        match = apply_baseline(result, known)
        assert match.hidden == sum(known.values()) and match.stale == 0
        paths.append((path.read_text(), [f.fingerprint for f in result.findings], type(result.findings)))
        result.close()
    assert paths[0][:2] == paths[1][:2]
    assert (paths[0][2], paths[1][2]) == (list, Spool)


# --- the eval command ---------------------------------------------------------------------


def test_eval_writes_several_formats_from_one_spooled_result(tmp_path, monkeypatch):
    """Each --format NAME=FILE reads the spools again: the same bytes as a run of that format alone."""
    monkeypatch.chdir(ROOT)
    targets = ["examples/seed/template.yaml", "examples"]
    names = ["json", "sarif", "github", "junit"]
    args = [arg for name in names for arg in ("-f", f"{name}={tmp_path / name}")]
    together = CliRunner().invoke(cli_main.main, ["eval", "--jobs", "1", "-f", "text", *args,
                                                  "--severity", "medium", *targets])
    assert together.exit_code == 2, together.output  # examples/variants shows unanalysable parts
    alone = CliRunner().invoke(cli_main.main, ["eval", "--jobs", "1", "--severity", "medium",
                                               *targets])
    assert together.stdout == alone.stdout and "finding" in alone.stdout
    for name in names:
        single = CliRunner().invoke(cli_main.main, ["eval", "--jobs", "1", "-f", name,
                                                    "--severity", "medium", *targets])
        assert (tmp_path / name).read_text(encoding="utf-8") == single.stdout, name
    doc = json.loads((tmp_path / "json").read_text(encoding="utf-8"))
    assert doc["findings"] and all(f["severity"] in ("critical", "high", "medium")
                                   for f in doc["findings"])


# --- memory: flat however many files -------------------------------------------------------

FINDINGS_PER_FILE = 12
# what a folder scan takes for a template (cli/sniff.py); the analyzers here do not read it
A_TEMPLATE = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"


class ManyFindings:
    """A stand-in analyzer (no engine): FINDINGS_PER_FILE findings for every file, so a tree of
    N files makes N x FINDINGS_PER_FILE findings to keep somewhere."""

    engine = None

    def analyze(self, file: str, display: str) -> FileReport:
        findings = [Finding(rule="KP001", severity=SEVERITIES[n % 5], title="t", message=f"m{n}",
                            file=display, line=n + 1, column=1, end_line=n + 1, end_column=9,
                            resource="AppKey", path="/Resources/AppKey", fingerprint=f"{display}{n}",
                            related=[Related(display, n + 2, 1, "/p", "r")])
                    for n in range(FINDINGS_PER_FILE)]
        return FileReport(display, "analyzed", findings=findings, keys=1,
                          input={"keys": {"AppKey": {}}})


def live_findings() -> int:
    return sum(1 for thing in gc.get_objects() if type(thing) is Finding)


class Sampler:
    """A Progress (called after every file) and an output stream that count the Finding
    objects alive now and then, keeping the largest count."""

    def __init__(self, every: int):
        self.every = every
        self.calls = 0
        self.peak = 0

    def sample(self) -> None:
        self.calls += 1
        if self.calls % self.every == 0:
            self.peak = max(self.peak, live_findings())

    def start(self, total: int) -> None:
        self.sample()

    def advance(self, findings: int) -> None:
        self.sample()

    def finish(self) -> None:
        self.sample()

    def write(self, text: str) -> None:
        self.sample()


def scan_and_report(tree: Path, files: int) -> tuple[int, int, Result]:
    """The eval path on `files` generated templates: scan, filter, sort, every format.
    (peak findings alive while scanning, while reporting, the result)."""
    for n in range(files):
        folder = tree / f"repo-{n // 50:02}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"t{n:04}.yaml").write_text(A_TEMPLATE, encoding="utf-8")
    scanning = Sampler(every=10)
    result = run([str(tree)], ManyFindings, root=str(tree), progress=scanning,
                 timeout=0)  # in this process: its spools are what is counted
    result.keep_findings(lambda f: f.severity != "info")
    result.findings.sort(key=Finding.sort_key)
    writing = Sampler(every=200)
    context = ReportContext(rules=RULES, verbose=True, baseline_hidden=1)
    for reporter in REPORTERS.values():
        reporter.write(result, context, writing)
    return scanning.peak, writing.peak, result


def test_findings_in_memory_do_not_grow_with_the_files_scanned(tmp_path, monkeypatch):
    """Not a timing or RSS test: the Finding objects alive at any sampled moment are counted.
    A result kept in lists would hold all N x 12 of them; spooled, a bounded few (one file's,
    one sort chunk, one per sorted run being merged) whatever N."""
    monkeypatch.setattr(spool_module, "SORT_CHUNK", 100)
    monkeypatch.setattr(spool_module, "MERGE_WIDTH", 8)
    monkeypatch.setattr(sarif, "MAX_RESULTS", 150)  # the SARIF limit path spools too
    gc.collect()
    baseline = live_findings()
    peaks = {}
    for files in (40, 400):
        scanning, writing, result = scan_and_report(tmp_path / str(files), files)
        with result:
            assert all(isinstance(getattr(result, item.name), Spool) for item in fields(Result))
            assert len(result.files) == files
            kept = sum(1 for n in range(FINDINGS_PER_FILE) if SEVERITIES[n % 5] != "info")
            assert len(result.findings) == files * kept
            peaks[files] = (scanning - baseline, writing - baseline)
    # a sort chunk, the runs merged at once, a file's worth: fewer than the smaller tree has
    bound = 100 + 8 + 2 * FINDINGS_PER_FILE
    assert bound < 40 * FINDINGS_PER_FILE // 2
    for files, (scanning, writing) in peaks.items():
        assert scanning <= 2 * FINDINGS_PER_FILE, (files, peaks)
        assert writing <= bound, (files, peaks)


def test_an_interrupted_scan_closes_its_spools(tmp_path):
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to count open files")

    class Interrupt:
        def start(self, total: int) -> None:
            self.done = 0

        def advance(self, findings: int) -> None:
            self.done += 1
            if self.done == 5:
                raise KeyboardInterrupt

        def finish(self) -> None:
            pass

    for n in range(10):
        (tmp_path / f"t{n}.yaml").write_text(A_TEMPLATE, encoding="utf-8")
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(KeyboardInterrupt):
        run([str(tmp_path), str(tmp_path / "missing.yaml")], ManyFindings, progress=Interrupt())
    assert len(os.listdir("/proc/self/fd")) == open_before
