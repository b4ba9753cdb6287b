"""Pushes the generated dashboards over Grafana's HTTP API (`monspec push`).

Grafana's documented API is the contract:

- `GET /api/folders/<uid>` (404 when missing), `POST /api/folders` with `{uid, title}`;
- `GET /api/dashboards/uid/<uid>` (404 when missing) returns `{dashboard, meta: {folderUid, …}}`;
- `POST /api/dashboards/db` with `{dashboard (id null), folderUid, overwrite: true, message}`.

Every request carries `Authorization: Bearer <token>`; the token is never printed.
A dashboard whose stored model and folder already match is left alone, so re-running
changes nothing (and adds no version to Grafana's history). TLS certificates are
verified (urllib's default context).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monspec.errors import MonspecError, Problem

TOKEN_ENV = "GRAFANA_TOKEN"
IGNORED_KEYS = ("id", "version")  # Grafana sets these when it stores a dashboard


class GrafanaError(MonspecError):
    """Grafana refused or could not be reached; one line, no traceback."""

    def __init__(self, message: str, id: str = "grafana/error"):
        super().__init__(Problem(id, message))


def read_token(token_file: Path | None, environ=os.environ) -> str:
    if token_file is not None:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise GrafanaError(f"cannot read the token file {token_file}: {exc.strerror}", "grafana/token") from None
        if not token:
            raise GrafanaError(f"the token file {token_file} is empty", "grafana/token")
        return token
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise GrafanaError(f"no Grafana token: set {TOKEN_ENV} or pass --token-file", "grafana/token")
    return token


@dataclass
class Client:
    url: str
    token: str
    timeout: float = 30.0

    def __post_init__(self):
        parsed = urllib.parse.urlsplit(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise GrafanaError(f"--grafana-url must be an http(s) URL such as https://grafana.example.com, got {self.url!r}",
                               "grafana/url")
        self.url = self.url.rstrip("/")

    def call(self, method: str, path: str, body: dict | None = None, *, missing_ok: bool = False, what: str = ""):
        """The decoded JSON answer; None for a 404 when missing_ok. GrafanaError for anything else."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "User-Agent": "monspec"}
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and missing_ok:
                return None
            raise self._http_error(exc, method, path, what) from None
        except urllib.error.URLError as exc:
            raise GrafanaError(f"cannot connect to Grafana at {self.url}: {_reason(exc.reason)}", "grafana/connection") from None
        except TimeoutError:
            raise GrafanaError(f"cannot connect to Grafana at {self.url}: no answer within {self.timeout:g}s",
                               "grafana/connection") from None
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            raise GrafanaError(f"Grafana at {self.url} answered {method} {path} with something that is not JSON",
                               "grafana/response") from None

    def _http_error(self, exc: urllib.error.HTTPError, method: str, path: str, what: str) -> GrafanaError:
        try:
            detail = json.loads(exc.read().decode("utf-8") or "{}")
        except ValueError:
            detail = {}
        message = detail.get("message") if isinstance(detail, dict) else None
        code = exc.code
        if code == 401:
            return GrafanaError(f"Grafana at {self.url} rejected the token (401 Unauthorized): "
                                f"check {TOKEN_ENV} or --token-file", "grafana/unauthorized")
        if code == 403:
            return GrafanaError(f"the token may not {what or method + ' ' + path} (403 Forbidden): "
                                "it needs the Editor role (folders:create, dashboards:write)", "grafana/forbidden")
        if code == 412:
            status = detail.get("status") if isinstance(detail, dict) else None
            reason = ": ".join(x for x in (status, message) if x) or "precondition failed"
            return GrafanaError(f"Grafana refused to {what or method + ' ' + path} (412 Precondition Failed: {reason})",
                                "grafana/precondition")
        if code >= 500:
            return GrafanaError(f"Grafana at {self.url} failed with {code} {exc.reason} on {method} {path}",
                                "grafana/server")
        suffix = f": {message}" if message else ""
        return GrafanaError(f"Grafana answered {code} {exc.reason} on {method} {path}{suffix}", "grafana/http")


def _reason(reason) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(getattr(reason, "strerror", None) or reason)


def commit_message(cwd: Path) -> str:
    """`monspec push from commit <sha>`, naming uncommitted changes when there are any."""
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    sha = git("rev-parse", "--short=12", "HEAD")
    if sha is None:
        return "monspec push (not in a git checkout)"
    dirty = git("status", "--porcelain", "--", ".")
    return f"monspec push from commit {sha}" + (" with uncommitted changes" if dirty else "")


def comparable(dashboard: dict) -> dict:
    return {k: v for k, v in dashboard.items() if k not in IGNORED_KEYS}


def changed_keys(old: dict, new: dict) -> list[str]:
    old, new = comparable(old), comparable(new)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def push(specs_dir: Path, url: str, token: str, *, folder: str | None = None, dry_run: bool = False,
         echo: Callable[[str], None] = print) -> dict[str, int]:
    """Create the folder when missing, then create or update every dashboard that differs.

    Returns counts by outcome (created, updated, unchanged; `would …` in a dry run).
    """
    from monspec.build import lint_specs
    from monspec.errors import SpecError
    from monspec.render.dashboards import dashboard_json
    from monspec.render.provisioning import folder_name
    from monspec.spec.dashboards import stable_uid

    specs, problems = lint_specs(specs_dir)
    if any(p.severity == "error" for p in problems):
        raise SpecError(problems)  # lint errors stop the push
    if not specs.dashboards:
        raise GrafanaError(f"no dashboards in {specs_dir}: nothing to push", "grafana/nothing")
    client = Client(url, token)
    title = folder or folder_name(specs)
    folder_uid = stable_uid(title)
    counts: dict[str, int] = {}
    prefix = "would be " if dry_run else ""

    existing_folder = client.call("GET", f"/api/folders/{folder_uid}", missing_ok=True, what=f"read folder {title!r}")
    if existing_folder is None:
        if not dry_run:
            client.call("POST", "/api/folders", {"uid": folder_uid, "title": title}, what=f"create folder {title!r}")
        echo(f"folder {title!r} (uid {folder_uid}): {prefix}created")
    else:
        echo(f"folder {title!r} (uid {folder_uid}): exists")

    message = commit_message(Path(specs_dir))
    for key, spec in sorted(specs.dashboards.items()):
        dashboard = dashboard_json(specs, key, spec)
        uid = dashboard["uid"]
        label = f"dashboard {uid} {dashboard['title']!r}"
        stored = client.call("GET", f"/api/dashboards/uid/{uid}", missing_ok=True, what=f"read dashboard {uid}")
        if stored is None:
            outcome, detail = "created", ""
        else:
            diff = changed_keys(stored.get("dashboard", {}), dashboard)
            if stored.get("meta", {}).get("folderUid") != folder_uid:
                diff.append("folder")
            if not diff:
                counts["unchanged"] = counts.get("unchanged", 0) + 1
                echo(f"{label}: unchanged")
                continue
            outcome, detail = "updated", f" (changed: {', '.join(diff)})"
        if not dry_run:
            answer = client.call("POST", "/api/dashboards/db", {
                "dashboard": {**dashboard, "id": None}, "folderUid": folder_uid, "overwrite": True, "message": message,
            }, what=f"save dashboard {uid}")
            if answer.get("version") is not None:
                detail += f" (version {answer['version']})"
        counts[prefix + outcome] = counts.get(prefix + outcome, 0) + 1
        echo(f"{label}: {prefix}{outcome}{detail}")
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    echo(f"dry run: nothing changed in {client.url} ({summary})" if dry_run else f"{client.url}: {summary}")
    return counts
