"""HTTP actions against a real server on 127.0.0.1: values, URL attacks, faults, redirects."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from appliance.config import load_yaml, parse_config
from appliance.errors import ConfigError
from appliance.messages import ToolCall

from .acting import Acts
from .conftest import HOME_YAML
from .httpserver import LoopbackServer, Reply

WEATHER = {"current_condition": [{"temp_C": "17", "weatherDesc": [{"value": "Sunny"}]}]}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(Reply.json(WEATHER)) as s:
        yield s


@pytest.fixture
def other() -> Iterator[LoopbackServer]:
    """A second server that is NOT on the allow-list: it must never see a request."""
    with LoopbackServer() as s:
        yield s


def home(server: LoopbackServer, url: str | None = None, **http: Any) -> Acts:
    """The demo home with its HTTP tools pointed at the loopback server."""
    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    default = f"http://{server.host}/weather/{{{{ location }}}}?format=j1"
    for tool in raw["tools"]:
        if tool["name"] == "get_weather":
            tool["action"]["url"] = url or default
        elif tool["action"]["kind"] == "http":  # the home hub's tools
            tool["action"]["url"] = tool["action"]["url"].replace("127.0.0.1:8088",
                                                                  server.host)
    raw["http"] = {"allowed_hosts": [server.host], "timeout_s": 1,
                   "max_response_bytes": 100_000, **http}
    return Acts(parse_config(raw, source="test.yaml"))


def weather(d: Acts, location: str = "paris") -> Any:
    return d.execute(ToolCall("get_weather", {"location": location}))


def test_weather_field_comes_back_as_the_value(server: LoopbackServer) -> None:
    r = weather(home(server), "new york")
    assert r.ok, r.error
    assert r.value == "17"
    assert (server.requests[-1].method, server.requests[-1].path) == (
        "GET", "/weather/new%20york?format=j1")
    assert f"sent GET http://{server.host}/weather/new%20york?format=j1 -> 200" in r.done


def test_music_is_a_post_with_a_json_body(server: LoopbackServer) -> None:
    server.routes["/play"] = Reply.json({"playing": "Kind of Blue"})
    r = home(server).execute(ToolCall("play_music", {"query": 'miles "kind of blue"'}))
    assert r.ok, r.error
    req = server.requests[-1]
    assert (req.method, req.path) == ("POST", "/play")
    assert json.loads(req.body) == {"query": 'miles "kind of blue"'}
    assert req.headers["Content-Type"] == "application/json"
    assert r.value == {"playing": "Kind of Blue"}  # a JSON answer without a path: all of it


def test_dry_run_sends_nothing(server: LoopbackServer) -> None:
    r = home(server).execute(ToolCall("get_weather", {"location": "oslo"}), dry_run=True)
    assert r.ok and r.done == f"would GET http://{server.host}/weather/oslo?format=j1"
    assert server.requests == []


@pytest.mark.parametrize("location", [
    "../admin", "x/../../etc/passwd", "..%2F..%2Fadmin", "paris?format=x&admin=1",
    "paris#frag", "evil.com@127.0.0.2", "//evil.com/", "\\\\evil.com", "a b\r\nHost: evil",
    "http://evil.com/", "%00", "über",
])
def test_arguments_cannot_change_the_url(server: LoopbackServer, location: str) -> None:
    weather(home(server), location)
    path = server.requests[-1].path
    assert path.startswith("/weather/") and path.endswith("?format=j1")
    middle = path[len("/weather/"):-len("?format=j1")]
    assert "/" not in middle and "?" not in middle and "#" not in middle
    assert len(server.requests) == 1


@pytest.mark.parametrize("location", ["..", "."])
def test_a_dot_segment_argument_is_refused(server: LoopbackServer, location: str) -> None:
    r = weather(home(server), location)
    assert not r.ok and "get_weather" in (r.error or "") and "dot segment" in (r.error or "")
    assert server.requests == []


def test_an_argument_cannot_name_the_host(server: LoopbackServer, other: LoopbackServer) -> None:
    d = home(server, url="http://{{ location }}/weather")
    for location in [other.host, f"{server.host}@{other.host}", f"{other.host}#{server.host}"]:
        r = weather(d, location)
        assert not r.ok, location
        assert "get_weather" in (r.error or "")
    assert other.requests == [] and server.requests == []


def test_a_host_off_the_list_is_refused_when_the_config_loads(server: LoopbackServer,
                                                              other: LoopbackServer) -> None:
    where = r"test\.yaml: tools\[\d+\]\.action\.url: host .* is not in http\.allowed_hosts"
    with pytest.raises(ConfigError, match=where):
        home(server, url=other.url("/weather"))
    # The same host on another port is another host.
    with pytest.raises(ConfigError, match=where):
        home(server, url=f"http://127.0.0.1:{other.port}/w")
    # A userinfo part is refused even towards an allowed host.
    with pytest.raises(ConfigError, match=where):
        home(server, url=f"http://user@{server.host}/w")
    assert other.requests == [] and server.requests == []


def test_redirect_on_the_host_is_followed(server: LoopbackServer) -> None:
    server.routes["/weather/paris"] = Reply.redirect("/v2/paris")
    server.routes["/v2/paris"] = Reply.json(WEATHER)
    r = weather(home(server))
    assert r.ok and r.value == "17"
    assert [q.path for q in server.requests] == ["/weather/paris?format=j1", "/v2/paris"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_off_the_host_is_refused(server: LoopbackServer, other: LoopbackServer,
                                          status: int) -> None:
    server.routes["/weather/paris"] = Reply.redirect(other.url("/steal"), status)
    r = weather(home(server))
    assert not r.ok and "not in http.allowed_hosts" in (r.error or "")
    assert other.requests == []


def test_redirect_loops_end(server: LoopbackServer) -> None:
    server.routes["/weather/paris"] = Reply.redirect("/weather/paris")
    r = weather(home(server))
    assert not r.ok and "redirects" in (r.error or "")


def test_a_500_is_an_error(server: LoopbackServer) -> None:
    server.reply = Reply(500, b"boom")
    r = weather(home(server))
    assert not r.ok and "answered 500" in (r.error or "") and "get_weather" in (r.error or "")


def test_a_hanging_server_times_out(server: LoopbackServer) -> None:
    server.reply = Reply(hang=True)
    r = weather(home(server, timeout_s=0.5))
    assert not r.ok and "timed out" in (r.error or "")


def test_a_trickling_server_is_cut_off(server: LoopbackServer) -> None:
    server.reply = Reply(200, b"x" * 1000, trickle_s=0.2)  # each byte in time, the whole not
    r = weather(home(server, timeout_s=0.5))
    assert not r.ok and "took longer" in (r.error or "")


@pytest.mark.parametrize("content_length", [True, False])
def test_50_mb_answer_is_dropped_at_the_cap(server: LoopbackServer, content_length: bool) -> None:
    server.reply = Reply(200, size=50_000_000, content_length=content_length)
    r = weather(home(server, timeout_s=5))
    assert not r.ok and "larger than 100000 bytes" in (r.error or "")


def test_missing_field_or_not_json_is_an_error(server: LoopbackServer) -> None:
    server.reply = Reply.json({"current_condition": []})
    r = weather(home(server))
    assert not r.ok and "no 'current_condition.0.temp_C'" in (r.error or "")
    server.reply = Reply(200, b"<html>", {"Content-Type": "text/html"})
    r = weather(home(server))
    assert not r.ok and "not JSON" in (r.error or "")


def test_proxy_settings_in_the_environment_are_ignored(
        server: LoopbackServer, other: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, other.url())
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    r = weather(home(server))
    assert r.ok, r.error
    assert other.requests == [] and len(server.requests) == 1


def test_server_down_is_an_error(server: LoopbackServer) -> None:
    d = home(server)
    server.close()
    r = weather(d)
    assert not r.ok and "get_weather" in (r.error or "") and "failed" in (r.error or "")


def test_a_server_that_trickles_its_headers_is_given_up_on(server: LoopbackServer) -> None:
    """httpx bounds each read; the action is bounded as a whole (twice timeout_s)."""
    server.routes["/weather/paris"] = Reply(trickle_s=0.05, trickle_headers=True)
    d = home(server, timeout_s=0.5)
    t0 = time.monotonic()
    r = weather(d)
    assert not r.ok and "no complete answer within 2 s" in (r.error or ""), r.error
    assert time.monotonic() - t0 < 30  # the server would take 100 s to send its headers
    d.close()
