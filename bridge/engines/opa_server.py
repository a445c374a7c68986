"""A remote OPA server as the engine, through `opa-python-client` (REST API v1).

Two modes. With `push`, the policy modules are uploaded (`PUT /v1/policies/{id}`, under
ids prefixed `kmspolicy-push/`; stale ones from an earlier push are deleted) with the
config (`PUT /v1/data/kmspolicy/config`) and any other bundle data, for a server
dedicated to this run. Without it the server is expected to serve the guardrail bundle
already (`opa run --server --bundle guardrails.tar.gz`); the entrypoint is checked once
and the rule catalog and config are read back from the server.

Before any template, the server must show that it holds the kmspolicy rules: its policy
list (the rule catalog the reports are built from) has the `kmspolicy.main` module that
defines `findings` and at least one rule module with a METADATA id, and after a push
every uploaded module, unchanged. A server that answers `{"result": []}` without them
(no policies, or data standing in for the rules) is refused, not trusted as "clean". Then
a probe: the canary (bridge/canary.py, a key anyone can use) must come back with findings,
so rules that are there but never fire are refused too.

Each template is one `POST /v1/data/kmspolicy/main/findings` with `{"input": …}` over a
keep-alive session (the engine may be shared between threads). Every request has a total
deadline (`timeout`, --opa-timeout), refuses redirects and answers over
`max_response_bytes` (http_guard.py). An undefined result, an HTTP error, a TLS or
connection failure and a timeout all raise `EngineError`: never an empty, clean-looking
result.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from . import ENTRYPOINT, EngineError, as_findings
from .http_guard import GuardedSession, RedirectRefused, ResponseTooLarge

PUSH_PREFIX = "kmspolicy-push/"
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
MAIN_PACKAGE = "kmspolicy.main"
FINDINGS_RULE = re.compile(r"^findings\b", re.MULTILINE)
DATA_REF = re.compile(r"\bdata\.([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)")
PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


class OpaServerEngine:
    name = "opa-server"
    max_concurrency = 10  # requests' default connection pool: at most this many in flight

    def __init__(self, url: str, *, modules: dict[str, str] | None = None,
                 data: dict | None = None, canary: dict | None = None, push: bool = False, token: str | None = None,
                 ca_cert: str | None = None, timeout: float = 10.0, query: str = ENTRYPOINT,
                 max_response_bytes: int = MAX_RESPONSE_BYTES):
        import opa_client

        self.url = url.rstrip("/")
        self.timeout = timeout
        self.package, _, self.rule = query.removeprefix("data.").rpartition(".")
        self.query = query
        scheme, host, port, prefix = _parse_url(self.url)
        if ca_cert and scheme != "https":
            raise EngineError(f"--opa-ca-cert needs an https:// OPA URL, not {self.url}")
        self._client = opa_client.OpaClient(
            host=host, port=port, ssl=(ca_cert or True) if scheme == "https" else False,
            token=token or None, timeout=timeout, retries=1)
        self._client.root_url = f"{scheme}://{host}:{port}{prefix}/v1"
        self._client._session = GuardedSession.replacing(  # the client offers no hook for this
            self._client._session, timeout, max_response_bytes)
        if ca_cert:
            _pin_ca(self._client, ca_cert)
        self._health_url = f"{scheme}://{host}:{port}{prefix}/health"
        self._held: dict[str, str] | None = None
        self._check_reachable()
        if push:
            self._push(modules or {}, data or {})
        else:
            self._check_entrypoint()
        self._check_rules({PUSH_PREFIX + name: source for name, source in (modules or {}).items()}
                          if push else {})
        if canary is not None:
            self._check_canary(canary)

    # --- set-up ------------------------------------------------------------------------

    def _check_reachable(self) -> None:
        try:
            if self._client._session.get(self._health_url).status_code == 200:
                return
            self._client.check_connection()
        except Exception as exc:  # noqa: BLE001 - every failure becomes one clear EngineError
            raise self._error("cannot reach the OPA server", exc) from None
        raise EngineError(f"{self.url}: the OPA server reports that it is not healthy (GET /health)")

    def _check_rules(self, pushed: dict[str, str]) -> None:
        """The server holds the kmspolicy rules (and, after a push, what was pushed)."""
        from ..rules import RuleMetadataError, catalog_from_modules

        held = self.remote_modules()
        changed = sorted(pid for pid, source in pushed.items() if held.get(pid.lstrip("/")) != source)
        if changed:
            raise EngineError(f"{self.url}: the OPA server does not hold the policies just uploaded "
                              f"({', '.join(changed[:3])}{' …' if len(changed) > 3 else ''}): "
                              "its answers cannot be trusted")
        main = [pid for pid, source in held.items() if _package(source) == MAIN_PACKAGE
                and FINDINGS_RULE.search(source)]
        try:
            rules = catalog_from_modules(held)
        except RuleMetadataError as exc:
            raise EngineError(f"{self.url}: the rule catalog on the OPA server is invalid: {exc}") from None
        if not main or not rules:
            missing = "the kmspolicy.main module that gathers the findings" if not main \
                else "a rule module with a METADATA id"
            raise EngineError(
                f"{self.url}: the OPA server does not hold the kmspolicy rules (of its {len(held)} "
                f"{'policy' if len(held) == 1 else 'policies'}, none is {missing}), so an empty "
                "answer would not mean clean: "
                "serve the guardrail bundle there (opa run --server --bundle guardrails.tar.gz) "
                "or upload the policies with --opa-push")

    def _check_canary(self, canary: dict) -> None:
        """The server's rules report on a key anyone can use: they do fire."""
        if not self.findings(canary):
            raise EngineError(
                f"{self.url}: the OPA server's {self.query} reports nothing for a key anyone can use "
                "(kmspolicy's canary template): its rules do not fire, so an empty answer would not "
                "mean clean")

    def _push(self, modules: dict[str, str], data: dict) -> None:
        wanted = {PUSH_PREFIX + name: source for name, source in modules.items()}
        stale = {pid: self._raw(pid)
                 for pid in self._call("list policies", self._client.get_policies_list)
                 if pid.startswith(PUSH_PREFIX) and pid not in wanted}
        for policy_id in reversed(upload_order(stale)):  # users before what they use
            self._call(f"delete stale policy {policy_id}", self._client.delete_policy, policy_id)
        for key, value in sorted(data.items()):
            parts = [(f"{key}/{sub}", item) for sub, item in value.items()] \
                if key == "kmspolicy" and isinstance(value, dict) else [(key, value)]
            for path, item in parts:
                if not isinstance(item, dict):
                    raise EngineError(f"cannot upload data at {path}: it must be an object")
                self._call(f"upload data {path}", self._client.update_or_create_data, item, path)
        for policy_id in upload_order(wanted):
            self._call(f"upload policy {policy_id}", self._client.update_policy_from_string,
                       wanted[policy_id], policy_id, False)

    def _check_entrypoint(self) -> None:
        import opa_client.errors as opa_errors

        path = f"{self.package.replace('.', '/')}/{self.rule}"
        try:
            self._client.get_data(path)
        except opa_errors.PolicyNotFoundError as exc:
            if exc.expression in ("PolicyNotFoundError", None):
                raise EngineError(
                    f"{self.url}: the OPA server has no {self.query}: serve the guardrail bundle "
                    "there (opa run --server --bundle guardrails.tar.gz; see `kmspolicy bundle "
                    "build`) or upload the policies with --opa-push") from None
            raise self._error(f"cannot read {self.query}", exc) from None
        except Exception as exc:  # noqa: BLE001
            raise self._error(f"cannot read {self.query}", exc) from None

    def remote_modules(self) -> dict[str, str]:
        """{policy id: Rego source} of every module the server holds (for the rule catalog),
        as read when the engine was set up."""
        if self._held is None:
            self._held = {policy_id.lstrip("/"): self._raw(policy_id)
                          for policy_id in self._call("list policies", self._client.get_policies_list)}
        return dict(self._held)

    def _raw(self, policy_id: str) -> str:
        policy = self._call(f"read policy {policy_id}", self._client.get_policy, policy_id)
        raw = (policy.get("result") or {}).get("raw") if isinstance(policy, dict) else None
        if not isinstance(raw, str):
            raise EngineError(f"{self.url}: policy {policy_id} has no Rego source on the server")
        return raw

    def remote_config(self) -> dict:
        """The server's `data.kmspolicy.config` ({} when it has none)."""
        import opa_client.errors as opa_errors

        try:
            value = self._client.get_data("kmspolicy/config").get("result")
        except opa_errors.PolicyNotFoundError as exc:
            if exc.expression in ("PolicyNotFoundError", None):
                return {}
            raise self._error("cannot read data.kmspolicy.config", exc) from None
        except Exception as exc:  # noqa: BLE001
            raise self._error("cannot read data.kmspolicy.config", exc) from None
        if not isinstance(value, dict):
            raise EngineError(f"{self.url}: data.kmspolicy.config on the server is not an object")
        return value

    # --- evaluation --------------------------------------------------------------------

    def evaluate(self, input_doc: dict) -> Any:
        try:
            answer = self._client.query_rule(input_doc, self.package, self.rule)
        except Exception as exc:  # noqa: BLE001
            raise self._error(f"evaluating {self.query} failed", exc) from None
        if not isinstance(answer, dict) or "result" not in answer:
            raise EngineError(f"{self.url}: {self.query} is undefined on the OPA server (is the "
                              "guardrail bundle loaded?)")
        return answer["result"]

    def findings(self, input_doc: dict) -> list[dict]:
        return as_findings(self.evaluate(input_doc), f"{self.url}: {self.query}")

    def close(self) -> None:
        self._client.close_connection()

    # --- errors ------------------------------------------------------------------------

    def _call(self, what: str, fn, *args):
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001
            raise self._error(f"cannot {what}", exc) from None

    def _error(self, what: str, exc: BaseException) -> EngineError:
        return EngineError(f"{self.url}: {what}: {describe_failure(exc, self.timeout)}")


