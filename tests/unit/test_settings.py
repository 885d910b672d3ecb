from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.platform.settings import (
    DEV_JWT_SECRET,
    Settings,
    format_settings_error,
    get_settings,
    load_settings,
)

GOOD_JWT = "Qm9vdHN0cmFwLXJhbmRvbS1qd3Qtc2VjcmV0LTQ4LWNoYXJz"
GOOD_KEY = "dGhpcy1pcy1hLXJhbmRvbS1lbmNyeXB0aW9uLWtleS0xMjM0"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings from the developer's shell or working directory."""
    ours = {"AWF_CONFIG", *(field.upper() for field in Settings.model_fields)}
    for name in list(os.environ):
        if name.upper() in ours or name.upper().split("__")[0] in ours:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _error(config_file: Path | None = None, **overrides: object) -> str:
    with pytest.raises(ValidationError) as info:
        load_settings(config_file, **overrides)
    return format_settings_error(info.value)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "placeholder",
    [
        "changeme",
        "change-me-0123456789-abcdefghijklmnopqrstuvwxyz",
        "CHANGE_ME_PLEASE_with_a_long_tail_of_characters",
        "your-secret-here",
        "your_jwt_secret_goes_here_and_it_is_long_enough",
        "password",
        "placeholder-placeholder-placeholder-placeholder",
        "x" * 48,
        "xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxx",
        "example-jwt-secret-0123456789abcdefghijklmnop",
        DEV_JWT_SECRET,
    ],
)
def test_production_refuses_a_placeholder_jwt_secret_naming_it(placeholder: str) -> None:
    text = _error(jwt_secret=placeholder, encryption_key=GOOD_KEY)
    assert text.startswith(
        "JWT_SECRET is a placeholder; set a random value of at least 32 characters"
    )
    assert "secrets.token_urlsafe" in text
    assert placeholder not in text


def test_production_refuses_a_placeholder_encryption_key_naming_it() -> None:
    assert _error(jwt_secret=GOOD_JWT, encryption_key="changeme").startswith(
        "ENCRYPTION_KEY is a placeholder"
    )


def test_production_requires_both_secrets() -> None:
    lines = _error().splitlines()
    assert [line.split(";")[0] for line in lines] == [
        "JWT_SECRET is not set",
        "ENCRYPTION_KEY is not set",
    ]


def test_production_refuses_a_short_secret() -> None:
    assert "JWT_SECRET is too short (20 characters)" in _error(
        jwt_secret="aB3dE5gH7jK9mN1pQ2rS", encryption_key=GOOD_KEY
    )


def test_production_accepts_random_secrets_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", GOOD_JWT)
    monkeypatch.setenv("ENCRYPTION_KEY", GOOD_KEY)
    settings = load_settings()
    assert settings.awf_env == "production"
    assert settings.jwt_secret.get_secret_value() == GOOD_JWT
    assert settings.logging.format == "json"


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_default_the_jwt_secret(env: str) -> None:
    settings = load_settings(awf_env=env)
    assert settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    assert settings.encryption_key is None


def test_dev_logs_to_the_console_unless_told_otherwise(tmp_path: Path) -> None:
    assert load_settings(awf_env="dev").logging.format == "console"
    config = _write(tmp_path / "c.yml", "logging:\n  format: json\n")
    assert load_settings(config, awf_env="dev").logging.format == "json"


def test_yaml_file_sets_nested_keys(tmp_path: Path) -> None:
    config = _write(
        tmp_path / "config.yml",
        """
orchestrator: {mode: partial, max_concurrent_projects: 7, backup_interval: 600}
discord: {command_timeout: 10, error_channel_id: 123456789012345678}
agents: {timeout_minutes: 45, claude_model: claude-opus-4}
logging: {level: debug, format: console, retention_days: 7}
monitoring: {metrics_collection: false, alert_thresholds: {error_rate: 0.1}}
api: {port: 9000, max_page_size: 100}
""",
    )
    settings = load_settings(config, awf_env="test")
    assert settings.orchestrator.mode == "partial"
    assert settings.orchestrator.max_concurrent_projects == 7
    assert settings.orchestrator.state_save_interval == 300
    assert settings.discord.error_channel_id == "123456789012345678"
    assert settings.agents.claude_model == "claude-opus-4"
    assert settings.logging.level == "DEBUG"
    assert settings.monitoring.alert_thresholds.error_rate == 0.1
    assert settings.monitoring.alert_thresholds.response_time == 30
    assert (settings.api.port, settings.api.max_page_size, settings.api.host) == (
        9000,
        100,
        "127.0.0.1",
    )


