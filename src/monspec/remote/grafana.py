"""Pushes the generated dashboards over Grafana's HTTP API (`monspec push`).

Grafana's documented API is the contract:

- `GET /api/folders/<uid>` (404 when missing), `POST /api/folders` with `{uid, title}`;
- `GET /api/dashboards/uid/<uid>` (404 when missing) returns `{dashboard, meta: {folderUid, …}}`;
- `POST /api/dashboards/db` with `{dashboard (id null), folderUid, overwrite: true, message}`.

Every request carries `Authorization: Bearer <token>` to the given URL only (no redirect is
followed; plain http only to this machine unless --insecure); the token is never printed.
A dashboard whose stored model and folder already match is left alone, so re-running
changes nothing (and adds no version to Grafana's history). "Match" compares what monspec
owns: every value the generated model has; what Grafana adds or upgrades on its side
(pluginVersion, defaults, a newer schemaVersion) is not a change. Grafana refuses API
saves to a dashboard it provisions from files ("Cannot save provisioned dashboard") unless
the provider has `allowUiUpdates`; push says which way to update it then. TLS certificates
are verified; each request has one total deadline (`monspec.remote.http`).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monspec.errors import MonspecError, Problem
from monspec.remote.http import Answer, Redirected, WebError, check_url, one_line, request

TOKEN_ENV = "GRAFANA_TOKEN"
TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces, as an HTTP header value needs
IGNORED_KEYS = ("id", "version")  # Grafana sets these when it stores a dashboard
PROVISIONED = "Cannot save provisioned dashboard"  # Grafana's refusal (dashboards.ErrDashboardCannotSaveProvisionedDashboard)


class GrafanaError(MonspecError):
    """Grafana refused or could not be reached; one line, no traceback."""

    def __init__(self, message: str, id: str = "grafana/error"):
        super().__init__(Problem(id, message))


def read_token(token_file: Path | None, environ=os.environ) -> str:
    """The API token: the token file's only line, or $GRAFANA_TOKEN. Never printed, not even in part."""
    if token_file is not None:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise GrafanaError(f"cannot read the token file {token_file}: {exc.strerror}", "grafana/token") from None
        except UnicodeDecodeError:
            raise GrafanaError(f"the token file {token_file} is not UTF-8 text", "grafana/token") from None
        where = f"the token file {token_file}"
    else:
        token = environ.get(TOKEN_ENV, "").strip()
        where = TOKEN_ENV
        if not token:
            raise GrafanaError(f"no Grafana token: set {TOKEN_ENV} or pass --token-file", "grafana/token")
    if not token:
        raise GrafanaError(f"{where} is empty", "grafana/token")
    if "\n" in token or "\r" in token:
        raise GrafanaError(f"{where} holds more than one line: it must hold the token alone", "grafana/token")
    if not TOKEN_CHARS.fullmatch(token):
        raise GrafanaError(f"{where} holds spaces or control characters: it must hold the token alone", "grafana/token")
    return token


@dataclass
class Client:
    url: str
    token: str
    timeout: float = 30.0
    insecure: bool = False

    def __post_init__(self):
        try:
            self.url = check_url(self.url, "--grafana-url", "https://grafana.example.com", insecure=self.insecure)
        except WebError as exc:
            raise GrafanaError(str(exc), "grafana/url") from None

    def call(self, method: str, path: str, body: dict | None = None, *, missing_ok: bool = False, what: str = "") -> dict | None:
        """The decoded JSON object; None for a 404 when missing_ok. GrafanaError for anything else."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "User-Agent": "monspec"}
        data = None
        if body is not None:
            data = json.dumps(body, sort_keys=True).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            answer = request(self.url + path, method, headers=headers, body=data, timeout=self.timeout)
        except Redirected as exc:
            raise GrafanaError(f"Grafana at {self.url} answered {method} {path} with a redirect to {exc.location}: "
                               "monspec follows no redirect, so the token only goes where --grafana-url says; "
                               "pass the final URL", "grafana/redirect") from None
        except WebError as exc:
            raise GrafanaError(f"cannot connect to Grafana at {self.url}: {exc}", "grafana/connection") from None
        if answer.status == 404 and missing_ok:
            return None
        decoded = _json(answer.body)
        if answer.status >= 400:
            raise self._http_error(answer, decoded, method, path, what)
        if not isinstance(decoded, dict):
            raise GrafanaError(f"Grafana at {self.url} answered {method} {path} with something that is not a JSON object",
                               "grafana/response")
        return decoded

    def _http_error(self, answer: Answer, detail: object, method: str, path: str, what: str) -> GrafanaError:
        detail = detail if isinstance(detail, dict) else {}
        message = detail.get("message") if isinstance(detail.get("message"), str) else None
        code, reason = answer.status, answer.reason
        if code == 401:
            return GrafanaError(f"Grafana at {self.url} rejected the token (401 Unauthorized): "
                                f"check {TOKEN_ENV} or --token-file", "grafana/unauthorized")
        if code == 403:
            return GrafanaError(f"the token may not {what or method + ' ' + path} (403 Forbidden): "
                                "it needs the Editor role (folders:create, dashboards:write)", "grafana/forbidden")
        if code == 412:
            status = detail.get("status") if isinstance(detail.get("status"), str) else None
            text = ": ".join(x for x in (status, message) if x) or "precondition failed"
            return GrafanaError(f"Grafana refused to {what or method + ' ' + path} (412 Precondition Failed: {one_line(text)})",
                                "grafana/precondition")
        if code >= 500:
            return GrafanaError(f"Grafana at {self.url} failed with {code} {one_line(reason)} on {method} {path}",
                                "grafana/server")
        if code == 400 and message == PROVISIONED:
            return GrafanaError(
                f"Grafana refused to {what or method + ' ' + path}: {PROVISIONED} (it is provisioned from files and "
                "the provider does not allow UI updates): update it by deploying generated/grafana/dashboards/ to the "
                "provider's path (generated/grafana/provisioning/dashboards.yaml), or set "
                "`project.grafana.allow_ui_updates: true` to push to it", "grafana/provisioned")
        suffix = f": {one_line(message)}" if message else ""
        return GrafanaError(f"Grafana answered {code} {one_line(reason)} on {method} {path}{suffix}", "grafana/http")


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        return None


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


def changed_keys(stored: dict, ours: dict) -> list[str]:
    """Top-level keys whose monspec-owned content differs in Grafana's stored model."""
    changed = []
    for key, value in ours.items():
        if key in IGNORED_KEYS:
            continue
        if key == "schemaVersion":  # Grafana migrates upwards on load; only an older model is stale
            if not isinstance(stored.get(key), int) or stored[key] < value:
                changed.append(key)
        elif _differs(value, stored.get(key)):
            changed.append(key)
    return sorted(changed)


