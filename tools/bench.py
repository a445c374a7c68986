"""`make bench`: kmspolicy against checkov and cfn-lint on one folder, and kmspolicy's scaling.

    python tools/bench.py [CORPUS] [--runs 3] [--scale 10000] [--jobs 2] [--rules]
    python tools/bench.py [CORPUS] --engine-row [--checkout DIR]
    python tools/bench.py [CORPUS] --policies-against DIR

CORPUS defaults to ../shared/corpus when it exists, else examples/. checkov and cfn-lint
are installed by this script into a separate virtual environment (`--bench-venv`, default
.bench-venv/, never kmspolicy's own); without a registry their rows are skipped, with a note.

Every command runs in a fresh process, N times (median of each figure): wall time, user+sys
CPU and peak RSS of the largest process (what `/usr/bin/time -v` reports: `os.wait4`'s
rusage, which includes the processes it waited for) and the peak memory of the whole
process tree: the sum of its processes' PSS (shared pages split among their sharers, so
forked workers are not counted twice), sampled from /proc every 20 ms or more, on a thread
of its own: the wall time ends when the command exits.

Printed as Markdown: the side-by-side table with ratios, the 1-template cold start with
`python -X importtime`'s top offenders, the scaling rows (1 / corpus / `--scale` templates,
the corpus copied into nested folders, `--jobs`), the per-template cost of the engines
(embedded; opa in-process; opa-server over a loopback server), optionally each rule's cost, and the
issue's targets, met or missed.

`--engine-row` prints only the engine cost per template and the access model's cost;
with `--checkout DIR` the kmspolicy measured is the one in DIR (another checkout or
`git worktree` of this repository, e.g. an older commit), so two checkouts are compared
with the same measuring code.

`--policies-against DIR` measures only the embedded engine, with DIR's policies and with
this checkout's (the same engine code), alternating the two on each input, and checks
that their findings are equal: a change to the Rego alone, measured on a loaded machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".yaml", ".yml", ".json", ".template")
TOOLS = {"checkov": "checkov==3.3.30", "cfn-lint": "cfn-lint==1.58.0"}
SAMPLE_EVERY = 0.02
SAMPLER_SHARE = 0.01
"""Of one CPU, the most the memory sampler may take: reading every process's smaps_rollup
costs about a millisecond of CPU for a pool of workers, which at SAMPLE_EVERY took 6% of a
core from the command measured (and 7% off the wall time of a 10,000-template run)."""
SAMPLE_AT_MOST_EVERY = 0.2


def note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# -- measuring one command --------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    cpu: float  # user + sys, the process and every child it waited for
    rss_max_kb: int  # the largest single process
    tree_kb: int  # the largest sampled sum of PSS over the process tree
    exit_code: int


def tree_pss_kb(pid: int) -> int:
    """Memory of `pid` and all its descendants: the sum of their PSS (shared pages counted
    once, split among the processes sharing them; VmRSS where PSS is not available)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            total += _pss_kb(current)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _pss_kb(pid: int) -> int:
    for path, field_name in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path, encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith(field_name):
                        return int(line.split()[1])
        except (FileNotFoundError, PermissionError):
            continue
    return 0


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of measured commands: as installed Python runs (bytecode cached:
    PYTHONDONTWRITEBYTECODE, which some shells set, would recompile every module each run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """One run of `command`. The wall time ends when it exits: this thread waits for it,
    and the memory sampler runs in another (sampling on the waiting thread between sleeps
    of 20-200 ms put up to one sleep on every wall time: +0.1-0.2 s on a 0.8 s run)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, env=env or bench_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sampler = _TreeSampler(proc.pid)
    sampler.start()
    try:
        if hasattr(os, "waitid"):  # exited, not yet reaped: no sample can read a reused pid
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    finally:
        wall = time.perf_counter() - started
        sampler.stop()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, sampler.peak_kb or usage.ru_maxrss,
               proc.returncode)


class _TreeSampler(threading.Thread):
    """The largest process-tree PSS of `pid` while it runs, taking at most SAMPLER_SHARE of
    a CPU: its CPU, not its wall time, sets the pause (a read can wait on a process starting)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self._done = threading.Event()
        self._sampling = Path("/proc/self/task").is_dir()

    def run(self) -> None:
        while self._sampling and not self._done.is_set():
            started_sample = time.thread_time()
            self.peak_kb = max(self.peak_kb, tree_pss_kb(self.pid))
            pause = min(max(SAMPLE_EVERY, (time.thread_time() - started_sample) / SAMPLER_SHARE),
                        SAMPLE_AT_MOST_EVERY)
            self._done.wait(pause)

    def stop(self) -> None:
        """Stops sampling; returns once the last sample is taken."""
        self._done.set()
        self.join()


@dataclass
class Row:
    label: str
    runs: list[Run]

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)


