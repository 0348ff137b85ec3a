"""HTTP actions with httpx: a templated request to an allowed host, its answer in the result.

A call cannot steer a request elsewhere:

- arguments are percent-encoded before they enter the URL template, so ``/``, ``?``, ``#``,
  ``@``, ``:`` or ``//host`` stay data; a value that is only dots (``..``) is refused;
- the final URL is parsed by httpx itself (the parser that sends the request) and its
  scheme, host and port must be on ``http.allowed_hosts``;
- redirects are followed by hand, each hop checked the same way, never from https to http;
- proxies from the environment are ignored, so the connection goes to the checked host;
- every request has a timeout (and an overall deadline), and an answer is read up to
  ``http.max_response_bytes`` and dropped beyond.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from appliance.errors import ConfigError, HttpError
from appliance.executors.pins import SharedPins
from appliance.executors.templating import check_templates, render
from appliance.messages import ActionResult, ToolCall
from appliance.settings import Config, HttpSettings
from appliance.tools import Action, Tool

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3
DEFAULT_PORTS = {"http": 80, "https": 443}
VALUE_CHARS = 1000  # a text answer is cut to this for the result
MAX_HANGING = 8  # requests past their deadline whose threads still wait on a server

ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "url"],
    "properties": {
        "kind": {"const": "http"},
        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
        "url": {"type": "string", "pattern": "^https?://",
                "description": "template; arguments are percent-encoded into it"},
        "body": {"type": "string", "description": "template for the request body"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "result": {"type": "string", "minLength": 1,
                   "description": "dotted path of the field to return from a JSON answer"},
    },
}


@dataclass(frozen=True)
class HttpAction(Action):
    """A ``kind: http`` action block."""

    template_keys: ClassVar[tuple[str, ...]] = ("url", "body")
    kind: ClassVar[str] = "http"
    url: str
    method: str = "GET"
    body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    result: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HttpAction:
        check_templates(data, cls.template_keys)
        return cls(url=data["url"], method=data.get("method", "GET"), body=data.get("body"),
                   headers=dict(data.get("headers", {})), result=data.get("result"))

    def fixed_host(self) -> str | None:
        """The URL's ``host[:port]`` when no template is in it, else ``None``."""
        authority = self.url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
        return None if "{" in authority or "%" in authority else authority


def url_value(name: str, value: Any) -> str:
    """An argument put into a URL: percent-encoded, all of it, so it stays one piece of data."""
    text = str(value)
    if text.strip(".") == "" and text:
        raise HttpError(f"argument {name}={text!r} would be a dot segment in the URL")
    return quote(text, safe="")


def parse_allowed(entries: tuple[str, ...] | list[str]) -> set[tuple[str, int | None]]:
    """``host`` or ``host:port`` entries as (host, port or None for the scheme's default)."""
    out: set[tuple[str, int | None]] = set()
    for i, entry in enumerate(entries):
        parts = urlsplit("//" + entry.strip())
        try:
            port = parts.port
        except ValueError:
            port = -1
        host = parts.hostname or ""
        if (port == -1 or not host or parts.path or parts.username or parts.query
                or parts.fragment or any(c in host for c in " /\\@")):
            raise ConfigError(f"bad entry {entry!r} (want host or host:port)",
                              path=f"http.allowed_hosts[{i}]")
        out.add((host.lower(), port))
    return out


def extract(data: Any, path: str) -> Any:
    """``a.b.0.c`` out of parsed JSON; a missing step is an error."""
    for step in path.split("."):
        if isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, dict) and step in data:
            data = data[step]
        else:
            raise HttpError(f"the answer has no {path!r} (stopped at {step!r})")
    return data