def _differs(ours, theirs) -> bool:
    """True when `theirs` lacks or changed something `ours` has; additions of its own are fine."""
    if isinstance(ours, dict):
        return not isinstance(theirs, dict) or any(_differs(v, theirs.get(k)) for k, v in ours.items())
    if isinstance(ours, list):
        return (not isinstance(theirs, list) or len(ours) != len(theirs)
                or any(_differs(a, b) for a, b in zip(ours, theirs, strict=True)))
    return ours != theirs


def push(specs_dir: Path, url: str, token: str, *, folder: str | None = None, folder_uid: str | None = None,
         message: str | None = None, dry_run: bool = False, echo: Callable[[str], None] = print,
         timeout: float = 30.0, insecure: bool = False) -> dict[str, int]:
    """Create the folder when missing, then create or update every dashboard that differs.

    The folder is `folder` (else the project's), its uid `folder_uid` (else the project's for
    the project's folder, else a slug of the name); the version message is `message` (else the
    commit pushed from).

    Returns counts by outcome (created, updated, unchanged; `would …` in a dry run).
    """
    from monspec.build import lint_model
    from monspec.errors import SpecError
    from monspec.render import provisioning
    from monspec.render.dashboards import dashboard_json, stable_uid

    model, problems = lint_model(specs_dir)
    specs = model.specs
    if any(p.severity == "error" for p in problems):
        raise SpecError(problems)  # lint errors stop the push
    if not specs.dashboards:
        raise GrafanaError(f"no dashboards in {specs_dir}: nothing to push", "grafana/nothing")
    client = Client(url, token, timeout, insecure)
    title = folder or provisioning.folder_name(specs)
    folder_uid = folder_uid or (stable_uid(folder) if folder else provisioning.folder_uid(specs))
    counts: dict[str, int] = {}
    prefix = "would be " if dry_run else ""

    existing_folder = client.call("GET", f"/api/folders/{folder_uid}", missing_ok=True, what=f"read folder {title!r}")
    if existing_folder is None:
        if not dry_run:
            client.call("POST", "/api/folders", {"uid": folder_uid, "title": title}, what=f"create folder {title!r}")
        echo(f"folder {title!r} (uid {folder_uid}): {prefix}created")
    else:
        echo(f"folder {title!r} (uid {folder_uid}): exists")

    message = message or commit_message(Path(specs_dir))
    for key, spec in sorted(specs.dashboards.items()):
        dashboard = dashboard_json(model, key, spec)
        uid = dashboard["uid"]
        label = f"dashboard {uid} {dashboard['title']!r}"
        stored = client.call("GET", f"/api/dashboards/uid/{uid}", missing_ok=True, what=f"read dashboard {uid}")
        if stored is None:
            outcome, detail = "created", ""
        else:
            stored_model, meta = stored.get("dashboard"), stored.get("meta")
            if not isinstance(stored_model, dict) or not isinstance(meta, dict):
                raise GrafanaError(f"Grafana at {client.url} answered GET /api/dashboards/uid/{uid} without "
                                   "a `dashboard` and its `meta`", "grafana/response")
            diff = changed_keys(stored_model, dashboard)
            if meta.get("folderUid") != folder_uid:
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
            if answer is not None and answer.get("version") is not None:
                detail += f" (version {answer['version']})"
        counts[prefix + outcome] = counts.get(prefix + outcome, 0) + 1
        echo(f"{label}: {prefix}{outcome}{detail}")
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    echo(f"dry run: nothing changed in {client.url} ({summary})" if dry_run else f"{client.url}: {summary}")
    return counts
