"""The OPA engines: a remote OPA server (over loopback, evaluated by the real OPA engine)
and the opa binary, against the embedded engine; and every way they can fail."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmspolicy.bridge.bundle import build_bundle, load_bundle, policy_set
from kmspolicy.bridge.engines import EngineError
from kmspolicy.bridge.engines.embedded import EmbeddedEngine
from kmspolicy.bridge.load import load_template
from kmspolicy.bridge.normalize import normalize
from kmspolicy.bridge.pack_checks import compile_with_opa
from kmspolicy.bridge.pipeline import PolicySet, make_engine
from kmspolicy.cli.config import load_config
from kmspolicy.cli.main import main

from .conftest import ROOT, example_templates, require_in_ci

require_in_ci("opa_bindings")
from .opa_test_server import OpaTestServer  # noqa: E402 - needs opa_bindings

ORG = ROOT / "examples" / "org-bundle"
NO_OPA = "no opa binary on PATH: install OPA to run these against the real opa"


def inputs() -> list[tuple[str, dict]]:
    out = []
    for path in example_templates():
        loaded = load_template(str(path))
        normalized = normalize(loaded.document, str(path.relative_to(ROOT)))
        if normalized.input["keys"]:
            out.append((path.parent.name, normalized.input))
    return out


def canonical(findings) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in findings)


TINY_RULE = """# METADATA
# title: Every key
# custom:
#   id: TINY001
#   severity: info
package kmspolicy.rules.tiny

