"""push and verify against servers that misbehave: a redirect to another host never carries the
token, a trickling server cannot hang them past --timeout, garbage, non-JSON, a list or a 5xx
answer is one line with the right exit code, and a token is never printed."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monspec.cli import main
from support.hostile_server import HostileServer

ROOT = Path(__file__).resolve().parent.parent.parent
SPECS = ROOT / "tests" / "fixtures" / "golden_specs"
TOKEN = "glsa_hostile-test-token"
FOLDER = "/api/folders/shop-api"


def push(url: str, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, ["push", "--specs", str(SPECS), "--grafana-url", url, "--timeout", "1", *args],
                                env={"GRAFANA_TOKEN": TOKEN} if env is None else env)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert TOKEN not in result.output
    return result


def verify(url: str):
    result = CliRunner().invoke(main, ["verify", "--specs", str(SPECS), "--prometheus", url, "--timeout", "1"])
    assert isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_redirect_to_another_host_never_gets_the_token() -> None:
    with HostileServer("empty-object", host="127.0.0.2") as elsewhere:
        with HostileServer("redirect", location=f"{elsewhere.url}{FOLDER}?x=1") as grafana:
            result = push(grafana.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: Grafana at {grafana.url} answered GET {FOLDER} with a redirect to {elsewhere.url}{FOLDER}: "
        "monspec follows no redirect, so the token only goes where --grafana-url says; pass the final URL [grafana/redirect]",
        "1 error(s), 0 warning(s)"]
    assert len(grafana.requests) == 1 and f"Authorization: Bearer {TOKEN}" in grafana.requests[0]
    assert elsewhere.requests == []


PUSH_FAULTS = [
    ("trickle", "error: cannot connect to Grafana at {url}: no complete answer within 1s [grafana/connection]"),
    ("garbage", "error: cannot connect to Grafana at {url}: its answer is not valid HTTP [grafana/connection]"),
    ("not-json", "error: Grafana at {url} answered GET " + FOLDER + " with something that is not a JSON object [grafana/response]"),
    ("list", "error: Grafana at {url} answered GET " + FOLDER + " with something that is not a JSON object [grafana/response]"),
    ("5xx", "error: Grafana at {url} failed with 502 Bad Gateway on GET " + FOLDER + " [grafana/server]"),
]


@pytest.mark.parametrize("mode, expected", PUSH_FAULTS, ids=[m for m, _ in PUSH_FAULTS])
def test_push_against_a_misbehaving_server_is_one_line(mode: str, expected: str) -> None:
    with HostileServer(mode) as grafana:
        result = push(grafana.url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [expected.format(url=grafana.url), "1 error(s), 0 warning(s)"]


VERIFY_FAULTS = [
    ("trickle", "UNKNOWN: cannot reach Prometheus at {url}: no complete answer within 1s"),
    ("garbage", "UNKNOWN: cannot reach Prometheus at {url}: its answer is not valid HTTP"),
    ("not-json", "UNKNOWN: Prometheus at {url} answered /api/v1/query with something that is not Prometheus' JSON"),
    ("list", "UNKNOWN: Prometheus at {url} answered /api/v1/query with something that is not Prometheus' JSON"),
    ("empty-object", "UNKNOWN: Prometheus at {url} answered /api/v1/query with something that is not Prometheus' JSON"),
    ("bad-shape", "UNKNOWN: Prometheus at {url} answered /api/v1/query in an unexpected shape"),
    ("5xx", "UNKNOWN: Prometheus at {url} answered /api/v1/query with HTTP 502"),
    ("redirect", "UNKNOWN: cannot reach Prometheus at {url}: answered 302 with a redirect to http://127.0.0.2:9/x"),
]


@pytest.mark.parametrize("mode, expected", VERIFY_FAULTS, ids=[m for m, _ in VERIFY_FAULTS])
def test_verify_against_a_misbehaving_server_is_unknown(mode: str, expected: str) -> None:
    with HostileServer(mode, location="http://user:pw@127.0.0.2:9/x?secret=1") as prometheus:
        result = verify(prometheus.url)
    assert result.exit_code == 3
    assert (result.stdout, result.stderr) == ("", expected.format(url=prometheus.url) + "\n")


@pytest.mark.parametrize("url, expected", [
    ("http://grafana.example.com", "error: --grafana-url is plain http to grafana.example.com, where anyone on the way "
                                   "can read the traffic: use https, or pass --insecure [grafana/url]"),
    ("https://admin:hunter2@grafana.example.com", "error: --grafana-url carries credentials: remove them from the URL "
                                                  "(a token is passed separately) [grafana/url]"),
])
def test_push_refuses_urls_that_would_expose_secrets(url: str, expected: str) -> None:
    result = push(url)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [expected, "1 error(s), 0 warning(s)"]
    assert "hunter2" not in result.output


@pytest.mark.parametrize("token_text, expected", [
    (TOKEN + "\nsecond line\n", "the token file {file} holds more than one line: it must hold the token alone"),
    (TOKEN + "\r\n\r\n" + TOKEN, "the token file {file} holds more than one line: it must hold the token alone"),
    ("glsa_with space", "the token file {file} holds spaces or control characters: it must hold the token alone"),
    ("\n\n", "the token file {file} is empty"),
], ids=["second-line", "crlf", "space", "empty"])
def test_a_bad_token_file_is_refused_without_printing_it(token_text: str, expected: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(token_text)
    with HostileServer("empty-object") as grafana:
        result = push(grafana.url, "--token-file", str(token_file), env={})
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: {expected.format(file=token_file)} [grafana/token]", "1 error(s), 0 warning(s)"]
    assert grafana.requests == []
    assert "glsa_with" not in result.output and "second line" not in result.output


def test_a_token_with_a_line_break_in_the_environment_is_refused() -> None:
    with HostileServer("empty-object") as grafana:
        result = push(grafana.url, env={"GRAFANA_TOKEN": TOKEN + "\r\nX-Injected: 1"})
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "error: GRAFANA_TOKEN holds more than one line: it must hold the token alone [grafana/token]"
    assert grafana.requests == []
