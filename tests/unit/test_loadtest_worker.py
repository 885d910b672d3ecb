"""The worker bench's pure helpers: phase arithmetic, git names, /proc parsing, settings. No clocks."""

from __future__ import annotations

import math

import pytest

from loadtest.git_floor import GIT_FLOOR_COMMANDS, bare_git_phase_ms
from loadtest.p5_details import phase_runs
from loadtest.phase_breakdown import breakdown, git_totals, phase_of
from loadtest.phase_probe import JobSample, git_subcommand
from loadtest.worker_config import WorkerBenchConfig, wbench_env_name
from loadtest.worker_procs import is_setting, parse_kb_field
from loadtest.worker_scenario import AbsoluteGoal, absolute_row


def sample(**spent: tuple[float, float, float, int]) -> JobSample:
    """A finished run_phase sample: category -> (self s, cpu s, wait s, calls)."""
    job = JobSample("run_phase", "phase:p1:cycle-1:CODE_GREEN:3", pickup_s=0.025)
    for category, (wall, cpu, wait, calls) in spent.items():
        job.self_s[category], job.cpu_s[category] = wall, cpu
        job.wait_s[category], job.calls[category] = wait, calls
    return job


@pytest.mark.parametrize(
    ("job_id", "phase"),
    [
        ("phase:p1:cycle-1:CODE_GREEN:3", "CODE_GREEN"),
        ("phase:calc:cycle-9f:DESIGN:1", "DESIGN"),
        ("schedule:p1:start", "?"),
        ("review:p1:sprint-1", "?"),
    ],
)
def test_phase_of_reads_the_phase_from_a_deterministic_job_id(job_id: str, phase: str) -> None:
    assert phase_of(job_id) == phase


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((None, "clone", "--quiet", "--", "/r", "/d"), "git:clone"),
        (("/ws", "-c", "user.name=a", "-c", "user.email=b", "commit", "-m", "x"), "git:commit"),
        (("/ws", "rev-parse", "HEAD"), "git:rev-parse"),
        (("/ws", "--version"), "git:?"),
    ],
)
def test_git_subcommand_skips_the_cwd_and_config_pairs(args: tuple[object, ...], name: str) -> None:
    assert git_subcommand(args) == name


def test_breakdown_takes_model_tests_and_git_out_of_the_wall_time() -> None:
    job = sample(
        model=(0.040, 0.010, 0.001, 5),
        tests=(3.000, 0.002, 0.000, 3),
        **{"git:clone": (0.030, 0.001, 0.002, 1), "git:push": (0.020, 0.001, 0.0, 1)},
        redis=(0.006, 0.003, 0.0, 25),
        tool=(0.004, 0.004, 0.0, 4),
        cleanup=(0.005, 0.001, 0.0, 3),
        redis_rtt=(0.0, 0.0, 0.0, 27),
    )
    job.total = (3.120, 0.040, 0.013)
    x = breakdown(job)
    assert (x.phase, x.git_calls, x.test_runs, x.round_trips) == ("CODE_GREEN", 2, 3, 27)
    assert x.overhead_ms == pytest.approx(3120 - 40 - 3000 - 50)
    assert x.other_ms == pytest.approx(30 - 6 - 4 - 5)
    assert x.overhead_cpu_ms == pytest.approx(40 - 10 - 2 - 2)
    assert x.overhead_wait_ms == pytest.approx(13 - 1 - 2)
    assert x.overhead_net_ms == pytest.approx(30 - 10)
    assert x.floor_ms(0.1) == pytest.approx(2.7)
    assert x.pickup_ms == pytest.approx(25)
    assert x.with_git_ms == pytest.approx(30 + 50)  # everything but the model and the tests
    assert x.broad_ms == pytest.approx(30 + 50 + 25)


def test_phase_runs_leave_out_jobs_that_only_deferred_for_a_slot() -> None:
    ran, deferred, other = sample(), sample(), sample()
    ran.outcome, deferred.outcome = "passed", "Retry"
    other.function = "schedule_sprint"
    assert phase_runs([ran, deferred, other]) == [ran]


def test_git_totals_sum_calls_and_time_most_expensive_first() -> None:
    first = sample(**{"git:clone": (0.030, 0, 0, 1), "git:rev-parse": (0.004, 0, 0, 4)})
    second = sample(**{"git:clone": (0.010, 0, 0, 1), "git:push": (0.050, 0, 0, 1)})
    totals = git_totals([first, second])
    assert list(totals) == ["push", "clone", "rev-parse"]
    calls, spent_ms = totals["clone"]
    assert calls == 2
    assert spent_ms == pytest.approx(40.0)


def test_parse_kb_field_reads_proc_lines_in_mib() -> None:
    status = "Name:\tpython\nVmRSS:\t  102400 kB\nThreads:\t3\n"
    assert parse_kb_field(status, "VmRSS") == 100.0
    assert math.isnan(parse_kb_field(status, "Pss"))
    assert math.isnan(parse_kb_field("Pss: lots\n", "Pss"))


@pytest.mark.parametrize(
    ("variable", "ours"),
    [
        ("REDIS_URL", True),
        ("AGENTS__MAX_TURNS", True),
        ("awf_env", True),
        ("AWF_CONFIG", True),
        ("ANTHROPIC_BASE_URL", True),
        ("PATH", False),
        ("REDIS_URLS", False),
        ("HOME", False),
    ],
)
def test_is_setting_names_what_the_services_would_read(variable: str, ours: bool) -> None:
    assert is_setting(variable) is ours


def test_config_reads_its_variables_and_refuses_unbounded_values() -> None:
    config = WorkerBenchConfig.from_env(
        {wbench_env_name("pickup_jobs"): "2_000", "AWF_WBENCH_ONLY": "p5"}
    )
    assert (config.pickup_jobs, config.selected) == (2000, ("P5",))
    with pytest.raises(ValueError, match="AWF_WBENCH_IDLE_S must be positive"):
        WorkerBenchConfig.from_env({"AWF_WBENCH_IDLE_S": "0"})
    with pytest.raises(ValueError, match="choose among"):
        WorkerBenchConfig.from_env({"AWF_WBENCH_ONLY": "P1"})


def test_absolute_row_is_judged_on_ours_and_shows_the_ratio() -> None:
    goal = AbsoluteGoal("<=", 100.0, what="p95", unit="ms")
    row = absolute_row("pickup", 60.0, 40.0, goal)
    assert row.cells() == ["pickup", "60.0 ms", "40.0 ms", "1.50", "p95 <= 100 ms", "pass"]
    assert absolute_row("pickup", 120.0, 40.0, goal).verdict == "**miss**"


def test_the_git_floor_runs_the_seven_commands_of_a_phase_on_a_real_repository() -> None:
    took = bare_git_phase_ms(2)
    assert len(took) == 2
    assert all(ms > 0 for ms in took)
    assert GIT_FLOOR_COMMANDS == 7