def describe_failure(exc: BaseException, timeout: float) -> str:
    """One sentence for a failed request: TLS, timeout, connection, HTTP status, OPA error."""
    import requests

    cause = exc.__cause__ if isinstance(exc.__cause__, requests.RequestException) else exc
    if isinstance(cause, requests.exceptions.SSLError):
        return (f"TLS failed ({_short(cause)}); give the server's CA certificate with "
                "--opa-ca-cert")
    if isinstance(cause, RedirectRefused):
        return (f"the server answered with a redirect ({cause}), which is refused: give the "
                "final URL in --opa-url")
    if isinstance(cause, ResponseTooLarge):
        return f"the answer is larger than {_size(cause.limit)}, which is refused"
    if isinstance(cause, requests.exceptions.Timeout):
        return f"no complete answer within {timeout:g} s (--opa-timeout, the limit per request)"
    if isinstance(cause, requests.exceptions.ConnectionError):
        return f"connection failed ({_short(cause)})"
    if isinstance(cause, requests.exceptions.HTTPError) and cause.response is not None:
        return _http_failure(cause.response.status_code, _body_message(cause.response))
    if _is_opa_error(cause):
        code, message = getattr(cause, "expression", None), getattr(cause, "message", "")
        details = "; ".join(e.get("message", "") for e in getattr(cause, "errors", None) or []
                            if isinstance(e, dict))
        if code == "unauthorized":
            return _http_failure(401, message)
        text = f"{code}: {message}" if code else str(message)
        return f"{text}{': ' + details if details else ''}"[:1000]
    if isinstance(cause, ValueError):
        return f"the server's answer is not OPA's JSON ({_short(cause)})"
    return _short(cause) or type(cause).__name__


