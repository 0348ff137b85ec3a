"""`appliance models fetch`: pinned checksums, resume, refusal, against a loopback server."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance import modelstore
from appliance.errors import ChecksumError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /model.bin, honouring Range like a real file server."""

    requests: list[str | None] = []  # noqa: RUF012 - per-test reset below

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        type(self).requests.append(rng)
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        body = PAYLOAD[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    RangeHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/model.bin"
    httpd.shutdown()


def item(sha: str | None) -> modelstore.Download:
    return modelstore.Download("test", "http://unused.invalid/", "model.bin", sha, "test")


GOOD = hashlib.sha256(PAYLOAD).hexdigest()


def test_fetch_verifies(server: str, tmp_path: Path) -> None:
    path = modelstore.fetch(item(GOOD), tmp_path, url=server)
    assert path.read_bytes() == PAYLOAD
    # Present and right: not downloaded again.
    modelstore.fetch(item(GOOD), tmp_path, url=server)
    assert len(RangeHandler.requests) == 1


def test_fetch_resumes_a_partial_download(server: str, tmp_path: Path) -> None:
    (tmp_path / "model.bin.part").write_bytes(PAYLOAD[:300_000])
    path = modelstore.fetch(item(GOOD), tmp_path, url=server)
    assert RangeHandler.requests == ["bytes=300000-"]
    assert path.read_bytes() == PAYLOAD


def test_wrong_checksum_is_refused(server: str, tmp_path: Path) -> None:
    with pytest.raises(ChecksumError, match="mismatch"):
        modelstore.fetch(item("0" * 64), tmp_path, url=server)
    assert not (tmp_path / "model.bin").exists()
    assert not (tmp_path / "model.bin.part").exists()


def test_no_pin_no_download(server: str, tmp_path: Path) -> None:
    with pytest.raises(ChecksumError, match="no pinned sha256"):
        modelstore.fetch(item(None), tmp_path, url=server)
    assert RangeHandler.requests == []
    # An explicit checksum from the user pins it.
    assert modelstore.fetch(item(None), tmp_path, url=server, sha256=GOOD).exists()


def test_every_production_model_states_its_source() -> None:
    for entry in modelstore.PRODUCTION_MODELS.values():
        assert entry.url.startswith("https://")
        assert entry.source
        assert entry.sha256 is None or len(entry.sha256) == 64
