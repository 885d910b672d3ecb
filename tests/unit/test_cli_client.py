"""`awf` against a mocked API: requests sent, project resolution, errors, exit codes, session."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from services.cli.context import CliState
from services.cli.main import app
from services.cli.session import Session, read_session, session_path, write_session
from shared.domain.commands import Role
from shared.platform.auth import verify_token

runner = CliRunner()
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("AWF_API_URL", "AWF_TOKEN", "AWF_PROJECT", "JWT_SECRET", "AWF_ENV"):
        monkeypatch.delenv(name, raising=False)


class FakeApi:
    def __init__(self, projects: list[str], answer: Handler | None = None) -> None:
        self.projects = projects
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content or b"{}")
        if body.get("command") == "project list":
            listing = {"projects": [{"id": p} for p in self.projects], "total": len(self.projects)}
            return httpx.Response(200, json={"command": "project list", "result": listing})
        if self.answer is not None:
            return self.answer(request)
        result = {"epic_id": "epic-1a2b3c4d", "proposed_story_ids": ["story-0000000a"]}
        return httpx.Response(
            201,
            json={"command": body["command"], "from_state": "IDLE", "to_state": "BACKLOG_READY"}
            | {"project_id": "calc", "project_version": 2, "result": result},
        )

    def last(self) -> tuple[httpx.Request, dict[str, Any]]:
        request = self.requests[-1]
        return request, json.loads(request.content)


def _invoke(api: Handler, argv: list[str]) -> Any:
    state = CliState(api_url="http://api.test", token="tok", transport=httpx.MockTransport(api))
    return runner.invoke(app, argv, obj=state, env={"COLUMNS": "200"})


def test_a_project_command_posts_args_with_auth_and_a_fresh_idempotency_key() -> None:
    api = FakeApi(["calc"])
    result = _invoke(api, ["epic", "Arithmetic", "--story", "Add", "--story", "Subtract"])
    assert result.exit_code == 0, result.output
    request, body = api.last()
    assert request.url.path == "/api/v1/projects/calc/commands"
    assert request.headers["authorization"] == "Bearer tok"
    assert len(request.headers["idempotency-key"]) == 36
    assert body == {
        "command": "epic",
        "args": {"description": "Arithmetic", "stories": [{"title": "Add"}, {"title": "Subtract"}]},
    }
    assert "epic epic-1a2b3c4d created; 1 story proposed" in result.stdout
    assert "IDLE → BACKLOG_READY" in result.stdout


def test_each_mutation_gets_its_own_idempotency_key() -> None:
    api = FakeApi(["calc"])
    _invoke(api, ["-p", "calc", "approve"])
    _invoke(api, ["-p", "calc", "approve"])
    keys = {r.headers["idempotency-key"] for r in api.requests}
    assert len(keys) == 2


def test_reads_send_no_idempotency_key_and_global_commands_use_the_global_route() -> None:
    api = FakeApi(["calc"])
    assert _invoke(api, ["project", "list"]).exit_code == 0
    request, _ = api.last()
    assert request.url.path == "/api/v1/commands"
    assert "idempotency-key" not in request.headers


def test_project_start_takes_the_project_as_argument() -> None:
    api = FakeApi([])
    assert _invoke(api, ["project", "start", "calc"]).exit_code == 0
    assert api.last()[1] == {"command": "project start", "args": {"project": "calc"}}


def test_variadic_ids_and_explicit_project() -> None:
    api = FakeApi(["a", "b"])
    result = _invoke(api, ["approve", "story-0000000a", "story-0000000b", "-p", "b"])
    assert result.exit_code == 0, result.output
    request, body = api.last()
    assert request.url.path == "/api/v1/projects/b/commands"
    assert body["args"] == {"ids": ["story-0000000a", "story-0000000b"]}


@pytest.mark.parametrize(("projects", "needle"), [(["a", "b"], "2 projects"), ([], "No project")])
def test_an_ambiguous_or_missing_project_is_a_usage_error(projects: list[str], needle: str) -> None:
    result = _invoke(FakeApi(projects), ["state"])
    assert result.exit_code == 2
    assert needle in result.stderr


def test_a_refused_command_prints_the_message_and_allowed_commands() -> None:
    refusal = {
        "type": "invalid_transition",
        "message": "/sprint start is not allowed in state IDLE. No sprint planned.",
        "state": "IDLE",
        "allowed_commands": ["epic", "state"],
    }
    api = FakeApi(["calc"], lambda r: httpx.Response(409, json=refusal))
    result = _invoke(api, ["sprint", "start"])
    assert result.exit_code == 1
    assert "not allowed in state IDLE" in result.stderr
    assert "awf epic, awf state" in result.stderr


def test_validation_errors_list_the_fields() -> None:
    errors = [{"field": "args.priority", "message": "Input should be 'top', 'high'"}]
    body = {"type": "validation_error", "message": "Invalid request", "errors": errors}
    api = FakeApi(["calc"], lambda r: httpx.Response(422, json=body))
    result = _invoke(api, ["backlog", "add_story", "T", "--priority", "9"])
    assert result.exit_code == 1
    assert "args.priority" in result.stderr


def test_json_prints_the_raw_body_for_success_and_error() -> None:
    api = FakeApi(["calc"])
    result = _invoke(api, ["--json", "epic", "x"])
    assert json.loads(result.stdout)["result"]["epic_id"] == "epic-1a2b3c4d"
    result = _invoke(api, ["state", "--json"])
    assert json.loads(result.stdout)["command"] == "state"
    denied = FakeApi(["calc"], lambda r: httpx.Response(403, json={"type": "forbidden"}))
    result = _invoke(denied, ["--json", "approve"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"type": "forbidden"}


def test_an_unreachable_api_exits_3_and_suggests_awf_up() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = _invoke(refuse, ["-p", "calc", "state"])
    assert result.exit_code == 3
    assert "awf up" in result.stderr


def test_without_a_session_or_url_the_cli_says_to_run_awf_up() -> None:
    result = runner.invoke(app, ["state"])
    assert result.exit_code == 3
    assert "awf up" in result.stderr


def test_the_session_file_supplies_url_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    write_session(Session(api_url="http://from-session.test", token="session-token"))
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"command": "project list", "result": {"projects": []}})

    state = CliState(transport=httpx.MockTransport(handler))
    assert runner.invoke(app, ["project", "list"], obj=state).exit_code == 0
    assert str(seen[0].url).startswith("http://from-session.test/")
    assert seen[0].headers["authorization"] == "Bearer session-token"


def test_session_file_round_trip_with_mode_0600() -> None:
    session = Session(api_url="http://x", token="t", pids={"api:8000": 12}, jwt_secret="s" * 40)
    path = write_session(session)
    assert path == session_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_session() == Session.from_dict(json.loads(path.read_text()))
    assert read_session() is not None
    assert read_session().pids == {"api:8000": 12}  # type: ignore[union-attr]


def test_token_mints_with_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "q7Vx9LmZ2kP4rT8wYbN3cF6hJ1sD5gA0eU"
    monkeypatch.setenv("JWT_SECRET", secret)
    result = runner.invoke(
        app, ["token", "--role", "viewer", "--subject", "bob", "--ttl-hours", "2"]
    )
    assert result.exit_code == 0, result.output
    principal = verify_token(secret, result.stdout.strip())
    assert (principal.subject, principal.role) == ("bob", Role.VIEWER)


def test_token_uses_the_secret_of_the_running_stack() -> None:
    secret = "Zr4Kp9Wq2Lm7Xv5Ts1Nb8Hc3Jd6Fg0Ya"
    write_session(Session(api_url="http://x", token="t", jwt_secret=secret))
    result = runner.invoke(app, ["token", "--subject", "ann"])
    assert result.exit_code == 0, result.output
    assert verify_token(secret, result.stdout.strip()).role is Role.ADMIN


def test_token_rejects_an_unknown_role_and_a_missing_secret() -> None:
    assert runner.invoke(app, ["token", "--role", "god"]).exit_code == 2
    result = runner.invoke(app, ["token"])
    assert result.exit_code == 2
    assert "JWT_SECRET" in result.stderr
