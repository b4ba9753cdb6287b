"""A loopback HTTP server that misbehaves on purpose: it redirects elsewhere, trickles, answers
garbage, non-JSON, a JSON list or a 5xx, and records every request (headers included)."""
from __future__ import annotations

import socket
import socketserver
import threading
import time

ANSWERS = {
    "garbage": b"\x00\x17 this is not HTTP \xff\xfe\r\n\r\n",
    "not-json": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 17\r\n\r\n<html>hi</html>\r\n",
    "list": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n[1, 2, 3]",
    "5xx": b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: 27\r\n\r\n<h1>502\r\nBad Gateway</h1>\r\n",
    "empty-object": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    "bad-shape": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{\"status\":\"success\",\"data\":[]}",
}


class HostileServer:
    """`mode` is one of ANSWERS, "trickle" (one byte every 0.2 s, never done) or "redirect"
    (302 to `location`). `requests` holds each request's raw head, as text."""

    def __init__(self, mode: str, host: str = "127.0.0.1", location: str = ""):
        self.mode, self.location = mode, location
        self.requests: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sock: socket.socket = self.request
                sock.settimeout(5)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                    server.requests.append(head.decode("latin-1"))
                    server.answer(sock)
                except OSError:
                    pass

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()  # a quick shutdown()

    def answer(self, sock: socket.socket) -> None:
        if self.mode == "redirect":
            sock.sendall(f"HTTP/1.1 302 Found\r\nLocation: {self.location}\r\nContent-Length: 0\r\n\r\n".encode())
        elif self.mode == "trickle":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not self.stop.wait(0.2):
                sock.sendall(b"{")
        else:
            sock.sendall(ANSWERS[self.mode])
        time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
