"""A requests session for the OPA server engine that cannot be held open or flooded.

Every request has a total deadline: the caller gets its answer, or `DeadlineExceeded`,
within `deadline` seconds however the server dribbles its bytes (a socket timeout alone
bounds each read, not the whole). The request runs on a daemon thread the caller waits
for; one that overruns is abandoned and stops at its next read. Redirects are refused
(`RedirectRefused`): the engine talks to the URL it was given and nowhere else, and never
sends its token elsewhere. A body over `max_bytes` is refused (`ResponseTooLarge`) as it
arrives, before it is all in memory.
"""

from __future__ import annotations

import threading
import time

import requests

CHUNK = 64 * 1024


class DeadlineExceeded(requests.exceptions.Timeout):
    """No complete answer within the total deadline."""


class RedirectRefused(requests.exceptions.RequestException):
    def __init__(self, status: int, location: str):
        super().__init__(f"HTTP {status} redirect to {location or 'an unnamed location'}")
        self.status, self.location = status, location


class ResponseTooLarge(requests.exceptions.RequestException):
    def __init__(self, limit: int):
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


class GuardedSession(requests.Session):
    def __init__(self, deadline: float, max_bytes: int):
        super().__init__()
        self.deadline = deadline
        self.max_bytes = max_bytes

    @classmethod
    def replacing(cls, session: requests.Session, deadline: float, max_bytes: int) -> GuardedSession:
        """A guarded session with `session`'s headers, TLS settings and adapters."""
        guarded = cls(deadline, max_bytes)
        guarded.headers = session.headers
        guarded.verify, guarded.cert = session.verify, session.cert
        guarded.adapters = session.adapters
        return guarded

    def request(self, method, url, **kwargs):
        """As requests' own, with a caller's `timeout` (a number) as the total deadline."""
        deadline = kwargs.get("timeout")
        deadline = deadline if isinstance(deadline, (int, float)) and deadline > 0 else self.deadline
        ends = time.monotonic() + deadline
        kwargs.update(allow_redirects=False, stream=True, timeout=deadline)
        outcome: dict = {}
        done = threading.Event()

        def fetch() -> None:
            try:
                outcome["response"] = self._fetch(method, url, kwargs, ends, deadline)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=fetch, daemon=True, name="kmspolicy-opa-request").start()
        if not done.wait(deadline):
            raise DeadlineExceeded(f"no complete answer within {deadline:g} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _fetch(self, method, url, kwargs, ends: float, deadline: float) -> requests.Response:
        response = super().request(method, url, **kwargs)
        try:
            if response.is_redirect or 300 <= response.status_code < 400:
                raise RedirectRefused(response.status_code, response.headers.get("Location", ""))
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise ResponseTooLarge(self.max_bytes)
            body = bytearray()
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > self.max_bytes:
                    raise ResponseTooLarge(self.max_bytes)
                if time.monotonic() > ends:
                    raise DeadlineExceeded(f"no complete answer within {deadline:g} s")
        finally:
            response.close()
        response._content = bytes(body)  # read whole: .json() and .text work as usual
        return response
