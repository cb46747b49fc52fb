"""A small HTTP client for the abuse drill: a browser-like session (cookies,
CSRF token, the HTTPS a TLS terminator would vouch for with
``X-Forwarded-Proto``), a client address of one's choosing through the
trusted proxy (``X-Forwarded-For``), and a raw sender of huge bodies that
notes how much was sent before the server answered."""

from __future__ import annotations

import http.client
import io
import json
import re
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Any

CHUNK = 64 * 1024


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def error_code(self) -> str:
        data = self.json()
        return str(data["error"]["code"]) if isinstance(data, dict) and isinstance(data.get("error"), dict) else ""


@dataclass
class Browser:
    port: int
    address: str = "203.0.113.10"  # the client's address, as the trusted proxy reports it
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""  # API token (Authorization: Token …)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "", **headers: str
    ) -> Answer:
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
            "Origin": self.origin,
            "Referer": self.origin + "/",
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            sent["Authorization"] = f"Token {self.token}"
        if content_type:
            sent["Content-Type"] = content_type
        sent.update({k.replace("_", "-"): v for k, v in headers.items()})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie_name, _, rest = value.partition("=")
                    self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post_json(self, path: str, data: Any, method: str = "POST") -> Answer:
        return self.request(method, path, json.dumps(data).encode(), "application/json")

    def csrf_token(self) -> str:
        """The form's token of /login/ (and the cookie set with it); signed in, /login/
        sends one home: then the cookie's token, which Django takes as well."""
        page = self.get("/login/").body.decode(errors="replace")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        return match[1] if match else self.cookies.get("csrftoken", "")

    def post_form(self, path: str, data: dict[str, str], *, with_token: bool = True) -> Answer:
        from urllib.parse import urlencode

        if with_token:
            data = {"csrfmiddlewaretoken": self.csrf_token(), **data}
        return self.request("POST", path, urlencode(data).encode(), "application/x-www-form-urlencoded")


@dataclass
class BigSend:
    status: int  # 0: no answer
    sent_bytes: int  # body bytes sent before the answer came (or the connection closed)
    seconds: float
    detail: str


def send_big(port: int, method: str, path: str, size: int, *, token: str = "") -> BigSend:
    """Send ``size`` bytes of body, watching for an answer between chunks: a
    server that refuses early answers before most of the body is sent."""
    started = time.monotonic()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Forwarded-Proto: https\r\n"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n"
        + (f"Authorization: Token {token}\r\n" if token else "")
        + "\r\n"
    ).encode()
    chunk = b" " * CHUNK
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            while sent < size:
                readable, _, _ = select.select([sock], [], [], 0.05 if sent == 0 else 0)
                if readable:
                    break
                piece = chunk[: min(CHUNK, size - sent)]
                sock.sendall(piece)
                sent += len(piece)
        except OSError as exc:  # the server closed: read what it said
            detail = type(exc).__name__
        else:
            detail = ""
        data = b""
        try:
            sock.settimeout(30)
            while more := sock.recv(65536):  # until the server closes (Connection: close)
                data += more
        except OSError as exc:
            detail = detail or type(exc).__name__
    status, code = 0, ""
    try:
        response = http.client.HTTPResponse(_Recorded(data))  # type: ignore[arg-type]
        response.begin()
        status = response.status
        code = json.loads(response.read())["error"]["code"]  # chunked or not
    except (http.client.HTTPException, ValueError, KeyError, TypeError, OSError):
        pass
    return BigSend(status, sent, time.monotonic() - started, code or detail)


class _Recorded:
    """What the server sent, as a socket for ``http.client.HTTPResponse`` to parse."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)