class HttpExecutor:
    """One httpx client, no automatic redirects, an allow-list checked at every hop."""

    kind = "http"

    def __init__(self, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.allowed = parse_allowed(settings.allowed_hosts)
        self._client = httpx.Client(timeout=settings.timeout_s, follow_redirects=False,
                                    trust_env=False, transport=transport)
        self._slots = threading.BoundedSemaphore(MAX_HANGING)

    def check(self, tool: Tool, url: str | httpx.URL) -> httpx.URL:
        """The URL as httpx will send it, if its scheme, host and port are allowed."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise HttpError(f"{tool.name}: not a valid URL {str(url)!r}: {exc}") from None
        if parsed.scheme not in DEFAULT_PORTS:
            raise HttpError(f"{tool.name}: scheme {parsed.scheme!r} is not allowed ({parsed})")
        host = parsed.host.lower()
        port = parsed.port or DEFAULT_PORTS[parsed.scheme]
        ok = (host, port) in self.allowed or (
            port == DEFAULT_PORTS[parsed.scheme] and (host, None) in self.allowed)
        if not ok or parsed.userinfo:
            shown = host if parsed.port is None else f"{host}:{port}"
            raise HttpError(f"{tool.name}: host {shown!r} is not in http.allowed_hosts "
                            f"({parsed.scheme}://{shown})")
        return parsed

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        action = tool.action
        if not isinstance(action, HttpAction):
            raise HttpError(f"{tool.name}: not an http action")
        url = self.check(tool, render(action.url, call.arguments, what=f"{tool.name} url",
                                      quote=url_value))
        body = (render(action.body, call.arguments, what=f"{tool.name} body")
                if action.body is not None else None)
        if dry_run:
            return ActionResult(tool.name, True, f"would {action.method} {url}"
                                + (f" with {body!r}" if body else ""))
        value, status, final = self._bounded(tool, action.method, url, body, action)
        return ActionResult(tool.name, True, f"sent {action.method} {final} -> {status}",
                            value=value)

    def _bounded(self, tool: Tool, method: str, url: httpx.URL, body: str | None,
                 action: HttpAction) -> tuple[Any, int, httpx.URL]:
        """:meth:`_request`, given up on soon after twice ``timeout_s`` whatever the server
        does.

        httpx bounds each read, not the whole: a server that trickles its headers a byte at
        a time would hold the action (and the worker running it) as long as it likes. The
        request runs in a thread of its own; the action gives up at the deadline, and at
        most ``MAX_HANGING`` such threads may still be waiting on their servers.
        """
        if not self._slots.acquire(blocking=False):
            raise HttpError(f"{tool.name}: {MAX_HANGING} HTTP requests are still hanging; "
                            "not sending another")
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["answer"] = self._request(tool, method, url, body, action)
            except Exception as exc:  # handed to the waiting action below
                box["error"] = exc
            finally:
                done.set()
                self._slots.release()

        threading.Thread(target=work, name="http", daemon=True).start()
        # A moment past the body's own deadline, so that its clearer error wins where it can.
        limit = 2 * self.settings.timeout_s + 1
        if not done.wait(limit):
            raise HttpError(f"{tool.name}: {method} {url} gave no complete answer within "
                            f"{limit:g} s, dropped")
        if "error" in box:
            raise box["error"]
        answer: tuple[Any, int, httpx.URL] = box["answer"]
        return answer

    def _request(self, tool: Tool, method: str, url: httpx.URL, body: str | None,
                 action: HttpAction) -> tuple[Any, int, httpx.URL]:
        # identity: the size cap counts the bytes that arrive, so no gzip bomb can expand
        headers = {**action.headers, "Accept-Encoding": "identity"}
        # The per-read timeout alone lets a server trickle bytes forever; bound the whole.
        deadline = time.monotonic() + 2 * self.settings.timeout_s
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with self._client.stream(method, url, content=body, headers=headers) as resp:
                    if resp.is_redirect:
                        location = resp.headers.get("location")
                        if not location:
                            raise HttpError(f"{tool.name}: {method} {url} redirected nowhere")
                        target = self.check(tool, url.join(location))
                        if url.scheme == "https" and target.scheme != "https":
                            raise HttpError(f"{tool.name}: redirect from https to {target} "
                                            "refused")
                        if resp.status_code == 303 or (resp.status_code in (301, 302)
                                                       and method == "POST"):
                            method, body = "GET", None
                        url = target
                        continue
                    data = self._read(tool, resp, deadline)
                    if resp.status_code >= 400:
                        raise HttpError(f"{tool.name}: {method} {url} answered "
                                        f"{resp.status_code} {resp.reason_phrase}")
                    return self._value(tool, data, resp, action), resp.status_code, url
            except httpx.TimeoutException:
                raise HttpError(f"{tool.name}: {method} {url} timed out after "
                                f"{self.settings.timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                raise HttpError(f"{tool.name}: {method} {url} failed: "
                                f"{type(exc).__name__}: {exc}") from None
        raise HttpError(f"{tool.name}: more than {MAX_REDIRECTS} redirects")

    def _read(self, tool: Tool, resp: httpx.Response, deadline: float) -> bytes:
        """The body, up to the cap and the deadline; a larger or slower answer is an error."""
        cap = self.settings.max_response_bytes
        too_big = f"{tool.name}: answer larger than {cap} bytes, dropped"
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise HttpError(too_big)
        data = bytearray()
        for chunk in resp.iter_raw():
            data += chunk
            if len(data) > cap:
                raise HttpError(too_big)
            if time.monotonic() > deadline:
                raise HttpError(f"{tool.name}: the answer took longer than "
                                f"{2 * self.settings.timeout_s:g} s, dropped")
        return bytes(data)

    @staticmethod
    def _value(tool: Tool, data: bytes, resp: httpx.Response, action: HttpAction) -> Any:
        text = data.decode(resp.charset_encoding or "utf-8", errors="replace")
        is_json = "json" in resp.headers.get("content-type", "")
        if action.result is None:
            if is_json:
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    pass
            return text[:VALUE_CHARS] if text else None
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise HttpError(f"{tool.name}: the answer is not JSON") from None
        return extract(parsed, action.result)

    def close(self) -> None:
        self._client.close()


def build(config: Config, pins: SharedPins) -> HttpExecutor:
    return HttpExecutor(config.http)