def _size(limit: int) -> str:
    return f"{limit / (1 << 20):g} MiB" if limit >= 1 << 20 else f"{limit / 1024:g} KiB"


def _http_failure(status: int, message: str) -> str:
    if status in (401, 403):
        return (f"HTTP {status}: the server refused the request ({message or 'unauthorized'}); "
                "check --opa-token / KMSPOLICY_OPA_TOKEN")
    return f"HTTP {status}{': ' + message if message else ''}"


def _body_message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _short(response.text)
    if isinstance(body, dict):
        errors = "; ".join(e.get("message", "") for e in body.get("errors") or []
                           if isinstance(e, dict))
        return " ".join(x for x in (str(body.get("message", "")), errors) if x)[:1000]
    return _short(body)


def _is_opa_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("opa_client")


def _short(value: Any) -> str:
    return " ".join(str(value).split())[:300]


def _pin_ca(client, ca_cert: str) -> None:
    """Verify the server against `ca_cert` only. requests lets REQUESTS_CA_BUNDLE and
    CURL_CA_BUNDLE override a session's `verify`, so the CA is set on every send instead."""
    from requests.adapters import HTTPAdapter

    class PinnedCA(HTTPAdapter):
        def send(self, request, **kwargs):
            kwargs["verify"] = ca_cert
            return super().send(request, **kwargs)

    session = client._session  # the client offers no public hook for this
    session.mount("https://", PinnedCA(max_retries=session.get_adapter("https://x").max_retries))


def _parse_url(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EngineError(f"--opa-url must be http(s)://HOST[:PORT][/PATH], not {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise EngineError("--opa-url takes no user, password, query or fragment "
                          "(give a token with --opa-token)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise EngineError(f"--opa-url has an invalid port: {url!r}") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return parts.scheme, host, port, parts.path.rstrip("/")


def _package(source: str) -> str:
    match = PACKAGE.search(source)
    return match.group(1) if match else ""


def upload_order(modules: dict[str, str]) -> list[str]:
    """Module ids with every module after those whose packages it refers to: a real OPA
    server compiles each upload and rejects a call to a function it does not have yet."""
    packages = {mid: _package(src) for mid, src in modules.items()}
    needs: dict[str, set[str]] = {}
    for mid, source in modules.items():
        refs = set(DATA_REF.findall(source))
        needs[mid] = {other for other, package in packages.items()
                      if other != mid and package
                      and any(_related(ref, package) for ref in refs)}
    order: list[str] = []
    pending = sorted(modules)
    while pending:
        ready = [mid for mid in pending if needs[mid] <= set(order)] or pending[:1]
        order.extend(ready)
        pending = [mid for mid in pending if mid not in ready]
    return order


def _related(ref: str, package: str) -> bool:
    """`data.<ref>` reads the package, something inside it, or a tree that holds it."""
    return ref == package or ref.startswith(package + ".") or package.startswith(ref + ".")