def bench_rows(commands: dict[str, list[str]], runs: int, warm_up: bool = True,
               envs: dict[str, dict[str, str]] | None = None) -> dict[str, Row]:
    """Each command `runs` times, round-robin, so drifting machine load hits all alike,
    after one unmeasured run each (bytecode, the compiled-bundle cache, the disk cache)."""
    envs = envs or {}
    rows = {label: Row(label, []) for label in commands}
    for round_number in range(-1 if warm_up else 0, runs):
        for label, command in commands.items():
            note(f"{'warm-up' if round_number < 0 else f'run {round_number + 1}/{runs}'}: {label}")
            run = measure(command, envs.get(label))
            if round_number >= 0:
                rows[label].runs.append(run)
    return rows


# -- the tools --------------------------------------------------------------------------------

def kmspolicy_command(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "kmspolicy"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from kmspolicy.cli.main import entrypoint; entrypoint()", *args]


def ensure_bench_venv(venv: Path) -> Path | None:
    """The bench venv's bin/ with checkov and cfn-lint, installed on first use; None if it fails."""
    bin_dir = venv / "bin"
    if all((bin_dir / tool).exists() for tool in TOOLS):
        return bin_dir
    note(f"installing {', '.join(TOOLS.values())} into {venv} (once; log: {venv}/pip.log)")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        with open(venv / "pip.log", "w") as log:
            subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--upgrade", "pip"],
                           stdout=log, stderr=subprocess.STDOUT, check=True)
            subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", *TOOLS.values()],
                           stdout=log, stderr=subprocess.STDOUT, check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        note(f"cannot install checkov and cfn-lint ({exc}); their rows are skipped")
        return None
    return bin_dir


def template_files(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, f) for f in sorted(filenames) if f.lower().endswith(SUFFIXES)]
    return found


def cfn_lint_args(target: Path) -> list[str]:
    """cfn-lint globs quoted patterns itself (recursive `**`); one per suffix present."""
    if target.is_file():
        return [str(target)]
    present = sorted({p.suffix.lower() for p in template_files(target)})
    return [f"{target}/**/*{suffix}" for suffix in present]


def tool_commands(target: Path, bench_bin: Path | None, jobs: int | None = None) -> dict[str, list[str]]:
    jobs_args = ["--jobs", str(jobs)] if jobs else []
    commands = {f"kmspolicy{f' --jobs {jobs}' if jobs else ''}":
                kmspolicy_command("eval", str(target), *jobs_args)}
    if bench_bin is not None:
        checkov_target = ["-d", str(target)] if target.is_dir() else ["-f", str(target)]
        commands["checkov"] = [str(bench_bin / "checkov"), *checkov_target,
                               "--framework", "cloudformation", "--quiet", "--skip-download"]
        commands["cfn-lint"] = [str(bench_bin / "cfn-lint"), *cfn_lint_args(target)]
    return commands


# -- import time --------------------------------------------------------------------------------

IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(runs: int) -> tuple[float, list[tuple[str, float]]]:
    """(median total ms of `import kmspolicy.cli.main`, [(module, median cumulative ms)] for
    the heaviest imports made by kmspolicy's own modules)."""
    totals, heavy = [], {}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import kmspolicy.cli.main"],
                              capture_output=True, text=True, check=True, env=bench_env())
        rows = [(int(m[2]) / 1000, len(m[3]) // 2, m[4])
                for m in (IMPORT_LINE.match(line) for line in proc.stderr.splitlines()) if m]
        totals.append(next(ms for ms, _, name in rows if name == "kmspolicy.cli.main"))
        for ms, name in _direct_imports_of_kmspolicy(rows):
            heavy.setdefault(name, []).append(ms)
    top = sorted(((name, statistics.median(v)) for name, v in heavy.items()), key=lambda x: -x[1])
    return statistics.median(totals), top[:10]


def _direct_imports_of_kmspolicy(rows: list[tuple[float, int, str]]) -> list[tuple[float, str]]:
    """importtime lists children before their parent: a module is kept when the nearest
    enclosing (later, shallower) entry is a kmspolicy module and it is not one itself."""
    kept = []
    for position, (ms, depth, name) in enumerate(rows):
        if name.startswith("kmspolicy"):
            continue
        parent = next((n for _, d, n in rows[position + 1:] if d < depth), None)
        if parent and parent.startswith("kmspolicy"):
            kept.append((ms, name))
    return kept


# -- scaling ------------------------------------------------------------------------------------

def scaled_tree(corpus: Path, count: int, dest: Path) -> int:
    """`count` templates: the corpus copied over and over into org-NN/repo-NNN/ folders
    (hard links where the file system allows: same bytes, no disk)."""
    sources = template_files(corpus)
    made = 0
    while made < count:
        for source in sources:
            if made == count:
                break
            repo = dest / f"org-{made // (len(sources) * 10):02}" / f"repo-{made // len(sources):03}"
            repo.mkdir(parents=True, exist_ok=True)
            target = repo / source.name
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
            made += 1
    return made


# -- per-template engine cost --------------------------------------------------------------------

@dataclass
class EngineCost:
    label: str
    build_ms: float
    per_template_ms: list[float]
    per_template_cpu_ms: list[float]  # this process's CPU: steadier than wall on a busy machine


def corpus_templates(corpus: Path) -> Iterator[tuple[Path, dict]]:
    """(path, document) of every corpus file that loads as a template with Resources."""
    from kmspolicy.bridge.load import TemplateError, load_template

    for path in template_files(corpus):
        try:
            document = load_template(str(path)).document
        except TemplateError:
            continue
        if isinstance(document, dict) and isinstance(document.get("Resources"), dict):
            yield path, document


def rule_inputs(corpus: Path) -> list[dict]:
    from kmspolicy.bridge.normalize import normalize

    inputs = [normalize(document, path.name, {}).input for path, document in corpus_templates(corpus)]
    return [input_doc for input_doc in inputs if input_doc["keys"]]


def access_model_cost(corpus: Path) -> tuple[list[float], list[float]]:
    """Milliseconds (wall, CPU) of the access model (bridge/access) per corpus template
    with a key, on a template normalized without it; each first run, so caches start cold
    per template."""
    import copy

    from kmspolicy.bridge import access
    from kmspolicy.bridge.normalize import _Normalizer

    times, cpu = [], []
    for path, document in corpus_templates(corpus):
        normalized = _Normalizer(document, path.name, {}, {}).run()
        if normalized.input["keys"]:
            doc = copy.deepcopy(normalized.input)
            started, started_cpu = time.perf_counter(), time.process_time()
            access.compute(doc, {})
            cpu.append((time.process_time() - started_cpu) * 1000)
            times.append((time.perf_counter() - started) * 1000)
    return times, cpu


def engine_cost(label: str, build: Callable[[], object], inputs: list[dict]) -> EngineCost:
    started = time.perf_counter()
    engine = build()
    build_ms = (time.perf_counter() - started) * 1000
    engine.findings(inputs[0])  # warm: first-use costs are not per template
    times, cpu = [], []
    for input_doc in inputs:
        started, started_cpu = time.perf_counter(), time.process_time()
        engine.findings(input_doc)
        cpu.append((time.process_time() - started_cpu) * 1000)
        times.append((time.perf_counter() - started) * 1000)
    return EngineCost(label, build_ms, times, cpu)


@contextlib.contextmanager
def _fresh_bundle_cache() -> Iterator[None]:
    """KMSPOLICY_CACHE_DIR set to an empty folder for the block, then restored."""
    with tempfile.TemporaryDirectory(prefix="kmspolicy-bench-cache-") as folder:
        previous = os.environ.get("KMSPOLICY_CACHE_DIR")
        os.environ["KMSPOLICY_CACHE_DIR"] = folder
        try:
            yield
        finally:
            if previous is None:
                del os.environ["KMSPOLICY_CACHE_DIR"]
            else:
                os.environ["KMSPOLICY_CACHE_DIR"] = previous


def engine_costs(corpus: Path, embedded_only: bool = False) -> tuple[list[EngineCost], list[str]]:
    from kmspolicy.bridge.pipeline import PolicySet, make_engine

    policies = PolicySet.builtin()
    inputs = rule_inputs(corpus)
    with _fresh_bundle_cache():
        costs = [engine_cost("embedded (regopy), compiled", lambda: make_engine(policies), inputs),
                 engine_cost("embedded (regopy), from the compiled-bundle cache",
                             lambda: make_engine(policies), inputs)]
    notes = []
    if embedded_only:
        return costs, notes
    from kmspolicy.bridge.engines import EngineError

    try:
        costs.append(engine_cost("opa (OPA 1.20 in-process, `--engine opa`)",
                                 lambda: make_engine(policies, "opa"), inputs))
        notes.append("opa: the engine of `eval --engine opa`, OPA's own Go evaluator through "
                     "opa-golib-python-bindings (the kmspolicy[opa] extra), policies prepared once")
    except EngineError as exc:
        notes.append(f"opa: skipped, {exc}")
    if not (ROOT / "bridge" / "engines" / "opa_server.py").exists():
        notes.append("opa-server: skipped, there is no bridge/engines/opa_server.py yet")
        return costs, notes
    server = _start_loopback_opa()
    if server is None:
        notes.append("opa-server: skipped, the loopback server (tests/opa_test_server.py, "
                     "needs opa_bindings) did not start")
        return costs, notes
    process, url = server
    try:
        costs.append(engine_cost("opa-server (loopback, pushed)",
                                 lambda: make_engine(policies, "opa-server", url=url, push=True),
                                 inputs))
        notes.append("opa-server: the loopback stand-in of tests/opa_test_server.py (Python "
                     "http.server + OPA 1.20 via opa_bindings) in its own process; a real "
                     "`opa run --server` answers faster, so this is an upper bound")
    finally:
        process.terminate()
        process.wait(10)
    return costs, notes


def _start_loopback_opa() -> tuple[subprocess.Popen, str] | None:
    code = ("import sys; from tests.opa_test_server import OpaTestServer; s = OpaTestServer(); "
            "print(s.url, flush=True); sys.stdin.read()")
    try:
        process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        return None
    return process, url


class _TimedEngine:
    """An engine whose CPU and wall time are added up, so the bridge's share is the rest."""

    def __init__(self, engine):
        self.engine = engine
        self.cpu = self.wall = 0.0

    def findings(self, input_doc: dict):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return self.engine.findings(input_doc)
        finally:
            self.cpu += time.process_time() - started_cpu
            self.wall += time.perf_counter() - started


@dataclass
class TemplateCost:
    name: str
    size: int
    keys: int
    wall_ms: float  # Analyzer.analyze: load, normalize, access, engine, locate
    cpu_ms: float
    python_cpu_ms: float  # the same minus the engine's CPU
    parse_cpu_ms: float  # load_template alone (parse + source map)
    check_cpu_ms: float  # the check that it defines no key and hides no part
    keyless: bool  # no resource is or may be a key (whatever scenario); load errors included


KEYLESS_REPEAT = 9


def pipeline_costs(corpus: Path, engine_name: str = "embedded", repeat: int = 3) -> list[TemplateCost]:
    """Each corpus file analyzed as `eval` does (policies compiled once), in this process:
    the fastest of `repeat` analyses of each (on a loaded machine, other work only ever
    adds time), and of `repeat` loads alone, alternated; a template without a key, the
    fastest of KEYLESS_REPEAT of each."""
    from kmspolicy.bridge.load import TemplateError, load_template
    from kmspolicy.bridge.pipeline import Analyzer, PolicySet, make_engine
    from kmspolicy.bridge.template_checks import hidden_problems

    cannot_define_key = _keyless_check()

    policies = PolicySet.builtin()
    engine = _TimedEngine(make_engine(policies, engine_name))
    analyzer = Analyzer(policies, engine)
    costs = []
    for path in template_files(corpus):
        walls, cpus, pythons, parses, checks, keys = [], [], [], [], [], 0
        rounds, done = repeat, 0
        while done < rounds:
            done += 1
            engine.cpu = engine.wall = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            keys = analyzer.analyze(str(path)).keys
            cpus.append((time.process_time() - started_cpu) * 1000)
            walls.append((time.perf_counter() - started) * 1000)
            pythons.append(cpus[-1] - engine.cpu * 1000)
            started_cpu = time.process_time()
            try:
                document = load_template(str(path)).document
            except TemplateError:
                document = None
            parses.append((time.process_time() - started_cpu) * 1000)
            started_cpu = time.process_time()
            keyless = not isinstance(document, dict) or not isinstance(document.get("Resources"), dict) \
                or cannot_define_key(document["Resources"])
            if keyless and document is not None:
                hidden_problems(document)
            checks.append((time.process_time() - started_cpu) * 1000)
            if keyless:  # sub-millisecond on both sides: a 3-run minimum is mostly noise
                rounds = max(repeat, KEYLESS_REPEAT)
        costs.append(TemplateCost(path.name, path.stat().st_size, keys, min(walls), min(cpus),
                                  min(pythons), min(parses), min(checks), keyless))
    return costs


def _keyless_check() -> Callable[[dict], bool]:
    """template_checks.cannot_define_key; in a checkout older than it (`--checkout`), the
    same test made here, so both sides count the same templates."""
    try:
        from kmspolicy.bridge.template_checks import cannot_define_key
    except ImportError:
        def cannot_define_key(resources: dict) -> bool:
            return all(isinstance(r, dict) and isinstance(r.get("Type"), str)
                       and r["Type"] not in ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
                       and not rid.startswith("Fn::ForEach::") for rid, r in resources.items())
    return cannot_define_key


def print_pipeline_costs(corpus: Path, targets: list[Target]) -> None:
    from kmspolicy.bridge.pipeline import ENGINES

    rows = [("embedded", pipeline_costs(corpus))]
    if "opa" in ENGINES:
        rows.append(("opa", pipeline_costs(corpus, "opa")))
    else:
        targets.append(Target("--engine opa: <= 5 ms per template", None,
                              "not measured: no --engine opa in this checkout"))
    print("\n### Per template, as `eval` analyzes it (policies compiled once; the fastest of 3 "
          "analyses of each, then the median over templates)\n")
    print("| engine | templates | median ms (wall) | median CPU ms | with a key: median CPU ms | "
          "p90 CPU ms | mean CPU ms | Python side: median CPU ms (all / with a key) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, costs in rows:
        keyed = [c for c in costs if c.keys]
        cpu = sorted(c.cpu_ms for c in costs)
        print(f"| {name} | {len(costs)} | {statistics.median(c.wall_ms for c in costs):.1f} | "
              f"{statistics.median(cpu):.1f} | {statistics.median(c.cpu_ms for c in keyed):.1f} | "
              f"{cpu[int(len(cpu) * 0.9)]:.1f} | {statistics.fmean(cpu):.1f} | "
              f"{statistics.median(c.python_cpu_ms for c in costs):.2f} / "
              f"{statistics.median(c.python_cpu_ms for c in keyed):.2f} |")
        limit = 20 if name == "embedded" else 5
        median = statistics.median(c.cpu_ms for c in keyed)
        targets.append(Target(f"--engine {name}: <= {limit} ms per template (median CPU, engine + "
                              "bridge, templates with a key)", median <= limit, f"{median:.1f} ms"))
    costs = rows[0][1]
    python = statistics.median(c.python_cpu_ms for c in costs)
    targets.append(Target("Python side: <= 2.5 ms per template (median CPU, all templates)",
                          python <= 2.5, f"{python:.2f} ms"))
    keyless = [c for c in costs if c.keyless]
    if not keyless:
        return
    print(f"\n### Templates without a KMS key: the whole analysis against parsing alone (CPU ms; "
          f"the fastest of {KEYLESS_REPEAT} of each, alternated)\n")
    print("| template | KB | analysis | parse + source map | the check (no key, nothing hidden) |"
          "\n|---|---:|---:|---:|---:|")
    for cost in sorted(keyless, key=lambda c: -c.size)[:5]:
        print(f"| {cost.name[:60]} | {cost.size / 1024:.0f} | {cost.cpu_ms:.2f} | "
              f"{cost.parse_cpu_ms:.2f} | {cost.check_cpu_ms:.2f} |")
    spent = sum(c.cpu_ms for c in keyless)
    floor = sum(c.parse_cpu_ms + c.check_cpu_ms for c in keyless)
    print(f"\n{len(keyless)} templates without a key (load errors included): analysis "
          f"{spent:.1f} ms in all (median {statistics.median(c.cpu_ms for c in keyless):.2f}), "
          f"parse + check {floor:.1f} ms (median "
          f"{statistics.median(c.parse_cpu_ms + c.check_cpu_ms for c in keyless):.2f})")
    targets.append(Target("a template with no KMS key: no more than its parse and the check that it "
                          "has none (all such templates' CPU, within 5 %)", spent <= floor * 1.05,
                          f"{spent:.1f} ms vs {floor:.1f} ms"))


def rule_costs(corpus: Path) -> list[tuple[str, float]]:
    """Median ms per template of each rule package's findings evaluated alone, and of a
    query that only reads the input (the floor: handing the input to the engine)."""
    from kmspolicy.bridge.pipeline import PolicySet

    policies = PolicySet.builtin()
    inputs = rule_inputs(corpus)
    queries = {"(reading the input only)": "input.schema_version"}
    for rule in sorted(policies.rules.values(), key=lambda r: r.package):
        queries[f"{rule.id} {rule.package}"] = f"data.{rule.package}.findings"
    costs = []
    for name, query in queries.items():
        cost = engine_cost(name, lambda q=query: _QueryEngine(policies, q), inputs)
        costs.append((name, statistics.median(cost.per_template_ms)))
    return sorted(costs, key=lambda item: -item[1])


class _QueryEngine:
    """The embedded engine answering any query (`findings` returns whatever it gives)."""

    def __init__(self, policies, query: str):
        from kmspolicy.bridge.engines.embedded import EmbeddedEngine

        self.engine = EmbeddedEngine(policies.modules, policies.data(), query=query)

    def findings(self, input_doc: dict):
        return self.engine.evaluate(input_doc)


# -- the report ---------------------------------------------------------------------------------

def fmt_row(row: Row, baseline: Row | None = None) -> str:
    wall, cpu = row.median("wall"), row.median("cpu")
    rss, tree = row.median("rss_max_kb") / 1024, row.median("tree_kb") / 1024
    codes = sorted({run.exit_code for run in row.runs})
    ratio = ""
    if baseline is not None and baseline is not row:
        ratio = (f"{wall / baseline.median('wall'):.1f}x | "
                 f"{tree / (baseline.median('tree_kb') / 1024):.2f}x")
    elif baseline is not None:
        ratio = "1x | 1x"
    return (f"| {row.label} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {tree:.0f} | "
            f"{','.join(map(str, codes))} |" + (f" {ratio} |" if baseline is not None else ""))


HEADER = ("| command | wall s | user+sys s | peak RSS MB (largest process) | peak memory MB "
          "(process tree, PSS) | exit |")


def print_table(title: str, rows: list[Row], baseline: Row | None = None) -> None:
    print(f"\n### {title}\n")
    if baseline is not None:
        print(HEADER + " wall vs kmspolicy | tree memory vs kmspolicy |")
        print("|---|---:|---:|---:|---:|---|---:|---:|")
    else:
        print(HEADER)
        print("|---|---:|---:|---:|---:|---|")
    for row in rows:
        print(fmt_row(row, baseline))


@dataclass
class Target:
    text: str
    met: bool | None  # None: not measured here
    measured: str


def use_checkout(folder: Path) -> None:
    """Import kmspolicy from another checkout (pyproject's package-dir mapping), before
    anything imports the installed one."""
    import importlib.util

    if any(name == "kmspolicy" or name.startswith("kmspolicy.") for name in sys.modules):
        raise SystemExit("bench: --checkout must come before kmspolicy is imported")
    for name, sub in (("kmspolicy", "kmspolicy"), ("kmspolicy.bridge", "bridge"),
                      ("kmspolicy.cli", "cli"), ("kmspolicy.policies", "policies")):
        init = folder / sub / "__init__.py"
        if not init.exists():
            raise SystemExit(f"bench: {folder}: no {sub}/__init__.py, not a kmspolicy checkout")
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder / sub)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        if "." in name:
            setattr(sys.modules["kmspolicy"], name.split(".")[1], module)


def policy_pair_costs(corpus: Path, other: Path, repeat: int = 3) -> tuple[dict[str, list[float]], bool]:
    """CPU ms per corpus input (templates with a key) of one embedded-engine evaluation with
    the policies of `other` (a checkout) and with this checkout's, the same engine code for
    both, measured alternately on each input (the fastest of `repeat` each), so that the
    load of a shared machine weighs on both alike; and whether their findings are equal."""
    from kmspolicy.bridge.engines.embedded import EmbeddedEngine
    from kmspolicy.bridge.pipeline import PolicySet
    from kmspolicy.bridge.rules import read_policy_dir

    ours = PolicySet.builtin()
    theirs = {f"kmspolicy/{name}": source
              for name, source in read_policy_dir(other / "policies" / "kmspolicy").items()}
    # Both sides compiled into an empty cache, then both loaded from it as `eval` loads them:
    # a bundle found in the user's cache evaluates ~2 % faster than one compiled in-process,
    # so a side that happened to be cached (the main branch's) would look faster.
    with _fresh_bundle_cache():
        for modules in (theirs, ours.modules):
            EmbeddedEngine(modules, ours.data())
        engines = {"before": EmbeddedEngine(theirs, ours.data()), "after": EmbeddedEngine(ours.modules, ours.data())}
    inputs = rule_inputs(corpus)
    costs: dict[str, list[float]] = {label: [] for label in engines}
    same = True
    for input_doc in inputs:
        best = {label: float("inf") for label in engines}
        answers = {}
        for _ in range(repeat):
            for label, engine in engines.items():
                started = time.process_time()
                answers[label] = engine.findings(input_doc)
                best[label] = min(best[label], (time.process_time() - started) * 1000)
        same = same and _as_set(answers["before"]) == _as_set(answers["after"])
        for label in engines:
            costs[label].append(best[label])
    return costs, same


def _as_set(findings: list) -> set[str]:
    import json

    return {json.dumps(f, sort_keys=True) for f in findings}


def input_costs(corpus: Path, repeat: int = 3) -> tuple[list[float], list[float]]:
    """(KB of JSON, CPU ms of regopy's set_input_term, the fastest of `repeat`) per corpus
    input: what receiving the input costs the embedded engine, whatever the policies."""
    import json

    import regopy

    interpreter = regopy.Interpreter()
    sizes, cpu = [], []
    for input_doc in rule_inputs(corpus):
        text = json.dumps(input_doc)
        best = float("inf")
        for _ in range(repeat):
            started = time.process_time()
            interpreter.set_input_term(text)
            best = min(best, (time.process_time() - started) * 1000)
        sizes.append(len(text) / 1024)
        cpu.append(best)
    return sizes, cpu


def print_policy_pair(corpus: Path, other: Path) -> None:
    costs, same = policy_pair_costs(corpus, other)
    print(f"\n### Embedded engine: the policies of `{_shown(other)}` (before) and of this checkout "
          "(after), alternately on each input\n")
    print("| policies | median CPU ms | p90 CPU ms | sum CPU ms | templates |\n|---|---:|---:|---:|---:|")
    for label, ms in costs.items():
        ordered = sorted(ms)
        print(f"| {label} | {statistics.median(ordered):.1f} | {ordered[int(len(ordered) * 0.9)]:.1f} | "
              f"{sum(ordered):.0f} | {len(ordered)} |")
    ratio = sum(costs["after"]) / sum(costs["before"])
    print(f"\nafter / before: {ratio:.2f} (sum); findings {'identical' if same else '**differ**'} "
          "on every input")
    sizes, cpu = input_costs(corpus)
    kb = sorted(sizes)
    print("\n| receiving the input (set_input_term) | median | p90 | max |\n|---|---:|---:|---:|")
    print(f"| input size, KB of JSON | {statistics.median(kb):.1f} | {kb[int(len(kb) * 0.9)]:.1f} | {kb[-1]:.1f} |")
    ordered = sorted(cpu)
    print(f"| CPU ms | {statistics.median(ordered):.2f} | {ordered[int(len(ordered) * 0.9)]:.2f} | "
          f"{ordered[-1]:.2f} |")


def print_engine_costs(corpus: Path, targets: list[Target], embedded_only: bool = False) -> None:
    costs, cost_notes = engine_costs(corpus, embedded_only)
    print("\n### Engine cost per template (policies compiled once, corpus inputs)\n")
    print("| engine | compile or load ms | median ms/template | p90 ms | mean ms | median CPU ms "
          "(this process) | templates |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for cost in costs:
        ms = sorted(cost.per_template_ms)
        print(f"| {cost.label} | {cost.build_ms:.0f} | {statistics.median(ms):.1f} | "
              f"{ms[int(len(ms) * 0.9)]:.1f} | {statistics.fmean(ms):.1f} | "
              f"{statistics.median(cost.per_template_cpu_ms):.1f} | {len(ms)} |")
    for line in cost_notes:
        print(f"\n{line}")
    import kmspolicy.bridge

    if not (Path(kmspolicy.bridge.__path__[0]) / "access" / "model.py").exists():
        print("\nno access model (bridge/access) in this checkout: lib/access.rego computes access")
        return
    wall, cpu = access_model_cost(corpus)
    model = sorted(wall)
    if model:
        median = statistics.median(model)
        print("\n### Access model (bridge/access, Python) per template with a key\n")
        print("| median ms | p90 ms | mean ms | max ms | median CPU ms | templates |\n"
              "|---:|---:|---:|---:|---:|---:|")
        print(f"| {median:.2f} | {model[int(len(model) * 0.9)]:.2f} | {statistics.fmean(model):.2f} | "
              f"{model[-1]:.1f} | {statistics.median(cpu):.2f} | {len(model)} |")
        targets.append(Target("access model: <= 1 ms per template (median, corpus)", median <= 1.0,
                              f"{median:.2f} ms"))


def main(argv: list[str] | None = None) -> int:
    default_corpus = ROOT.parent / "shared" / "corpus"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path,
                        default=default_corpus if default_corpus.is_dir() else ROOT / "examples")
    parser.add_argument("--runs", type=int, default=3, help="runs per command (median)")
    parser.add_argument("--scale", type=int, default=10000, help="templates in the scaling row (0: skip)")
    parser.add_argument("--scale-runs", type=int, default=1, help="runs of the scaling rows")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of the scaling rows")
    parser.add_argument("--bench-venv", type=Path, default=ROOT / ".bench-venv")
    parser.add_argument("--no-tools", action="store_true", help="kmspolicy only")
    parser.add_argument("--rules", action="store_true", help="also each rule's cost")
    parser.add_argument("--engine-row", action="store_true",
                        help="only the engine and access-model cost per template")
    parser.add_argument("--pipeline-row", action="store_true",
                        help="only the per-template cost as eval analyzes (engine + bridge, Python side, "
                             "templates without a key)")
    parser.add_argument("--checkout", type=Path,
                        help="with --engine-row: measure the kmspolicy of this checkout")
    parser.add_argument("--policies-against", type=Path, metavar="DIR",
                        help="only the embedded engine's cost with DIR's policies and with this "
                             "checkout's, measured alternately on each corpus input")
    args = parser.parse_args(argv)
    corpus = args.corpus.resolve()
    if not corpus.is_dir():
        parser.error(f"{corpus}: not a folder")
    if args.checkout and not (args.engine_row or args.pipeline_row):
        parser.error("--checkout goes with --engine-row or --pipeline-row")
    if args.checkout and args.pipeline_row and not args.engine_row:
        use_checkout(args.checkout.resolve())
    if args.policies_against:
        print(f"# kmspolicy policies compared\n\ncorpus: `{_shown(corpus)}`, load {_load()}")
        print_policy_pair(corpus, args.policies_against.resolve())
        print(f"\nload at the end {_load()}")
        return 0
    if args.engine_row:
        if args.checkout:
            use_checkout(args.checkout.resolve())
        shown = _shown(args.checkout.resolve()) if args.checkout else "this checkout"
        print(f"# kmspolicy engine cost: {shown}\n\ncorpus: `{_shown(corpus)}` "
              f"({len(template_files(corpus))} templates), Python {sys.version.split()[0]}, "
              f"load {os.getloadavg()[0]:.2f}")
        print_engine_costs(corpus, [], embedded_only=True)
        return 0
    if args.pipeline_row:
        targets = []
        shown = _shown(args.checkout.resolve()) if args.checkout else "this checkout"
        print(f"# kmspolicy per-template cost: {shown}\n\ncorpus: `{_shown(corpus)}`, load {_load()}")
        print_pipeline_costs(corpus, targets)
        for target in targets:
            print(f"\n- {target.text}: {target.measured}")
        return 0
    from kmspolicy.bridge.pipeline import ENGINES

    one = ROOT / "examples" / "seed" / "template.yaml"
    bench_bin = None if args.no_tools else ensure_bench_venv(args.bench_venv)
    targets: list[Target] = []

    print(f"# kmspolicy benchmark\n\ncorpus: `{_shown(corpus)}` ({len(template_files(corpus))} "
          f"templates), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, median of "
          f"{args.runs} runs, load average at the start {_load()}")

    side = bench_rows(tool_commands(corpus, bench_bin), args.runs)
    kms = side["kmspolicy"]
    ones = {"kmspolicy --jobs 1": kmspolicy_command("eval", str(corpus), "--jobs", "1"),
            "kmspolicy --engine opa": kmspolicy_command("eval", str(corpus), "--engine", "opa")}
    single = bench_rows(ones, args.runs)
    print_table("The corpus, side by side", [kms, *single.values(),
                                             *(r for k, r in side.items() if k != "kmspolicy")], kms)
    if "checkov" in side:
        ratio = side["checkov"].median("wall") / kms.median("wall")
        targets.append(Target("corpus: >= 15x faster than checkov --skip-download (wall, default --jobs)",
                              ratio >= 15, f"{ratio:.1f}x"))
        ratio = side["cfn-lint"].median("wall") / kms.median("wall")
        targets.append(Target("corpus: >= 5x faster than cfn-lint (wall)", ratio >= 5, f"{ratio:.1f}x"))
        share = kms.median("tree_kb") / side["checkov"].median("tree_kb")
        targets.append(Target("corpus: peak memory <= 1/2 of checkov's (process-tree PSS)", share <= 0.5,
                              f"{share:.2f}"))
    else:
        targets.append(Target("corpus: >= 15x faster than checkov --skip-download (wall, default --jobs)",
                              None, "not measured: checkov is not in the bench venv"))

    cold_commands = tool_commands(one, bench_bin)
    no_cache = "kmspolicy, no compiled-bundle cache"
    cold_commands[no_cache] = cold_commands["kmspolicy"]
    cold = bench_rows(cold_commands, args.runs, envs={no_cache: bench_env(KMSPOLICY_CACHE_DIR="off")})
    print_table(f"One template, cold: a new process (`{_shown(one)}`)", list(cold.values()),
                cold["kmspolicy"])
    cold_wall = cold["kmspolicy"].median("wall")
    targets.append(Target("1 template cold: <= 0.3 s wall", cold_wall <= 0.3, f"{cold_wall:.2f} s"))
    total_ms, heavy = import_times(max(args.runs, 3))
    print(f"\n`python -X importtime -c 'import kmspolicy.cli.main'`: {total_ms:.0f} ms (median); "
          "heaviest imports made by kmspolicy modules (cumulative ms):\n")
    print("| module | ms |\n|---|---:|")
    for name, ms in heavy:
        print(f"| {name} | {ms:.1f} |")

    if args.scale:
        with tempfile.TemporaryDirectory(prefix="kmspolicy-bench-") as temp:
            tree = Path(temp) / "org"
            made = scaled_tree(corpus, args.scale, tree)
            jobs = ["--jobs", str(args.jobs)]
            commands = {
                f"1 template, --jobs {args.jobs}": kmspolicy_command("eval", str(one), *jobs),
                f"corpus ({len(template_files(corpus))}), --jobs {args.jobs}":
                    kmspolicy_command("eval", str(corpus), *jobs),
                f"{made} templates, --jobs {args.jobs}": kmspolicy_command("eval", str(tree), *jobs),
            }
            if "opa" in ENGINES:
                commands[f"{made} templates, --jobs {args.jobs} --engine opa"] = kmspolicy_command(
                    "eval", str(tree), *jobs, "--engine", "opa")
            scaling = bench_rows(commands, args.scale_runs, warm_up=False)
        rows = list(scaling.values())
        print_table(f"Scaling (the corpus repeated in nested folders, --jobs {args.jobs})", rows)
        big, small = rows[2], rows[1]
        targets.append(Target(f"{made} templates: <= 120 s with --jobs {args.jobs}",
                              big.median("wall") <= 120, f"{big.median('wall'):.1f} s"))
        if len(rows) > 3:
            targets.append(Target(f"{made} templates, --engine opa: <= 30 s with --jobs {args.jobs}",
                                  rows[3].median("wall") <= 30, f"{rows[3].median('wall'):.1f} s"))
        else:
            targets.append(Target(f"{made} templates, --engine opa: <= 30 s with --jobs {args.jobs}",
                                  None, "not measured: no --engine opa in this checkout"))
        largest = big.median("rss_max_kb") / small.median("rss_max_kb")
        tree = big.median("tree_kb") / small.median("tree_kb")
        targets.append(Target(f"memory flat: {made} templates vs the corpus, largest process and "
                              "process tree each <= 1.5x", max(largest, tree) <= 1.5,
                              f"{largest:.2f}x, {tree:.2f}x"))

    print_engine_costs(corpus, targets)
    print_pipeline_costs(corpus, targets)

    if args.rules:
        print("\n### Cost of each rule package alone (embedded, median ms/template)\n")
        print("| package | ms |\n|---|---:|")
        for name, ms in rule_costs(corpus):
            print(f"| {name} | {ms:.1f} |")

    print(f"\n### Targets (issue 21; load average at the end {_load()})\n")
    print("| target | measured | met |\n|---|---:|---|")
    for target in targets:
        met = "n/a" if target.met is None else "yes" if target.met else "**no**"
        print(f"| {target.text} | {target.measured} | {met} |")
    return 0


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path, ROOT)
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
