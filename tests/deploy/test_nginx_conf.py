"""deploy/nginx.conf, the reverse proxy of docker-compose.yml, run by a real
nginx with its upstreams pointed at stand-ins: webhook POSTs reach the intake
(`webhooks`), everything else the app (`web`), with the headers the app
relies on. Needs Debian's nginx-light (CI installs it); skipped locally
without it, a failure in CI (REQUIRE_POSTGRES=1)."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if found:
        return str(found)
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("nginx is missing: install Debian's nginx-light")
    pytest.skip("nginx (nginx-light) is not installed")


def _upstream(name: str) -> ThreadingHTTPServer:
    """Answers every request with what it received, naming itself."""

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            data = json.dumps(
                {
                    "upstream": name,
                    "method": self.command,
                    "path": self.path,
                    "host": self.headers.get("Host"),
                    "forwarded_for": self.headers.get("X-Forwarded-For"),
                    "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                    "body": body.decode(),
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    nginx = _nginx()
    tmp_path = tmp_path_factory.mktemp("nginx")
    web, webhooks = _upstream("web"), _upstream("webhooks")
    port = free_port()
    site = CONF.read_text()
    for old, new in (
        ("server web:8000;", f"server 127.0.0.1:{web.server_address[1]};"),
        ("server webhooks:8001;", f"server 127.0.0.1:{webhooks.server_address[1]};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ):
        assert old in site, f"deploy/nginx.conf no longer has {old!r}"
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"""
        daemon off;
        {"user root;" if os.geteuid() == 0 else ""}
        worker_processes 1;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log warn;
        events {{ worker_connections 64; }}
        http {{
            access_log off;
            client_body_temp_path {temp["body"]};
            proxy_temp_path {temp["proxy"]};
            fastcgi_temp_path {temp["fastcgi"]};
            uwsgi_temp_path {temp["uwsgi"]};
            scgi_temp_path {temp["scgi"]};
            include {tmp_path}/site.conf;
        }}
        """
    )
    command = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)
        web.shutdown()
        webhooks.shutdown()


def _send(port: int, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers={"Host": "cho.example.vn", **(headers or {})})
    response = conn.getresponse()
    data = json.loads(response.read())
    conn.close()
    return response.status, data


@pytest.mark.parametrize("provider", ["sepay", "casso", "payos"])
def test_it_sends_each_providers_webhooks_to_the_intake(proxy: int, provider: str) -> None:
    status, seen = _send(proxy, "POST", f"/api/v1/webhooks/{provider}/", body=b'{"id": 1}')

    assert status == 200
    assert seen["upstream"] == "webhooks"
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", f"/api/v1/webhooks/{provider}/", '{"id": 1}')


def test_it_sends_the_stall_pages_event_stream_to_the_asgi_service_unbuffered(proxy: int) -> None:
    status, seen = _send(proxy, "GET", "/stall/events/?cursor=41-43")

    assert status == 200
    assert (seen["upstream"], seen["path"]) == ("webhooks", "/stall/events/?cursor=41-43")
    block = CONF.read_text().split("location = /stall/events/ {", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in block and "proxy_read_timeout 31m;" in block


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/healthz"),
        ("GET", "/stall/"),
        ("GET", "/stall/receipts.json"),
        ("POST", "/api/v1/auth/token/"),
        ("GET", "/api/v1/payments/?market=3"),
        ("POST", "/api/v1/webhooks/unknown/"),
        ("POST", "/api/v1/webhooks/sepay/extra"),
        ("GET", "/admin/"),
    ],
)
def test_it_sends_everything_else_to_the_app(proxy: int, method: str, path: str) -> None:
    status, seen = _send(proxy, method, path, body=b"{}" if method == "POST" else b"")

    assert status == 200
    assert (seen["upstream"], seen["path"]) == ("web", path)


def test_it_passes_the_host_the_client_address_and_the_scheme(proxy: int) -> None:
    _, plain = _send(proxy, "POST", "/api/v1/webhooks/sepay/", body=b"{}")
    _, behind_tls = _send(proxy, "GET", "/healthz", headers={"X-Forwarded-Proto": "https"})

    assert plain["host"] == "cho.example.vn"  # ALLOWED_HOSTS is checked against it
    assert plain["forwarded_for"] == "127.0.0.1"  # the proxy is in TRUSTED_PROXIES: the throttle keys on this
    assert plain["forwarded_proto"] == "http"
    assert behind_tls["forwarded_proto"] == "https"  # what the TLS terminator in front said


def test_it_keeps_the_port_in_the_host_so_a_sign_in_on_a_non_default_port_passes_csrf(proxy: int) -> None:
    _, seen = _send(proxy, "POST", "/admin/login/", body=b"{}", headers={"Host": "localhost:8000"})

    # Django checks a form's Origin ("http://localhost:8000") against this Host.
    assert seen["host"] == "localhost:8000"


def test_it_takes_a_bulk_import_file_larger_than_other_bodies(proxy: int) -> None:
    body = b"x" * (5 * 1024 * 1024)  # a 5 MB spreadsheet

    def post(path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", proxy, timeout=30)
        conn.request("POST", path, body=body, headers={"Host": "cho.example.vn"})
        status = conn.getresponse().status
        conn.close()
        return status

    assert post("/onboard/markets/3/import/") == 200
    assert post("/onboard/provinces/19/import/") == 200
    assert post("/onboard/markets/3/") == 413  # elsewhere the 3 MB limit stands