findings contains {"rule": "TINY001", "resource": key.id, "path": key.path, "message": "a key",
	"related": []} if {
	some key in input.keys
}
"""


def tiny_policies() -> PolicySet:
    """main.rego and one rule: quick to push where the test is about the transport."""
    main_rego = PolicySet.builtin().modules["kmspolicy/main.rego"]
    return PolicySet({"kmspolicy/main.rego": main_rego, "kmspolicy/rules/tiny.rego": TINY_RULE})


@pytest.fixture(scope="module")
def org_policies() -> PolicySet:
    return policy_set([load_bundle(str(ORG / "policies"))], load_config(str(ORG / "org.yaml")))


@pytest.fixture(scope="module")
def embedded(org_policies) -> EmbeddedEngine:
    return EmbeddedEngine(org_policies.modules, org_policies.data())


@pytest.fixture(scope="module")
def examples() -> list[tuple[str, dict]]:
    return inputs()


@pytest.fixture(scope="module")
def pushed(org_policies):
    """A server the org policies were pushed to, and the engine that pushed them."""
    server = OpaTestServer(token="s3cret")
    engine = make_engine(org_policies, "opa-server", url=server.url, push=True, token="s3cret",
                         timeout=5)
    yield server, engine
    engine.close()
    server.close()


@pytest.fixture()
def server():
    server = OpaTestServer()
    yield server
    server.close()


# --- opa-server: agreement ----------------------------------------------------------------

def test_pushed_server_gives_the_embedded_findings(pushed, embedded, examples):
    _, engine = pushed
    assert len(examples) >= 6
    for name, input_doc in examples:
        assert canonical(engine.findings(input_doc)) == canonical(embedded.findings(input_doc)), name


def test_push_uploads_every_module_and_the_config(pushed, org_policies):
    server, _ = pushed
    assert set(server.policies) == {f"kmspolicy-push/{name}" for name in org_policies.modules}
    assert server.data["kmspolicy"]["config"] == org_policies.config
    assert server.data["acme"] == {"kms": {"min_pending_window_days": 30}}
    methods = {method for method, _ in server.requests}
    assert {"PUT", "POST", "GET"} <= methods


def test_many_templates_share_one_keep_alive_connection(pushed, examples):
    server, engine = pushed
    before = server.connections
    for _, input_doc in examples * 3:
        engine.findings(input_doc)
    assert server.connections - before <= 1


def test_push_deletes_stale_policies_and_respects_dependencies(server):
    server.put_policy("kmspolicy-push/acme/lib.rego", "package acme.lib\n\nf(x) := x\n")
    server.put_policy("kmspolicy-push/kmspolicy/rules/retired.rego",
                      "package kmspolicy.rules.retired\n\nimport data.acme.lib\n\n"
                      "findings := {lib.f(1)}\n")
    server.put_policy("elsewhere.rego", "package other\n\nx := 1\n")
    policies = tiny_policies()
    make_engine(policies, "opa-server", url=server.url, push=True)
    assert set(server.policies) == {"elsewhere.rego", *(f"kmspolicy-push/{name}"
                                                        for name in policies.modules)}


def test_server_serving_the_bundle_is_used_as_is(server, org_policies, examples, embedded, tmp_path):
    bundle_file = tmp_path / "guardrails.tar.gz"
    bundle_file.write_bytes(build_bundle(org_policies.modules, org_policies.config,
                                         data=org_policies.extra_data))
    built = load_bundle(str(bundle_file))
    compile_with_opa(built.rule_modules(), built.data)  # OPA 1.20 loads it (PackError if not)
    server.serve_bundle(built)
    engine = make_engine(PolicySet.builtin(), "opa-server", url=server.url)
    assert not [m for m, _ in server.requests if m == "PUT"]
    for name, input_doc in examples:
        assert canonical(engine.findings(input_doc)) == canonical(embedded.findings(input_doc)), name
    catalog = PolicySet(engine.remote_modules(), engine.remote_config())
    assert "ORG001" in catalog.rules and "KP001" in catalog.rules
    assert catalog.config == org_policies.config


def test_upload_order_puts_libraries_before_their_users():
    from kmspolicy.bridge.engines.opa_server import upload_order

    modules = {
        "a/main.rego": "package kmspolicy.main\nx := data.kmspolicy.rules[_].findings\n",
        "b/rule.rego": "package kmspolicy.rules.r\nimport data.kmspolicy.lib.result\n",
        "c/result.rego": "package kmspolicy.lib.result\nimport data.kmspolicy.lib.text\n",
        "d/text.rego": "package kmspolicy.lib.text\n",
    }
    assert upload_order(modules) == ["d/text.rego", "c/result.rego", "b/rule.rego", "a/main.rego"]


# --- opa-server: failures are errors, never a clean result --------------------------------

def test_missing_entrypoint_says_what_to_do(server):
    with pytest.raises(EngineError, match="has no data.kmspolicy.main.findings.*--opa-push"):
        make_engine(PolicySet.builtin(), "opa-server", url=server.url)


@pytest.mark.parametrize("fail, message", [
    ({"status": 500}, r"HTTP 500: injected failure"),
    ({"status": 503}, r"HTTP 503"),
    ({"undefined": True}, r"undefined on the OPA server"),
    ({"sleep": 1.5}, r"no complete answer within 0\.5 s \(--opa-timeout, the limit per request\)"),
])
def test_evaluation_failures_raise(pushed, examples, fail, message):
    server, engine = pushed
    timeout, engine.timeout = engine.timeout, 0.5
    engine._client.timeout = 0.5
    try:
        server.fail = fail
        with pytest.raises(EngineError, match=message):
            engine.findings(examples[0][1])
    finally:
        engine.timeout = engine._client.timeout = timeout
    assert engine.findings(examples[0][1]) is not None  # the next request works again


def test_bad_token_is_401(pushed, org_policies):
    server, _ = pushed
    with pytest.raises(EngineError, match="HTTP 401.*--opa-token / KMSPOLICY_OPA_TOKEN"):
        make_engine(org_policies, "opa-server", url=server.url, token="wrong")
    with pytest.raises(EngineError, match="HTTP 401"):
        make_engine(org_policies, "opa-server", url=server.url, push=True)


def test_unreachable_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EngineError, match="cannot reach the OPA server: connection failed"):
        make_engine(PolicySet.builtin(), "opa-server", url=f"http://127.0.0.1:{port}", timeout=2)


def test_tls_to_a_plain_server_fails_clearly(server):
    url = server.url.replace("http://", "https://")
    with pytest.raises(EngineError, match="TLS failed"):
        make_engine(PolicySet.builtin(), "opa-server", url=url, timeout=2)


@pytest.mark.parametrize("url", ["ftp://opa", "opa.example.com:8181", "http://u:p@opa:8181",
                                 "http://opa:99999"])
def test_bad_urls(url):
    with pytest.raises(EngineError, match="--opa-url"):
        make_engine(PolicySet.builtin(), "opa-server", url=url)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("no openssl binary to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


def test_tls_with_and_without_the_ca_certificate(certificate, examples, monkeypatch):
    tls_server = OpaTestServer(tls=certificate)
    policies = tiny_policies()
    try:
        with pytest.raises(EngineError, match="TLS failed.*--opa-ca-cert"):
            make_engine(policies, "opa-server", url=tls_server.url, push=True, timeout=5)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca-bundle.pem")  # must not win
        engine = make_engine(policies, "opa-server", url=tls_server.url, push=True,
                             ca_cert=certificate[0], timeout=5)
        name, input_doc = examples[0]
        expected = EmbeddedEngine(policies.modules, policies.data()).findings(input_doc)
        assert expected and canonical(engine.findings(input_doc)) == canonical(expected)
    finally:
        tls_server.close()


def test_ca_certificate_needs_https(certificate):
    with pytest.raises(EngineError, match="needs an https"):
        make_engine(PolicySet.builtin(), "opa-server", url="http://127.0.0.1:1",
                    ca_cert=certificate[0])


# --- opa-server through the CLI -----------------------------------------------------------

def run_cli(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture()
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_cli_push_with_org_bundle_and_token_from_environment(pushed, in_root):
    server, _ = pushed
    result = run_cli("eval", "--engine", "opa-server", "--opa-url", server.url, "--opa-push",
                     "--bundle", "examples/org-bundle/policies", "--config",
                     "examples/org-bundle/org.yaml", "-f", "json", "--jobs", "2",
                     "examples/org-bundle/template.yaml", "examples/seed/template.yaml",
                     env={"KMSPOLICY_OPA_TOKEN": "s3cret"})
    doc = json.loads(result.output)
    assert doc["errors"] == []
    org = [(f["rule"], f["severity"], f["line"]) for f in doc["findings"]
           if f["file"] == "examples/org-bundle/template.yaml"]
    assert org == [("ORG001", "high", 14)]
    assert result.exit_code == 1


def test_cli_evaluation_failure_is_exit_2_with_an_engine_error(pushed, in_root):
    server, _ = pushed
    server.fail = None
    args = ["eval", "--engine", "opa-server", "--opa-url", server.url, "--opa-token", "s3cret",
            "-f", "json", "examples/org-bundle/template.yaml"]
    ok = run_cli(*args)
    assert ok.exit_code == 1, ok.output
    server.fail = {"status": 500, "method": "POST", "skip": 1}  # the canary probe passes, the template fails
    failed = run_cli(*args)
    doc = json.loads(failed.output)
    assert failed.exit_code == 2
    assert doc["findings"] == [] and doc["files"][0]["status"] == "error"
    assert doc["errors"][0]["kind"] == "engine" and "HTTP 500" in doc["errors"][0]["message"]


def test_cli_server_down_is_one_line_exit_2(in_root):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("eval", "--engine", "opa-server", "--opa-url", f"http://127.0.0.1:{port}",
                     "examples/seed/template.yaml")
    assert result.exit_code == 2
    assert "cannot reach the OPA server" in result.output
    assert "Traceback" not in result.output and "No findings" not in result.output


def test_cli_without_push_refuses_local_bundles(in_root):
    result = run_cli("eval", "--engine", "opa-server", "--opa-url", "http://127.0.0.1:1",
                     "--bundle", "examples/org-bundle/policies", "examples/seed/template.yaml")
    assert result.exit_code == 2
    assert "--opa-push" in result.output


# --- opa-cli ------------------------------------------------------------------------------

@pytest.fixture()
def fake_opa(tmp_path):
    """An `opa` on a private PATH folder that runs tests/fake_opa.py."""
    script = tmp_path / "opa"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} {Path(__file__).parent / 'fake_opa.py'} \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_opa_cli_stand_in_gives_the_embedded_findings(fake_opa, org_policies, embedded, examples):
    engine = make_engine(org_policies, "opa-cli", opa_path=fake_opa)
    assert "stand-in" in engine.version
    for name, input_doc in examples[:3]:
        assert canonical(engine.findings(input_doc)) == canonical(embedded.findings(input_doc)), name
    engine.close()


@pytest.mark.parametrize("env, message", [
    ({"FAKE_OPA_FAIL": "1"}, r"opa eval failed \(exit 1\): rego_type_error: injected failure"),
    ({"FAKE_OPA_UNDEFINED": "1"}, r"is undefined \(opa eval\)"),
    ({"FAKE_OPA_SLEEP": "3"}, r"did not finish within 1 s"),
])
def test_opa_cli_failures_raise(fake_opa, monkeypatch, examples, env, message):
    engine = make_engine(PolicySet.builtin(), "opa-cli", opa_path=fake_opa, timeout=1)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(EngineError, match=message):
        engine.findings(examples[0][1])


def test_opa_cli_without_a_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineError, match="no opa binary on PATH.*--opa-path"):
        make_engine(PolicySet.builtin(), "opa-cli")
    with pytest.raises(EngineError, match="is not an executable"):
        make_engine(PolicySet.builtin(), "opa-cli", opa_path=str(tmp_path / "missing"))


def test_cli_opa_cli_engine_with_org_bundle(fake_opa, in_root):
    result = run_cli("eval", "--engine", "opa-cli", "--opa-path", fake_opa, "--bundle",
                     "examples/org-bundle/policies", "-f", "json", "examples/org-bundle/template.yaml")
    doc = json.loads(result.output)
    assert [(f["rule"], f["line"]) for f in doc["findings"]] == [("ORG001", 14)]
    assert result.exit_code == 1


# --- the real opa binary, when there is one -----------------------------------------------

real_opa = pytest.mark.skipif(shutil.which("opa") is None, reason=NO_OPA)


@real_opa
def test_real_opa_cli_gives_the_embedded_findings(org_policies, embedded, examples):
    engine = make_engine(org_policies, "opa-cli")
    for name, input_doc in examples:
        assert canonical(engine.findings(input_doc)) == canonical(embedded.findings(input_doc)), name


@pytest.fixture()
def real_opa_server(tmp_path, org_policies):
    """`opa run --server` on a free loopback port: serving the built bundle, or empty."""
    started = []

    def start(with_bundle: bool) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        args = ["opa", "run", "--server", "--addr", f"127.0.0.1:{port}"]
        if with_bundle:
            bundle = tmp_path / "guardrails.tar.gz"
            bundle.write_bytes(build_bundle(org_policies.modules, org_policies.config,
                                            data=org_policies.extra_data))
            args += ["--bundle", str(bundle)]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("opa run --server did not start")

    yield start
    for process in started:
        process.terminate()
        process.wait(10)


@real_opa
@pytest.mark.parametrize("with_bundle", [True, False], ids=["bundle", "push"])
def test_real_opa_server(real_opa_server, org_policies, embedded, examples, with_bundle):
    url = real_opa_server(with_bundle)
    engine = make_engine(org_policies, "opa-server", url=url, push=not with_bundle, timeout=10)
    for name, input_doc in examples:
        assert canonical(engine.findings(input_doc)) == canonical(embedded.findings(input_doc)), name


# --- the default stays light ---------------------------------------------------------------

def test_embedded_default_imports_no_opa_client():
    code = ("import sys\n"
            "from kmspolicy.cli.main import main\n"
            "from kmspolicy.bridge.pipeline import PolicySet, make_engine\n"
            "make_engine(PolicySet.builtin())\n"
            "print(sorted(m for m in ('opa_client', 'opa_bindings', 'requests') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"
