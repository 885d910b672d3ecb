"""Pure rules of the gateway: IDENTIFY back-off and the leader's timing settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.platform.settings import GatewaySettings
from shared.state.gateway_guards import IdentifyPolicy, identify_delay

POLICY = IdentifyPolicy(daily_budget=100, backoff_base_s=5, backoff_max_s=300, flap_window_s=900)


@pytest.mark.parametrize(
    ("streak", "delay"),
    [(1, 0.0), (2, 0.0), (3, 5.0), (4, 10.0), (5, 20.0), (9, 300.0), (50, 300.0)],
)
def test_identify_delay_spares_one_takeover_then_doubles_up_to_the_cap(
    streak: int, delay: float
) -> None:
    assert identify_delay(streak, POLICY) == delay


def test_default_timing_meets_the_takeover_bounds() -> None:
    gateway = GatewaySettings()
    assert gateway.lease_ttl_s == 6.0
    assert gateway.renew_every_s == 2.0
    assert gateway.standby_poll_s == pytest.approx(1.2)
    # a crashed leader's lease lapses within ttl; a standby notices within one poll
    assert gateway.lease_ttl_s + gateway.standby_poll_s < 10
    assert gateway.identify_budget_per_day < 1_000


def test_the_standby_poll_can_be_set_and_is_capped() -> None:
    assert GatewaySettings(poll_interval_s=0.5).standby_poll_s == 0.5
    assert GatewaySettings(lease_ttl_s=60).standby_poll_s == 4.0


@pytest.mark.parametrize(
    "overrides",
    [
        {"lease_ttl_s": 2, "poll_interval_s": 3},
        {"identify_backoff_base_s": 10, "identify_backoff_max_s": 5},
        {"identify_backoff_max_s": 900, "identify_flap_window_s": 900},
        {"identify_budget_per_day": 1_000},
        {"duty": "nonsense"},
    ],
)
def test_inconsistent_gateway_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings.model_validate(overrides)
