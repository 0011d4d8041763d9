"""A local HTTP server that replays recorded provider responses (``tests/data/sources/``).

It binds 127.0.0.1 only, answers each request from the fixture files, times out idle
connections, refuses requests past ``max_requests`` and shuts itself down after ``lifetime``
seconds even if a test forgets to. Routes:

- ``/API/aflux/?<matchbook>,paging(n,k),format(json)`` -> ``aflux/<elements>.page<n>.json``
  (elements of ``species(...)`` joined by ``-``); no such file -> ``[]`` (AFLUX past the last page);
- ``/v1/structures?filter=...[&page_offset=n]`` -> ``optimade/<elements>.page<n>.json`` (the
  quoted elements of the filter; ``page_offset`` absent = page 1); no such file -> an empty
  JSON:API page. ``{BASE}`` in a fixture becomes the server's base URL (its ``links.next``).

``fail`` makes matching requests (a substring of the unquoted path) answer ``(status, body)``
instead, for the first ``times`` of them (``None``: always).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "data" / "sources"
EMPTY_OPTIMADE_PAGE = {
    "data": [],
    "links": {"next": None},
    "meta": {"api_version": "1.1.0", "more_data_available": False, "data_returned": 0},
}


class ReplayServer:
    def __init__(self, root: Path = FIXTURES, *, fail: dict | None = None, lifetime: float = 600.0, max_requests: int = 500):
        self.root = Path(root)
        self.fail = {key: list(value) for key, value in (fail or {}).items()}  # substring -> [status, body, times]
        self.requests: list[str] = []
        self.max_requests = max_requests
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._server = None

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, raw_path: str) -> tuple[int, str]:
        path = urllib.parse.unquote(raw_path)
        with self._lock:
            self.requests.append(path)
            if len(self.requests) > self.max_requests:
                return 503, "too many requests for a test"
            for key, rule in self.fail.items():
                status, body, times = rule
                if key in path and (times is None or times > 0):
                    if times is not None:
                        rule[2] = times - 1
                    return status, body if isinstance(body, str) else json.dumps(body)
        if path.startswith("/API/aflux/"):
            elements = re.search(r"species\(([^)]*)\)", path).group(1).split(",")
            page = int(re.search(r"paging\((\d+),\d+\)", path).group(1))
            return 200, self._fixture(f"aflux/{'-'.join(elements)}.page{page}.json", "[]")
        if path.startswith("/v1/structures"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(raw_path).query)
            elements = re.findall(r'"([A-Z][a-z]?)"', query.get("filter", [""])[0])
            page = int(query.get("page_offset", ["1"])[0])
            return 200, self._fixture(f"optimade/{'-'.join(elements)}.page{page}.json", json.dumps(EMPTY_OPTIMADE_PAGE))
        return 404, json.dumps({"errors": [{"status": "404", "title": "Not Found", "detail": path}]})

    def _fixture(self, name: str, missing: str) -> str:
        path = self.root / name
        return path.read_text().replace("{BASE}", self.base) if path.is_file() else missing

    def __enter__(self) -> ReplayServer:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # seconds an idle connection is kept

            def do_GET(self):  # noqa: N802 (http.server's name)
                status, body = replay.answer(self.path)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if body[:1] in "[{" else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        self._watchdog = threading.Timer(self.lifetime, self._server.shutdown)
        self._watchdog.daemon = True
        self._watchdog.start()
        return self

    def __exit__(self, *exc) -> None:
        self._watchdog.cancel()
        self._server.shutdown()
        self._server.server_close()
