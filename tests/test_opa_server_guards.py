"""The opa-server engine trusts only a server that holds the kmspolicy rules, follows no
redirect, and bounds every request in time and size: each failure is one clear error."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.pipeline import PolicySet, make_engine
from kmspolicy.cli.main import main

from .conftest import EXAMPLES, require_in_ci

require_in_ci("opa_bindings")
from .opa_test_server import OpaTestServer  # noqa: E402 - needs opa_bindings
from .test_engines import tiny_policies  # noqa: E402

SEED = EXAMPLES / "seed" / "template.yaml"
NO_RULES = "does not hold the kmspolicy rules"


@pytest.fixture()
def server():
    server = OpaTestServer()
    yield server
    server.close()


class StubServer:
    """A loopback HTTP server whose every answer is `respond(handler)`."""

    def __init__(self, respond):
        handler = type("Handler", (_StubHandler,), {"respond": staticmethod(respond)})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.requests: list[str] = []
        handler.requests = self.requests
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        try:
            self.respond(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_POST = do_PUT = do_GET


def answer(handler, status: int, body: bytes = b"{}", headers: dict | None = None) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture()
def stub():
    made = []

    def start(respond) -> StubServer:
        made.append(StubServer(respond))
        return made[-1]

    yield start
    for server in made:
        server.close()


# --- the server must hold the rules ------------------------------------------------------

def test_a_server_whose_data_stands_in_for_the_rules_is_refused(server):
    server.put_data(["kmspolicy", "main", "findings"], [])  # answers {"result": []}, holds no policy
    with pytest.raises(EngineError) as caught:
        make_engine(PolicySet.builtin(), "opa-server", url=server.url)
    message = str(caught.value)
    assert NO_RULES in message and "of its 0 policies, none is the kmspolicy.main module" in message
    assert "--opa-push" in message
    assert "\n" not in message


def test_a_server_with_an_entrypoint_but_no_rule_module_is_refused(server):
    server.put_policy("main.rego", "package kmspolicy.main\n\nfindings := set()\n")
    with pytest.raises(EngineError, match=f"{NO_RULES} .of its 1 policy, none is a rule module with a METADATA id"):
        make_engine(PolicySet.builtin(), "opa-server", url=server.url)


def test_a_server_with_rules_but_no_kmspolicy_main_module_is_refused(server):
    rule = tiny_policies().modules["kmspolicy/rules/tiny.rego"]
    server.put_policy("tiny.rego", rule)
    server.put_data(["kmspolicy", "main", "findings"], [])
    with pytest.raises(EngineError, match=f"{NO_RULES} .of its 1 policy, none is the kmspolicy.main module"):
        make_engine(PolicySet.builtin(), "opa-server", url=server.url)


def test_a_server_serving_the_rules_is_trusted(server):
    policies = tiny_policies()
    for name, source in policies.modules.items():
        server.put_policy(name, source)
    engine = make_engine(PolicySet.builtin(), "opa-server", url=server.url)
    assert sorted(engine.remote_modules()) == sorted(policies.modules)


def test_a_server_whose_rules_never_fire_is_refused(server):
    """Modules that look like the rules (main, a rule with a METADATA id) but report nothing,
    not even on the canary key anyone can use."""
    silent = tiny_policies().modules["kmspolicy/rules/tiny.rego"].replace(
        "some key in input.keys", 'some key in input.keys\n\tkey.id == "no key has this id"')
    server.put_policy("main.rego", tiny_policies().modules["kmspolicy/main.rego"])
    server.put_policy("tiny.rego", silent)
    with pytest.raises(EngineError, match="reports nothing for a key anyone can use .kmspolicy's canary template.: "
                                          "its rules do not fire"):
        make_engine(PolicySet.builtin(), "opa-server", url=server.url)


def test_a_push_the_server_did_not_keep_is_refused(server, monkeypatch):
    put_policy = server.put_policy

    def keeps_a_different_module(policy_id, source):
        put_policy(policy_id, source.replace('"a key"', '"another message"'))

    monkeypatch.setattr(server, "put_policy", keeps_a_different_module)
    with pytest.raises(EngineError, match="does not hold the policies just uploaded "
                                          r"\(kmspolicy-push/kmspolicy/rules/tiny.rego\)"):
        make_engine(tiny_policies(), "opa-server", url=server.url, push=True)


def test_cli_no_rules_on_the_server_is_one_line_exit_2(server):
    server.put_data(["kmspolicy", "main", "findings"], [])
    result = CliRunner().invoke(main, ["eval", "--engine", "opa-server", "--opa-url", server.url,
                                       str(SEED)])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("kmspolicy: error: ") and NO_RULES in line


# --- no redirect, a total deadline, a size cap ---------------------------------------------

def test_a_redirect_is_refused_and_not_followed(stub):
    target = stub(lambda h: answer(h, 200))
    redirecting = stub(lambda h: answer(h, 307, headers={"Location": target.url + h.path}))
    with pytest.raises(EngineError) as caught:
        make_engine(PolicySet.builtin(), "opa-server", url=redirecting.url, token="s3cret", timeout=2)
    message = str(caught.value)
    assert "cannot reach the OPA server: the server answered with a redirect (HTTP 307 redirect to " \
           f"{target.url}/health), which is refused" in message
    assert target.requests == []  # neither the request nor the token went there


def drip(handler) -> None:
    """Headers at once, then a byte every 0.1 s: no read ever waits a whole second."""
    if handler.path == "/health":
        return answer(handler, 200)
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.1)


def test_a_server_that_dribbles_its_answer_meets_the_total_deadline(stub):
    dribbling = stub(drip)
    with pytest.raises(EngineError, match=r"no complete answer within 1 s \(--opa-timeout"):
        make_engine(PolicySet.builtin(), "opa-server", url=dribbling.url, timeout=1)


def test_an_answer_over_the_size_cap_is_refused(stub):
    def big(handler):
        if handler.path == "/health":
            return answer(handler, 200)
        handler.send_response(200)  # no Content-Length: the cap is applied as the body arrives
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"[" + b"0," * 40_000 + b"0]")

    large = stub(big)
    with pytest.raises(EngineError, match="the answer is larger than 64 KiB, which is refused"):
        make_engine(PolicySet.builtin(), "opa-server", url=large.url, timeout=5,
                    max_response_bytes=64 * 1024)


def test_a_declared_length_over_the_cap_is_refused_before_reading(stub):
    def declared(handler):
        if handler.path == "/health":
            return answer(handler, 200)
        handler.send_response(200)
        handler.send_header("Content-Length", str(1 << 30))
        handler.end_headers()

    large = stub(declared)
    with pytest.raises(EngineError, match="larger than 1 MiB"):
        make_engine(PolicySet.builtin(), "opa-server", url=large.url, timeout=5,
                    max_response_bytes=1024 * 1024)
