"""`monspec push` against a loopback stand-in for Grafana that holds every request to
Grafana's documented HTTP API (paths, methods, headers, payloads) and answers like Grafana:
it refuses a dashboard its schema (v11.6, vendored) rejects, refuses saves to dashboards
it provisions from files, and can store dashboards upgraded the way Grafana does."""
from __future__ import annotations

import json
import re
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from monspec.cli import main
from support.grafana_schema import schema_errors

ROOT = Path(__file__).parent.parent.parent
SPECS = ROOT / "specs"
TOKEN = "glsa_secret-token-value"
UIDS = ["unified-cache-cache-performance", "unified-cache-engineering-deep-dive",
        "unified-cache-executive-overview", "unified-cache-operations-detail", "unified-cache-slos"]
TITLES = {
    "unified-cache-cache-performance": "UnifiedConnectionManager - Cache Performance",
    "unified-cache-engineering-deep-dive": "UnifiedConnectionManager - Engineering Deep Dive",
    "unified-cache-executive-overview": "UnifiedConnectionManager - Executive Overview",
    "unified-cache-operations-detail": "UnifiedConnectionManager - Operations Detail",
    "unified-cache-slos": "UnifiedConnectionManager - SLOs",
}
UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class FakeGrafana:
    """Grafana's folder and dashboard API, in memory. `violations` lists every request that breaks the contract."""

    def __init__(self) -> None:
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}  # uid -> {"dashboard": …, "folderUid": …, "message": …}
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.fail: dict[tuple[str, str], tuple[int, dict]] = {}
        self.provisioned: set[str] = set()  # uids Grafana loads from provisioning files
        self.upgrade = False  # store what Grafana's migrations make of a saved model
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                fake.handle(self, "GET")

            def do_POST(self):
                fake.handle(self, "POST")

            def do_PUT(self):
                fake.handle(self, "PUT")

            def do_DELETE(self):
                fake.handle(self, "DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)  # a quick shutdown()
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the API -------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path = h.path
        self.requests.append((method, path))
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        if h.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.violations.append(f"{method} {path}: Authorization is not `Bearer <token>`")
            return self.answer(h, 401, {"message": "Unauthorized"})
        if h.headers.get("Accept") != "application/json":
            self.violations.append(f"{method} {path}: Accept is not application/json")
        body = None
        if method == "POST":
            if h.headers.get("Content-Type") != "application/json":
                self.violations.append(f"{method} {path}: Content-Type is not application/json")
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append(f"{method} {path}: body is not JSON")
                return self.answer(h, 400, {"message": "bad request data"})
        elif raw:
            self.violations.append(f"{method} {path}: a body on a {method}")
        for (fail_method, prefix), (status, answer) in self.fail.items():
            if method == fail_method and path.startswith(prefix):
                return self.answer(h, status, answer)
        if method == "GET" and (m := re.fullmatch(r"/api/folders/([^/]+)", path)):
            folder = self.folders.get(m.group(1))
            return self.answer(h, 200, folder) if folder else self.answer(h, 404, {"message": "folder not found"})
        if method == "POST" and path == "/api/folders":
            return self.create_folder(h, body)
        if method == "GET" and (m := re.fullmatch(r"/api/dashboards/uid/([^/]+)", path)):
            stored = self.dashboards.get(m.group(1))
            if stored is None:
                return self.answer(h, 404, {"message": "Dashboard not found"})
            return self.answer(h, 200, {"dashboard": stored["dashboard"], "meta": {
                "folderUid": stored["folderUid"], "version": stored["dashboard"]["version"], "slug": "x",
                "provisioned": m.group(1) in self.provisioned}})
        if method == "POST" and path == "/api/dashboards/db":
            return self.save_dashboard(h, body)
        self.violations.append(f"{method} {path}: not a Grafana API this client should call")
        return self.answer(h, 404, {"message": "Not found"})

    def create_folder(self, h, body) -> None:
        if not isinstance(body, dict) or set(body) - {"uid", "title", "parentUid", "description"}:
            self.violations.append(f"POST /api/folders: unexpected payload {body!r}")
        if not UID.match(str(body.get("uid", ""))) or not body.get("title"):
            self.violations.append(f"POST /api/folders: needs a uid (<= 40 chars) and a title, got {body!r}")
            return self.answer(h, 400, {"message": "bad request"})
        if body["uid"] in self.folders:
            return self.answer(h, 409, {"message": "a folder with the same uid already exists"})
        folder = {"id": len(self.folders) + 1, "uid": body["uid"], "title": body["title"], "url": f"/dashboards/f/{body['uid']}/"}
        self.folders[body["uid"]] = folder
        return self.answer(h, 200, folder)

    def save_dashboard(self, h, body) -> None:
        problems = []
        if not isinstance(body, dict) or set(body) - {"dashboard", "folderUid", "folderId", "overwrite", "message"}:
            problems.append(f"unexpected keys {sorted(body) if isinstance(body, dict) else body!r}")
            body = body if isinstance(body, dict) else {}
        dashboard = body.get("dashboard")
        if not isinstance(dashboard, dict):
            problems.append("no dashboard object")
            dashboard = {}
        if "id" not in dashboard or dashboard["id"] is not None:
            problems.append("dashboard.id must be null to create or overwrite by uid")
        if not UID.match(str(dashboard.get("uid", ""))):
            problems.append(f"dashboard.uid {dashboard.get('uid')!r} is not a Grafana uid")
        if not dashboard.get("title"):
            problems.append("dashboard.title is missing")
        if body.get("overwrite") is not True:
            problems.append("overwrite must be true")
        if not isinstance(body.get("message"), str) or not body["message"]:
            problems.append("message missing")
        if problems:
            self.violations.extend(f"POST /api/dashboards/db: {p}" for p in problems)
            return self.answer(h, 400, {"message": "; ".join(problems)})
        invalid = schema_errors(dashboard, "v11.6")
        if invalid:
            return self.answer(h, 400, {"message": f"invalid dashboard: {invalid[0]}"})
        if body.get("folderUid") not in self.folders:
            return self.answer(h, 400, {"message": "folder not found"})
        uid = dashboard["uid"]
        if uid in self.provisioned:
            return self.answer(h, 400, {"message": "Cannot save provisioned dashboard"})
        version = self.dashboards[uid]["dashboard"]["version"] + 1 if uid in self.dashboards else 1
        stored = {**(upgraded(dashboard) if self.upgrade else dashboard), "id": 100 + len(self.dashboards), "version": version}
        self.dashboards[uid] = {"dashboard": stored, "folderUid": body["folderUid"], "message": body["message"]}
        slug = re.sub(r"[^a-z0-9]+", "-", dashboard["title"].lower()).strip("-")
        return self.answer(h, 200, {"id": stored["id"], "uid": uid, "url": f"/d/{uid}/{slug}", "status": "success",
                                    "version": version, "slug": slug})

    @staticmethod
    def answer(h, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)


def upgraded(dashboard: dict) -> dict:
    """What a newer Grafana stores: a migrated schemaVersion, plugin versions and defaults of its own."""
    model = json.loads(json.dumps(dashboard))
    model["schemaVersion"] += 1
    model["weekStart"] = ""
    for panel in model["panels"]:
        if panel["type"] != "row":
            panel["pluginVersion"] = "12.0.0"
            panel["fieldConfig"]["defaults"].setdefault("custom", {})["hideFrom"] = {"legend": False, "tooltip": False, "viz": False}
    return model


@pytest.fixture
def grafana():
    fake = FakeGrafana()
    yield fake
    fake.close()


def run(url: str, *args: str, token: str | None = TOKEN):
    env = {"GRAFANA_TOKEN": token} if token is not None else {"GRAFANA_TOKEN": ""}
    result = CliRunner().invoke(main, ["push", "--specs", str(SPECS), "--grafana-url", url, *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert TOKEN not in result.output
    return result


def created_lines(verb: str) -> list[str]:
    return [f"dashboard {uid} {TITLES[uid]!r}: {verb}" for uid in UIDS]


def test_push_creates_the_folder_and_every_dashboard(grafana) -> None:
    result = run(grafana.url)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "folder 'UnifiedConnectionManager' (uid unifiedconnectionmanager): created",
        *[line + " (version 1)" for line in created_lines("created")],
        f"{grafana.url}: 5 created",
    ]
    assert grafana.violations == []
    assert grafana.requests == [("GET", "/api/folders/unifiedconnectionmanager"), ("POST", "/api/folders")] + [
        request for uid in UIDS for request in (("GET", f"/api/dashboards/uid/{uid}"), ("POST", "/api/dashboards/db"))]
    assert grafana.folders["unifiedconnectionmanager"]["title"] == "UnifiedConnectionManager"
    assert sorted(grafana.dashboards) == UIDS
    for uid, stored in grafana.dashboards.items():
        assert stored["folderUid"] == "unifiedconnectionmanager"
        assert re.fullmatch(r"monspec push from commit [0-9a-f]{12}( with uncommitted changes)?", stored["message"])
        generated = json.loads((ROOT / "generated" / "grafana" / "dashboards" / f"{uid}.json").read_text())
        assert {k: v for k, v in stored["dashboard"].items() if k not in ("id", "version")} == \
            {k: v for k, v in generated.items() if k not in ("id", "version")}


def test_pushing_again_changes_nothing(grafana) -> None:
    assert run(grafana.url).exit_code == 0
    grafana.requests.clear()
    result = run(grafana.url)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "folder 'UnifiedConnectionManager' (uid unifiedconnectionmanager): exists",
        *created_lines("unchanged"),
        f"{grafana.url}: 5 unchanged",
    ]
    assert [m for m, _ in grafana.requests] == ["GET"] * 6  # the folder and each of the five dashboards
    assert {s["dashboard"]["version"] for s in grafana.dashboards.values()} == {1}


def test_dry_run_prints_what_would_change_and_writes_nothing(grafana) -> None:
    result = run(grafana.url, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "folder 'UnifiedConnectionManager' (uid unifiedconnectionmanager): would be created",
        *created_lines("would be created"),
        f"dry run: nothing changed in {grafana.url} (5 would be created)",
    ]
    assert {m for m, _ in grafana.requests} == {"GET"} and grafana.folders == {} and grafana.dashboards == {}

    assert run(grafana.url).exit_code == 0
    stored = grafana.dashboards["unified-cache-executive-overview"]["dashboard"]
    stored["title"] = "Edited in the UI"
    stored["panels"] = stored["panels"][:1]
    result = run(grafana.url, "--dry-run")
    assert result.stdout.splitlines()[3] == (
        "dashboard unified-cache-executive-overview 'UnifiedConnectionManager - Executive Overview': "
        "would be updated (changed: panels, title)")
    assert result.stdout.splitlines()[-1] == f"dry run: nothing changed in {grafana.url} (4 unchanged, 1 would be updated)"
    assert grafana.dashboards["unified-cache-executive-overview"]["dashboard"]["title"] == "Edited in the UI"

    result = run(grafana.url)
    assert result.stdout.splitlines()[3] == (
        "dashboard unified-cache-executive-overview 'UnifiedConnectionManager - Executive Overview': "
        "updated (changed: panels, title) (version 2)")
    assert grafana.dashboards["unified-cache-executive-overview"]["dashboard"]["title"] == TITLES["unified-cache-executive-overview"]
    assert grafana.violations == []


def test_folder_option_and_token_file(grafana, tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    result = run(grafana.url, "--folder", "Cache Team / Prod", "--token-file", str(token_file), token=None)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "folder 'Cache Team / Prod' (uid cache-team-prod): created"
    assert {s["folderUid"] for s in grafana.dashboards.values()} == {"cache-team-prod"}
    assert grafana.violations == []


def test_a_dashboard_in_another_folder_is_moved(grafana) -> None:
    assert run(grafana.url, "--folder", "Elsewhere").exit_code == 0
    result = run(grafana.url)
    assert result.stdout.splitlines()[1] == (
        "dashboard unified-cache-cache-performance 'UnifiedConnectionManager - Cache Performance': "
        "updated (changed: folder) (version 2)")


def _closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("fail, expected", [
    ({("GET", "/api/folders/"): (401, {"message": "invalid API key"})},
     "error: Grafana at {url} rejected the token (401 Unauthorized): check GRAFANA_TOKEN or --token-file [grafana/unauthorized]"),
    ({("POST", "/api/folders"): (403, {"message": "Access denied"})},
     "error: the token may not create folder 'UnifiedConnectionManager' (403 Forbidden): it needs the Editor role "
     "(folders:create, dashboards:write) [grafana/forbidden]"),
    ({("POST", "/api/dashboards/db"): (412, {"status": "version-mismatch", "message": "The dashboard has been changed by someone else"})},
     "error: Grafana refused to save dashboard unified-cache-cache-performance (412 Precondition Failed: "
     "version-mismatch: The dashboard has been changed by someone else) [grafana/precondition]"),
    ({("GET", "/api/dashboards/uid/"): (500, {"message": "database is locked"})},
     "error: Grafana at {url} failed with 500 Internal Server Error on GET /api/dashboards/uid/unified-cache-cache-performance "
     "[grafana/server]"),
    ({("POST", "/api/dashboards/db"): (503, {})},
     "error: Grafana at {url} failed with 503 Service Unavailable on POST /api/dashboards/db [grafana/server]"),
    ({("POST", "/api/dashboards/db"): (400, {"message": "Dashboard title cannot be empty"})},
     "error: Grafana answered 400 Bad Request on POST /api/dashboards/db: Dashboard title cannot be empty [grafana/http]"),
], ids=["401", "403", "412", "500", "503", "400"])
def test_grafana_errors_are_one_line(grafana, fail, expected) -> None:
    grafana.fail.update(fail)
    result = run(grafana.url)
    assert result.exit_code == 1
    assert result.stderr == expected.format(url=grafana.url) + "\n1 error(s), 0 warning(s)\n"
    assert "Traceback" not in result.output


def test_connection_refused() -> None:
    url = _closed_port_url()
    result = run(url)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: cannot connect to Grafana at {url}: connection refused [grafana/connection]\n1 error(s), 0 warning(s)\n"


@pytest.mark.parametrize("args, token, expected", [
    ((), None, "error: no Grafana token: set GRAFANA_TOKEN or pass --token-file [grafana/token]"),
    (("--token-file", "/nonexistent/token"), None,
     "error: cannot read the token file /nonexistent/token: No such file or directory [grafana/token]"),
])
def test_missing_token(grafana, args, token, expected) -> None:
    result = run(grafana.url, *args, token=token)
    assert result.exit_code == 1
    assert result.stderr == expected + "\n1 error(s), 0 warning(s)\n"
    assert grafana.requests == []


def test_bad_url() -> None:
    result = run("grafana.example.com")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: --grafana-url must be an http(s) URL such as https://grafana.example.com, got 'grafana.example.com' [grafana/url]")


def test_lint_errors_stop_the_push(grafana, tmp_path, monkeypatch) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    path = specs / "dashboards" / "cache_performance.yaml"
    path.write_text(path.read_text().replace("unit: percentunit", "unit: percent_unit"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["push", "--specs", "specs", "--grafana-url", grafana.url], env={"GRAFANA_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert "specs/dashboards/cache_performance.yaml:15:19: error: unknown unit `percent_unit` [dashboard/unknown-unit]" in result.stderr
    assert grafana.requests == []


def test_an_invalid_dashboard_is_refused_like_grafana_refuses_it(grafana, monkeypatch) -> None:
    import monspec.render.dashboards as dashboards

    monkeypatch.setattr(dashboards, "normalise_json", lambda text, version: json.loads(text))  # grafanalib's raw output
    result = run(grafana.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: Grafana answered 400 Bad Request on POST /api/dashboards/db: invalid dashboard: $: Additional properties "
        "are not allowed ('__inputs', 'hideControls', 'rows', 'sharedCrosshair', 'style' were unexpected) [grafana/http]")
    assert grafana.dashboards == {}


def test_a_dashboard_grafana_upgraded_is_unchanged(grafana) -> None:
    grafana.upgrade = True
    assert run(grafana.url).exit_code == 0
    stored = grafana.dashboards["unified-cache-executive-overview"]["dashboard"]
    assert stored["schemaVersion"] == 42 and stored["panels"][1]["pluginVersion"] == "12.0.0"
    result = run(grafana.url)
    assert result.stdout.splitlines()[-1] == f"{grafana.url}: 5 unchanged"
    stored["panels"][4]["description"] = "edited in the UI"
    stored["schemaVersion"] = 39  # an older model than monspec writes is stale
    result = run(grafana.url, "--dry-run")
    assert result.stdout.splitlines()[3] == (
        "dashboard unified-cache-executive-overview 'UnifiedConnectionManager - Executive Overview': "
        "would be updated (changed: panels, schemaVersion)")


def test_a_provisioned_dashboard_is_refused_with_the_way_to_update_it(grafana) -> None:
    assert run(grafana.url).exit_code == 0
    grafana.provisioned.add("unified-cache-cache-performance")
    grafana.dashboards["unified-cache-cache-performance"]["dashboard"]["title"] = "Old"
    result = run(grafana.url)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: Grafana refused to save dashboard unified-cache-cache-performance: Cannot save provisioned dashboard "
        "(it is provisioned from files and the provider does not allow UI updates): update it by deploying "
        "generated/grafana/dashboards/ to the provider's path (generated/grafana/provisioning/dashboards.yaml), "
        "or set `project.grafana.allow_ui_updates: true` to push to it [grafana/provisioned]\n1 error(s), 0 warning(s)\n")


def test_message_and_folder_uid(grafana) -> None:
    result = run(grafana.url, "--message", "release 1.2: new panels", "--folder-uid", "cache-prod")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "folder 'UnifiedConnectionManager' (uid cache-prod): created"
    assert {(s["folderUid"], s["message"]) for s in grafana.dashboards.values()} == {("cache-prod", "release 1.2: new panels")}
    assert grafana.violations == []


def test_folder_and_uid_from_the_project_settings(grafana, tmp_path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    project = specs / "project.yaml"
    project.write_text(project.read_text() + "  grafana:\n    folder: Cache\n    folder_uid: cache-team\n")
    result = CliRunner().invoke(main, ["push", "--specs", str(specs), "--grafana-url", grafana.url],
                                env={"GRAFANA_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "folder 'Cache' (uid cache-team): created"
    assert {s["folderUid"] for s in grafana.dashboards.values()} == {"cache-team"}
