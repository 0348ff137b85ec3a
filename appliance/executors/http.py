"""HTTP actions with httpx: a templated request to an allowed host, its answer in the result.

A call cannot steer a request elsewhere: arguments are percent-encoded before they enter
the URL template (so ``../``, ``?``, ``#``, ``@`` or ``//host`` stay data), the final URL's
scheme, host and port must be on ``http.allowed_hosts``, redirects are followed by hand and
each hop is checked the same way, responses are read up to ``http.max_response_bytes``,
and every request has a timeout.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from appliance.config import HttpSettings
from appliance.errors import HttpError, TemplateError
from appliance.executors.templating import render
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool

log = logging.getLogger(__name__)

MAX_REDIRECTS = 3

ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "url"],
    "properties": {
        "kind": {"const": "http"},
        "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
        "url": {"type": "string", "minLength": 1},
        "body": {"type": "string", "description": "template for the request body"},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "result": {"type": "string",
                   "description": "dotted path of the field to return from a JSON answer"},
    },
}


def _url_value(value: Any) -> str:
    return quote(str(value), safe="")


def host_key(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of a URL, lower case, the port explicit only if not default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, host if port in (None, default) else f"{host}:{port}"


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
        self.allowed = {h.lower() for h in settings.allowed_hosts}
        self._client = httpx.Client(timeout=settings.timeout_s, follow_redirects=False,
                                    transport=transport)

    def _check(self, tool: Tool, url: str) -> None:
        scheme, host = host_key(url)
        if scheme not in ("http", "https"):
            raise HttpError(f"{tool.name}: scheme {scheme!r} is not allowed ({url})")
        if host not in self.allowed:
            raise HttpError(f"{tool.name}: host {host!r} is not in http.allowed_hosts ({url})")

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        action = dict(tool.action or {})
        method = action.get("method", "GET")
        try:
            url = render(action["url"], call.arguments, what=f"{tool.name} url",
                         quote=_url_value)
            self._check(tool, url)
            body = (render(action["body"], call.arguments, what=f"{tool.name} body")
                    if "body" in action else None)
            if dry_run:
                return ActionResult(tool.name, True, f"would {method} {url}")
            value, status = self._request(tool, method, url, body, action)
            return ActionResult(tool.name, True, f"{method} {url} -> {status}", value=value)
        except (HttpError, TemplateError) as exc:
            return ActionResult(tool.name, False, error=str(exc))

    def _request(self, tool: Tool, method: str, url: str, body: str | None,
                 action: dict[str, Any]) -> tuple[Any, int]:
        headers = dict(action.get("headers", {}))
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with self._client.stream(method, url, content=body, headers=headers) as resp:
                    if resp.is_redirect:
                        target = urljoin(url, resp.headers.get("location", ""))
                        self._check(tool, target)  # a redirect off the allowed hosts: refused
                        url = target
                        if resp.status_code == 303:
                            method, body = "GET", None
                        continue
                    data = bytearray()
                    for chunk in resp.iter_bytes():
                        data += chunk
                        if len(data) > self.settings.max_response_bytes:
                            raise HttpError(f"{tool.name}: answer larger than "
                                            f"{self.settings.max_response_bytes} bytes, dropped")
                    if resp.status_code >= 400:
                        raise HttpError(f"{tool.name}: {method} {url} answered "
                                        f"{resp.status_code} {resp.reason_phrase}")
                    return self._value(tool, bytes(data), resp, action), resp.status_code
            except httpx.TimeoutException:
                raise HttpError(f"{tool.name}: {method} {url} timed out after "
                                f"{self.settings.timeout_s:g} s") from None
            except httpx.HTTPError as exc:
                raise HttpError(f"{tool.name}: {method} {url} failed: {exc}") from None
        raise HttpError(f"{tool.name}: more than {MAX_REDIRECTS} redirects")

    @staticmethod
    def _value(tool: Tool, data: bytes, resp: httpx.Response, action: dict[str, Any]) -> Any:
        text = data.decode(resp.encoding or "utf-8", errors="replace")
        if "result" not in action:
            return text[:500] if text else None
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise HttpError(f"{tool.name}: the answer is not JSON") from None
        return extract(parsed, action["result"])

    def close(self) -> None:
        self._client.close()
