"""A loopback stand-in for an OPA server: the REST endpoints the opa-server engine uses,
evaluated by the real OPA engine (opa_bindings, OPA 1.20), with injectable failures.

Endpoints: GET /health; GET /v1/policies, GET|PUT|DELETE /v1/policies/{id}; GET|PUT
/v1/data/{path}; POST /v1/data/{path} with {"input": …}. As a real server does, every
policy upload is compiled with the policies already there and rejected (400) when it
does not compile, and a served bundle owns its roots (uploads under them are refused).

Failures (`server.fail`, consumed by the next request, or the next of `"method"`, after
`"skip"` such requests): {"status": 500}, {"sleep": seconds}, {"undefined": True};
`server.token` makes every request without `Authorization: Bearer <token>` a 401;
`tls=(cert, key)` serves HTTPS. Listens on 127.0.0.1 only; stopped by `close()`.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opa_bindings import OpaEngine, OpaError


class OpaTestServer:
    def __init__(self, token: str | None = None, tls: tuple[str, str] | None = None):
        self.token = token
        self.policies: dict[str, str] = {}
        self.data: dict = {}
        self.bundle_roots: list[str] = []
        self.fail: dict | None = None
        self.requests: list[tuple[str, str]] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._engine: OpaEngine | None = None
        handler = type("Handler", (_Handler,), {"opa": self})
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)

    def serve_bundle(self, bundle) -> None:
        """As `opa run --server --bundle`: its modules and data, its roots owned."""
        with self._lock:
            for name, source in bundle.modules.items():
                self.policies[f"bundle/{name}"] = source
            self.data = json.loads(json.dumps(bundle.data))
            self.bundle_roots = list(bundle.manifest.get("roots", [""]))
            self._engine = self._compile(self.policies)

    # --- the engine behind the endpoints -----------------------------------------------

    def _compile(self, policies: dict[str, str]) -> OpaEngine:
        engine = OpaEngine()
        for policy_id, source in sorted(policies.items()):
            engine.add_policy(policy_id, source)
        engine.add_data(self.data)
        engine.eval_query("true")  # compiles every module now, as an upload does in OPA
        return engine

    def put_policy(self, policy_id: str, source: str) -> None:
        with self._lock:
            candidate = {**self.policies, policy_id: source}
            self._engine = self._compile(candidate)
            self.policies = candidate

    def delete_policy(self, policy_id: str) -> bool:
        with self._lock:
            if policy_id not in self.policies:
                return False
            rest = {pid: src for pid, src in self.policies.items() if pid != policy_id}
            self._engine = self._compile(rest)
            self.policies = rest
            return True

    def put_data(self, path: list[str], value) -> None:
        with self._lock:
            target = self.data
            for part in path[:-1]:
                target = target.setdefault(part, {})
            if path:
                target[path[-1]] = value
            else:
                self.data = value
            self._engine = self._compile(self.policies)

    def evaluate(self, path: list[str], input_doc):
        with self._lock:
            engine = self._engine or self._compile(self.policies)
            self._engine = engine
        return engine.eval_document(".".join(path), input_doc)

    def owned(self, path: str) -> bool:
        return any(path == root or path.startswith(root + "/") or root == ""
                   for root in self.bundle_roots)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that rejects our certificate, or hangs up: not the test's business


class _Handler(BaseHTTPRequestHandler):
    opa: OpaTestServer
    protocol_version = "HTTP/1.1"  # keep-alive, as OPA

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.opa.connections += 1

    # --- plumbing ----------------------------------------------------------------------

    def _reply(self, status: int, body=None) -> None:
        raw = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str, errors=None) -> None:
        body = {"code": code, "message": message}
        if errors:
            body["errors"] = errors
        self._reply(status, body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _gate(self, method: str) -> bool:
        """Auth and injected failures; False when the request was answered here."""
        body = self._body() if method in ("PUT", "POST") else b""
        self._payload = body
        self.opa.requests.append((method, self.path))
        if self.opa.token and self.headers.get("Authorization") != f"Bearer {self.opa.token}":
            self._error(401, "unauthorized", "missing or invalid bearer token")
            return False
        fail = self.opa.fail
        if fail and fail.get("method", method) == method and fail.get("skip", 0) > 0:
            self.opa.fail = {**fail, "skip": fail["skip"] - 1}
            fail = None
        elif fail and fail.get("method", method) == method:
            self.opa.fail = None
        else:
            fail = None
        if fail and "sleep" in fail:
            time.sleep(fail["sleep"])
        if fail and "status" in fail:
            self._error(fail["status"], "internal_error", "injected failure")
            return False
        self._undefined = bool(fail and fail.get("undefined"))
        return True

    # --- endpoints ---------------------------------------------------------------------

    def do_GET(self) -> None:
        if not self._gate("GET"):
            return
        if self.path == "/health":
            return self._reply(200, {})
        if self.path.rstrip("/") == "/v1/policies":
            return self._reply(200, {"result": [{"id": pid, "raw": src}
                                                for pid, src in sorted(self.opa.policies.items())]})
        if self.path.startswith("/v1/policies/"):
            policy_id = self.path.removeprefix("/v1/policies/")
            if policy_id not in self.opa.policies:
                return self._error(404, "resource_not_found", f"storage_not_found_error: policy id {policy_id!r}")
            return self._reply(200, {"result": {"id": policy_id, "raw": self.opa.policies[policy_id]}})
        if self.path.startswith("/v1/data"):
            return self._data(None)
        self._error(404, "resource_not_found", "unknown endpoint")

    def do_POST(self) -> None:
        if not self._gate("POST"):
            return
        if not self.path.startswith("/v1/data"):
            return self._error(404, "resource_not_found", "unknown endpoint")
        try:
            request = json.loads(self._payload or b"{}")
        except json.JSONDecodeError:
            return self._error(400, "invalid_parameter", "body is not JSON")
        self._data(request.get("input"))

    def do_PUT(self) -> None:
        if not self._gate("PUT"):
            return
        if self.path.startswith("/v1/policies/"):
            policy_id = self.path.removeprefix("/v1/policies/")
            source = self._payload.decode("utf-8")
            package = next((line.split()[1] for line in source.splitlines()
                            if line.startswith("package ")), "")
            if self.opa.owned(package.replace(".", "/")):
                return self._error(400, "invalid_parameter",
                                   f"path {package} is owned by bundle")
            try:
                self.opa.put_policy(policy_id, source)
            except OpaError as exc:
                return self._error(400, "invalid_parameter",
                                   "error(s) occurred while compiling module(s)",
                                   [{"code": exc.code, "message": exc.message}])
            return self._reply(200, {})
        if self.path.startswith("/v1/data/"):
            path = self.path.removeprefix("/v1/data/").strip("/")
            if self.opa.owned(path):
                return self._error(400, "invalid_parameter", f"path /{path} is owned by bundle")
            self.opa.put_data(path.split("/"), json.loads(self._payload))
            return self._reply(204)
        self._error(404, "resource_not_found", "unknown endpoint")

    def do_DELETE(self) -> None:
        if not self._gate("DELETE"):
            return
        if self.path.startswith("/v1/policies/"):
            try:
                deleted = self.opa.delete_policy(self.path.removeprefix("/v1/policies/"))
            except OpaError as exc:  # OPA recompiles what remains, and refuses a broken rest
                return self._error(400, "invalid_parameter",
                                   "error(s) occurred while compiling module(s)",
                                   [{"code": exc.code, "message": exc.message}])
            if deleted:
                return self._reply(200, {})
            return self._error(404, "resource_not_found", "no such policy")
        self._error(404, "resource_not_found", "unknown endpoint")

    def _data(self, input_doc) -> None:
        path = [p for p in self.path.split("?")[0].removeprefix("/v1/data").split("/") if p]
        if self._undefined:
            return self._reply(200, {})
        try:
            value = self.opa.evaluate(path, input_doc)
        except OpaError as exc:
            if exc.code == "undefined":
                return self._reply(200, {})
            return self._error(500, "internal_error", exc.message)
        self._reply(200, {"result": value})