def test_config_file_comes_from_awf_config_or_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write(tmp_path / "config.yml", "orchestrator: {mode: partial}\n")
    assert load_settings(awf_env="test").orchestrator.mode == "partial"
    other = _write(tmp_path / "other.yml", "orchestrator: {mode: autonomous}\n")
    monkeypatch.setenv("AWF_CONFIG", str(other))
    assert load_settings(awf_env="test").orchestrator.mode == "autonomous"


def test_a_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.yml does not exist"):
        load_settings(tmp_path / "nope.yml", awf_env="test")


@pytest.mark.parametrize("text", ["- orchestrator\n", "just a string\n"])
def test_a_config_file_that_is_not_a_mapping_is_an_error(tmp_path: Path, text: str) -> None:
    config = _write(tmp_path / "c.yml", text)
    with pytest.raises(ValueError, match="the top level must be a mapping of sections"):
        load_settings(config, awf_env="test")


def test_env_overrides_the_file_and_overrides_win_over_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = _write(
        tmp_path / "c.yml", "orchestrator: {max_concurrent_projects: 7, mode: partial}\n"
    )
    monkeypatch.setenv("ORCHESTRATOR__MAX_CONCURRENT_PROJECTS", "5")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("AWF_ENV", "test")
    settings = load_settings(config)
    assert settings.orchestrator.max_concurrent_projects == 5
    assert settings.orchestrator.mode == "partial"
    assert settings.logging.level == "WARNING"
    assert load_settings(config, orchestrator={"max_concurrent_projects": 2}).orchestrator == (
        settings.orchestrator.model_copy(update={"max_concurrent_projects": 2})
    )


def test_bad_yaml_value_names_the_key_and_the_rule(tmp_path: Path) -> None:
    config = _write(tmp_path / "c.yml", "orchestrator:\n  max_concurrent_projects: 0\n")
    assert _error(config, awf_env="test") == (
        "orchestrator.max_concurrent_projects: Input should be greater than or equal to 1"
    )


def test_disabled_test_plugins_are_plugin_names(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yml", "agents:\n  test_disabled_plugins: [xdist, my.plugin]\n")
    assert load_settings(good, awf_env="test").agents.test_disabled_plugins == [
        "xdist",
        "my.plugin",
    ]
    bad = _write(tmp_path / "bad.yml", "agents:\n  test_disabled_plugins: ['x; rm -rf /']\n")
    assert _error(bad, awf_env="test").startswith(
        "agents.test_disabled_plugins.0: String should match pattern"
    )


def test_bad_env_values_name_the_key_and_what_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATOR__MODE", "fast")
    monkeypatch.setenv("API__PORT", "http")
    monkeypatch.setenv("LOG_LEVEL", "loud")
    assert _error(awf_env="test").splitlines() == [
        "LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'",
        "orchestrator.mode: Input should be 'blocking', 'partial' or 'autonomous'",
        "api.port: Input should be a valid integer, unable to parse string as an integer",
    ]


def test_an_unknown_awf_env_is_named_without_knock_on_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWF_ENV", "staging")
    assert _error() == "AWF_ENV: Input should be 'dev', 'test' or 'production'"


def test_unknown_yaml_keys_are_refused_by_name(tmp_path: Path) -> None:
    config = _write(tmp_path / "c.yml", "orchestratr: {}\nagents: {timeout: 5}\n")
    agents, orchestratr = _error(config, awf_env="test").splitlines()
    assert agents.startswith(
        "agents.timeout: unknown key (allowed: claude_model, context_tokens, max_retries, "
    )
    assert "timeout_minutes" in agents
    assert orchestratr.startswith("orchestratr: unknown key (allowed: agents, anthropic_api_key, ")


def test_api_default_page_size_cannot_exceed_the_maximum() -> None:
    assert _error(awf_env="test", api={"default_page_size": 600}) == (
        "api: default_page_size (600) must not exceed max_page_size (500)"
    )


def test_secrets_never_appear_in_errors_or_repr(tmp_path: Path) -> None:
    leaked = "changeme-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
    token = "discord-token-4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"
    config = _write(tmp_path / "c.yml", "orchestrator: {max_concurrent_projects: 0}\n")
    with pytest.raises(ValidationError) as info:
        load_settings(config, jwt_secret=leaked, encryption_key=leaked, discord_bot_token=token)
    for text in (str(info.value), repr(info.value), format_settings_error(info.value)):
        assert leaked not in text
        assert token not in text
    settings = load_settings(awf_env="test", jwt_secret=leaked, discord_bot_token=token)
    for text in (str(settings), repr(settings), settings.model_dump_json()):
        assert leaked not in text
        assert token not in text


def test_get_settings_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWF_ENV", "test")
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()
