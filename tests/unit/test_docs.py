"""docs/*.md cannot drift from the code: every `awf` command and option they show, every setting
key, `SECTION__KEY` variable, `AWF_*` name, Helm value, metric, repository path and link they name
exists, and every config.yml or values example validates.

The allowed sets come from the CLI app, the Settings model, helm/awf/values.schema.json and the
metrics registry, never from a list kept here.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import typer
import yaml
from prometheus_client.metrics import MetricWrapperBase
from pydantic import BaseModel, ValidationError

from services.cli.main import app
from shared.observability import metrics
from shared.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
_FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")
_PLACEHOLDER = "PLACEHOLDER"
_SEPARATORS = frozenset({"|", "||", "&&", ";", "&", "(", ")", ">", ">>", "<"})
_BEFORE_COMMAND = frozenset({"run", "--", "exec", "sudo", "then", "do", *_SEPARATORS})
_DOTTED = re.compile(r"([a-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)(?:=.*)?")
_FILES = (".yml", ".yaml", ".json", ".conf", ".md", ".py", ".txt")
_NESTED_ENV = re.compile(r"\b[A-Z][A-Z0-9]*(?:__[A-Z0-9_]+)+\b")
_AWF_ENV = re.compile(r"\bAWF_[A-Z0-9_]*[A-Z0-9]\b")
_METRIC = re.compile(r"\b[a-z][a-z0-9_]*_(?:total|seconds|bucket|depth)s?\b")
_REPO_PATH = re.compile(r"(?:services|shared|helm|k8s|loadtest|tests|docs|\.deploy|\.ci)/[\w./-]*")
_LINK = re.compile(r"\]\(([^)\s#]*)(?:#([^)\s]+))?\)")


def _snippets() -> list[tuple[str, str, str]]:
    """(doc, language, text) of every fenced block ("inline" for inline code outside them)."""
    found = []
    for doc in DOCS:
        text = doc.read_text()
        found += [(doc.name, m[1] or "text", dedent(m[2])) for m in _FENCE.finditer(text)]
        found += [(doc.name, "inline", m[1]) for m in _INLINE.finditer(_FENCE.sub("", text))]
    return found


SNIPPETS = _snippets()


def _model_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, field in model.model_fields.items():
        paths.add(prefix + name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            paths |= _model_paths(field.annotation, f"{prefix}{name}.")
    return paths


def _schema_paths(node: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for name, child in node.get("properties", {}).items():
        paths |= {prefix + name, *_schema_paths(child, f"{prefix}{name}.")}
    return paths


SETTINGS = _model_paths(Settings)
SECTIONS = {p.split(".")[0] for p in SETTINGS if "." in p}
SCHEMA = json.loads((ROOT / "helm/awf/values.schema.json").read_text())
HELM = _schema_paths(SCHEMA)
HELM_TOP = {p for p in HELM if "." not in p}


# --- awf commands -------------------------------------------------------------------------


def _tokens(line: str) -> list[str]:
    line = re.sub(r"<[^<>\n]*>", _PLACEHOLDER, line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return [t.strip("[]") for t in lexer]
    except ValueError:  # an unbalanced quote: prose, not a shell line
        return line.split()


def _invocations(line: str) -> Iterator[list[str]]:
    """The arguments after each `awf` that runs as a command on a shell line."""
    tokens = _tokens(line)
    for i, token in enumerate(tokens):
        if i and tokens[i - 1] == "-c":  # sh -c '...'
            yield from _invocations(token)
        is_awf = token == "awf" or re.sub(r"^\w+=", "", token).endswith("/bin/awf")
        docker = tokens[0] in ("docker", "podman") and {"exec", "run"} & set(tokens[:i])
        if is_awf and (i == 0 or tokens[i - 1] in _BEFORE_COMMAND or docker or token != "awf"):
            yield tokens[i + 1 :]


CLI = typer.main.get_command(app)


def _takes_value(command: Any, option: str) -> bool | None:
    """Whether ``option`` of ``command`` takes a value; None when it has no such option.
    (Typer's own copy of click: duck-typed.)"""
    if option in ("--help", "-h"):
        return False
    for param in command.params:
        if option in (*param.opts, *param.secondary_opts):
            return param.param_type_name == "option" and not param.is_flag
    return None


def _command_problem(args: list[str]) -> str | None:
    command: Any = CLI
    path, i = ["awf"], 0
    while i < len(args) and args[i] not in _SEPARATORS and not args[i].startswith("#"):
        arg = args[i]
        if _PLACEHOLDER in arg:
            return None
        if arg.startswith("-"):
            option = arg.split("=")[0]
            takes_value = _takes_value(command, option)
            if takes_value is None:
                return f"`{' '.join(path)}` has no option {option}"
            i += 1 + (takes_value and "=" not in arg)
            continue
        if hasattr(command, "commands"):  # a group
            sub = command.commands.get(arg)
            if sub is None:
                return f"`{' '.join(path)}` has no command {arg!r}"
            command, path = sub, [*path, arg]
        i += 1
    return None


def test_every_awf_command_and_option_exists() -> None:
    problems = {
        f"{doc}: {problem}"
        for doc, _, text in SNIPPETS
        for line in text.replace("\\\n", " ").splitlines()
        for args in _invocations(line)
        if (problem := _command_problem(args))
    }
    assert not problems, "\n".join(sorted(problems))


# --- settings, env names, Helm values, metrics -------------------------------------------


def _key_problem(key: str) -> str | None:
    head = key.split(".")[0]
    if key.endswith(_FILES) or (head not in SECTIONS and head not in HELM_TOP):
        return None
    if key in SETTINGS or key in HELM or key.removeprefix("config.") in SETTINGS:
        return None
    return f"no setting or Helm value {key}"


def _keys(lang: str, text: str) -> Iterator[str]:
    if lang == "inline" and (match := _DOTTED.fullmatch(text.strip())):
        yield match[1]
    yield from re.findall(r"--set ([\w.]+)=", text)


def _metric_names() -> set[str]:
    """Every metric shared/observability/metrics.py defines, whatever registry it is in."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
    names = set()
    for metric in vars(metrics).values():
        for family in metric.describe() if isinstance(metric, MetricWrapperBase) else []:
            names |= {family.name, *(family.name + s for s in suffixes.get(family.type, []))}
    return names


def _awf_names() -> str:
    sources = [ROOT / "compose.yaml", ROOT / ".env.example", ROOT / "Dockerfile"]
    for folder in ("services", "shared", "helm", "loadtest"):
        sources += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".yaml", ".tpl")]
    return "\n".join(p.read_text() for p in sources)


def test_every_named_setting_variable_value_and_metric_exists() -> None:
    metrics, awf_names = _metric_names(), set(_AWF_ENV.findall(_awf_names()))
    problems = set()
    for doc, lang, text in SNIPPETS:
        problems |= {f"{doc}: {p}" for k in _keys(lang, text) if (p := _key_problem(k))}
        for name in set(_NESTED_ENV.findall(text)) - {"SECTION__KEY"}:
            if name.lower().replace("__", ".") not in SETTINGS:
                problems.add(f"{doc}: {name} is no setting")
        unknown = set(_AWF_ENV.findall(text)) - awf_names
        problems |= {f"{doc}: {name} is used nowhere in the code" for name in unknown}
        if lang in ("inline", "promql"):
            problems |= {f"{doc}: no metric {m}" for m in _METRIC.findall(text) if m not in metrics}
    assert not problems, "\n".join(sorted(problems))


# --- example files --------------------------------------------------------------------------


def _settings_problem(doc: dict[str, Any]) -> str | None:
    for name, value in doc.items():
        if name not in SECTIONS:
            return f"no section {name}"
        model = Settings.model_fields[name].annotation
        assert isinstance(model, type)
        assert issubclass(model, BaseModel)
        try:
            model.model_validate(value)
        except ValidationError as exc:
            return f"{name}: {exc}"
    return None


def _values_problem(doc: Any, schema: dict[str, Any], path: str = "") -> str | None:
    if not isinstance(doc, dict) or "properties" not in schema:
        return None
    for name, value in doc.items():
        if path == "" and name == "config":
            problem = _settings_problem(value)
        elif name not in schema["properties"]:
            problem = f"no Helm value {path}{name}"
        else:
            problem = _values_problem(value, schema["properties"][name], f"{path}{name}.")
        if problem:
            return problem
    return None


@pytest.mark.parametrize(
    "text", [t for _, lang, t in SNIPPETS if lang == "yaml"], ids=lambda t: t.splitlines()[0]
)
def test_yaml_examples_validate(text: str) -> None:
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict) or not set(doc) <= SECTIONS | HELM_TOP:
            continue  # a Kubernetes manifest or another tool's file
        as_settings = _settings_problem(doc)
        as_values = _values_problem(doc, SCHEMA)
        assert as_settings is None or as_values is None, f"{as_settings}\n{as_values}"


# --- paths and links ----------------------------------------------------------------------


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_repository_path_exists() -> None:
    missing = {
        f"{doc}: no file {m[0]}"
        for doc, lang, text in SNIPPETS
        if lang == "inline" and (m := _REPO_PATH.fullmatch(text)) and not (ROOT / m[0]).exists()
    }
    assert not missing, "\n".join(sorted(missing))


def _link_problem(page: Path, target: str, anchor: str) -> str | None:
    file = (page.parent / target).resolve() if target else page
    if not file.exists():
        return f"{page.name}: broken link {target}"
    if anchor and file.suffix == ".md":
        slugs = {_slug(h) for h in re.findall(r"^#+ (.+)$", file.read_text(), re.MULTILINE)}
        if anchor not in slugs:
            return f"{page.name}: no heading #{anchor} in {file.name}"
    return None


def test_every_link_and_anchor_resolves() -> None:
    problems = {
        problem
        for page in DOCS
        for target, anchor in _LINK.findall(page.read_text())
        if not target.startswith("http") and (problem := _link_problem(page, target, anchor))
    }
    assert not problems, "\n".join(sorted(problems))
