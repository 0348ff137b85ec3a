"""`appliance ask` as a user runs it: one JSON line per utterance, one error line per mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent

TOOLS = [
    {"type": "function", "function": {
        "name": "set_light", "description": "Turn a light on or off.",
        "parameters": {"type": "object", "properties": {
            "room": {"type": "string", "enum": ["kitchen", "bedroom", "garage"]},
            "state": {"type": "string", "enum": ["on", "off"]}},
            "required": ["room", "state"]}}},
    {"type": "function", "function": {
        "name": "set_volume", "description": "Set the speaker volume.",
        "parameters": {"type": "object", "properties": {
            "level": {"type": "integer", "minimum": 0, "maximum": 10}},
            "required": ["level"]}}},
    {"type": "function", "function": {
        "name": "send_message", "description": "Send a text message to a contact.",
        "parameters": {"type": "object", "properties": {
            "to": {"type": "string"}, "body": {"type": "string"}},
            "required": ["to", "body"]}}},
]


def appliance(*args: str, stdin: bytes | None = None, timeout: float = 300) -> \
        subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "appliance", *args], input=stdin,
                          capture_output=True, timeout=timeout, cwd=ROOT, check=False)


@pytest.fixture
def tools_file(tmp_path: Path) -> Path:
    p = tmp_path / "tools.json"
    p.write_text(json.dumps(TOOLS))
    return p


@pytest.mark.model
def test_json_lines_every_call_valid(tools_file: Path) -> None:
    lines = [
        "turn on the kitchen light", "switch the bedroom light off", "volume to seven",
        "text mom that I'm running late", "what's two plus two", "make it louder, level 10",
        "garage lights on", "tell bob dinner is ready", "", "turn everything off",
    ]
    proc = appliance("ask", "--tools", str(tools_file), "--json",
                     stdin=("\n".join(lines) + "\n").encode())
    assert b"Traceback" not in proc.stderr
    out = [json.loads(row) for row in proc.stdout.decode().splitlines()]
    assert len(out) == len([x for x in lines if x.strip()])
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
    for row in out:
        assert {"text", "call", "ms"} <= row.keys()
        if row["call"] is not None:
            jsonschema.validate(row["call"]["arguments"], schemas[row["call"]["name"]])
    assert [row["text"] for row in out] == [x for x in lines if x.strip()]


@pytest.mark.model
def test_bytes_that_are_not_utf8_get_an_error_line(tools_file: Path) -> None:
    proc = appliance("ask", "--tools", str(tools_file), "--json",
                     stdin=b"turn on the garage light\n\xff\xfe oops\n")
    rows = [json.loads(r) for r in proc.stdout.decode().splitlines()]
    assert len(rows) == 2
    assert "not valid UTF-8" in rows[1]["error"]
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize("content,message", [
    ("not json", "not JSON"),
    ('{"type": "function"}', "is not of type 'array'"),
    ('[{"type": "function", "function": {"name": "f", "parameters": {"type": "object", '
     '"properties": {"x": {"anyOf": []}}}}}]', "unsupported JSON Schema construct 'anyOf'"),
])
def test_bad_tools_files(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "tools.json"
    p.write_text(content)
    proc = appliance("ask", "--tools", str(p), "hello")
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert message in err and str(p) in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.gguf", "model file not found"),
    (lambda d: (d / "x.gguf").write_text("hello") and d / "x.gguf", "not a GGUF file"),
])
def test_bad_model_paths(tmp_path: Path, tools_file: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    proc = appliance("ask", "--tools", str(tools_file), "--model", str(make(tmp_path)), "hi")
    err = proc.stderr.decode()
    assert proc.returncode != 0 and message in err and "Traceback" not in err


def test_check_and_tools_commands(tmp_path: Path) -> None:
    ok = appliance("check", "--config", str(ROOT / "deploy" / "home.yaml"))
    assert ok.returncode == 0, ok.stderr
    assert b"11 tools" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("tools: []\n")
    proc = appliance("check", "--config", str(bad))
    assert proc.returncode == 1 and b"tools" in proc.stderr
    listed = appliance("tools", "--config", str(ROOT / "deploy" / "home.yaml"), "--json")
    assert next(iter(json.loads(listed.stdout)))["function"]["name"] == "set_light"
