"""Runs simulations through iam-simulate (simulate.mjs): a few node processes, kept busy.

`Referee` starts one node process per CPU and streams simulations to them as they are
asked (`ask` returns at once; `answers` waits), so that Python builds the next template's
requests while node decides the last one's. Each distinct simulation is asked once per
Referee (equal simulations have equal texts; equivalent actions are asked as one,
equivalent.py), and each policy document is sent once per process and then named by a
number (simulate.mjs: the `policy` and `id` lines).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from .equivalent import Canonicalizer

HERE = Path(__file__).parent
SCRIPT = HERE / "simulate.mjs"
PACKAGE = HERE / "node_modules" / "@cloud-copilot" / "iam-simulate"
CHUNK = 250  # simulations handed to one process at a time


def missing() -> str | None:
    """Why the referee cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not PACKAGE.is_dir():
        return "tests/oracle/node_modules is missing: run `make oracle-deps`"
    return None


class RefereeError(RuntimeError):
    pass


class _Worker:
    """One node process: lines written by a writer thread, answers read by a reader thread."""

    def __init__(self, answers: dict, ready: threading.Condition):
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self.proc = subprocess.Popen(["node", str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True, cwd=HERE, bufsize=1 << 16)
        self.known: set[int] = set()  # policy numbers this process has been sent
        self.outstanding = 0
        self._lines: list[str | None] = []
        self._more = threading.Condition()
        self._answers, self._ready = answers, ready
        self.failed: str | None = None
        self._threads = [threading.Thread(target=self._write, daemon=True),
                         threading.Thread(target=self._read, daemon=True)]
        for thread in self._threads:
            thread.start()

    def send(self, lines: list[str], count: int) -> None:
        with self._ready:
            self.outstanding += count
        with self._more:
            self._lines += lines
            self._more.notify()

    def close(self) -> None:
        with self._more:
            self._lines.append(None)
            self._more.notify()

    def _write(self) -> None:
        try:
            while True:
                with self._more:
                    while not self._lines:
                        self._more.wait()
                    lines, self._lines = self._lines, []
                closing = None in lines
                self.proc.stdin.write("".join(lines[:lines.index(None)] if closing else lines))
                self.proc.stdin.flush()
                if closing:
                    self.proc.stdin.close()
                    return
        except (BrokenPipeError, OSError) as exc:
            self._fail(f"writing to simulate.mjs: {exc}")

    def _read(self) -> None:
        for line in self.proc.stdout:
            item = json.loads(line)
            with self._ready:
                self._answers[item["id"]] = item
                self.outstanding -= 1
                self._ready.notify_all()
        code = self.proc.wait()
        with self._ready:
            unanswered = self.outstanding
        if code != 0 or unanswered > 0:
            self.stderr.seek(0)
            self._fail(f"simulate.mjs exited {code} with {unanswered} requests unanswered: "
                       f"{self.stderr.read()[-2000:]}")

    def _fail(self, why: str) -> None:
        with self._ready:
            self.failed = self.failed or why
            self._ready.notify_all()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()
        self.stderr.close()


class Referee:
    """Decisions for simulations, each distinct one asked once (see the module docstring)."""

    def __init__(self, processes: int | None = None):
        self._canonicalizer = Canonicalizer()
        self._answers: dict[int, dict] = {}
        self._ready = threading.Condition()
        self._numbers: dict[str, int] = {}  # simulation text -> its number
        self._pending: list[tuple[int, str]] = []  # asked, not yet handed to a process
        self._policy_by_id: dict[int, tuple[object, int]] = {}  # id(document) -> (document, number)
        self._policy_by_text: dict[str, int] = {}
        self._policy_texts: list[str] = []
        self._uses: dict[int, tuple[int, ...]] = {}  # simulation number -> policy numbers it names
        self._lists: dict[int, tuple] = {}  # id(policy list) -> (list, text, numbers)
        self._workers = [_Worker(self._answers, self._ready) for _ in range(max(1, processes or os.cpu_count() or 1))]

    def __enter__(self) -> Referee:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.close()
        for worker in self._workers:
            worker.join()

    def _policy(self, document) -> int:
        """The number of a policy document (equal documents share one)."""
        known = self._policy_by_id.get(id(document))
        if known is not None and known[0] is document:
            return known[1]
        text = json.dumps(document)
        number = self._policy_by_text.setdefault(text, len(self._policy_texts))
        if number == len(self._policy_texts):
            self._policy_texts.append(text)
        self._policy_by_id[id(document)] = (document, number)  # the document kept alive with its id
        return number

    def _named(self, entries: list[dict]) -> tuple[str, tuple[int, ...]]:
        """A policy list ([{"name", "policy"}]) as the text [[name, number], ...], and the
        numbers; cached by the list's identity (cells.py shares one list per caller)."""
        known = self._lists.get(id(entries))
        if known is None or known[0] is not entries:
            numbers = tuple(self._policy(p["policy"]) for p in entries)
            text = json.dumps([[p["name"], n] for p, n in zip(entries, numbers, strict=True)])
            known = self._lists[id(entries)] = (entries, text, numbers)  # the list kept alive with its id
        return known[1], known[2]

    def _encode(self, sim: dict) -> tuple[str, tuple[int, ...]]:
        """A simulation's text with its policies named by number, and those numbers."""
        if sim.get("serviceControlPolicies") or sim.get("resourceControlPolicies"):
            raise RefereeError("organization policies are not sent by number")
        identity, numbers = self._named(sim.get("identityPolicies") or [])
        boundary = "null"
        if "permissionBoundaryPolicies" in sim:
            boundary, more = self._named(sim["permissionBoundaryPolicies"] or [])
            numbers += more
        resource = "null"
        if sim.get("resourcePolicy") is not None:
            number = self._policy(sim["resourcePolicy"])
            resource, numbers = str(number), numbers + (number,)
        text = f'"request": {json.dumps(sim["request"])}, "identity": {identity}, "boundary": {boundary}, ' \
               f'"resource": {resource}'
        return text, numbers

    def ask(self, simulations: list[dict]) -> list[int]:
        """Start deciding `simulations`; returns their numbers, for `answers`."""
        numbers = []
        for sim in simulations:
            text, policies = self._encode(self._canonicalizer.canonical(sim))
            number = self._numbers.get(text)
            if number is None:
                number = self._numbers[text] = len(self._numbers)
                self._uses[number] = policies
                self._pending.append((number, text))
            numbers.append(number)
        while len(self._pending) >= CHUNK:
            self._dispatch(self._pending[:CHUNK])
            self._pending = self._pending[CHUNK:]
        return numbers

    def _dispatch(self, batch: list[tuple[int, str]]) -> None:
        with self._ready:
            worker = min(self._workers, key=lambda w: w.outstanding)
        lines = []
        for number, text in batch:
            for policy in self._uses.pop(number):
                if policy not in worker.known:
                    worker.known.add(policy)
                    lines.append(f'{{"policy": {policy}, "document": {self._policy_texts[policy]}}}\n')
            lines.append(f'{{"id": {number}, {text}}}\n')
        worker.send(lines, len(batch))

    def answers(self, numbers: list[int]) -> list[dict]:
        """The decisions for numbers `ask` returned, in order (waits for them)."""
        if self._pending:
            self._dispatch(self._pending)
            self._pending = []
        with self._ready:
            for number in numbers:
                while number not in self._answers:
                    failed = next((w.failed for w in self._workers if w.failed), None)
                    if failed:
                        raise RefereeError(failed)
                    self._ready.wait()
            return [self._answers[n] for n in numbers]


def simulate(simulations: list[dict], processes: int | None = None) -> list[dict]:
    """Decisions for `simulations`, in order (one Referee for them)."""
    if not simulations:
        return []
    with Referee(processes) as referee:
        return referee.answers(referee.ask(simulations))
