# syntax=docker/dockerfile:1.7
# One image for every service. The command picks it (see services/entrypoint.py):
#   docker run IMAGE api | worker | gateway | health [service] | <any command, e.g. awf backup>
# No secret is baked in: every credential comes from the environment at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# 1. Third-party dependencies from the lock only: rebuilt when pyproject.toml or uv.lock change.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-install-project --no-dev

# 2. pytest for the agents' test runs: shared/agents/testrunner.py runs `sys.executable -m pytest`,
#    so it must live in this venv. Only pytest (+ pytest-timeout), at the versions of the lock's
#    dev group; mypy, ruff and the rest of the dev group stay out of the image.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv export --frozen --only-group dev --no-hashes --no-emit-project -o /tmp/dev-pins.txt \
    && uv pip install --python /app/.venv/bin/python --constraint /tmp/dev-pins.txt \
        pytest pytest-timeout

# 3. The project itself (--inexact keeps step 2's pytest), then its own bytecode: the editable
#    install is not compiled by uv, and pods run with a read-only root filesystem.
COPY pyproject.toml uv.lock README.md ./
COPY services ./services
COPY shared ./shared
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --inexact \
    && python -m compileall -q services shared

FROM ${PYTHON_IMAGE} AS runtime
# git for the agents' workspaces (clone, branch, commit, push), openssh-client for ssh remotes,
# tini as PID 1: it forwards SIGTERM to the service and reaps the test runs' orphaned children.
# Debian versions are not pinned: the security archive replaces them, and the base tag pins the
# release (bookworm).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 awf \
    && useradd --system --uid 10001 --gid awf --home-dir /home/awf --create-home awf
WORKDIR /app
COPY --from=build --chown=root:root /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AWF_ENV=production \
    API__HOST=0.0.0.0 \
    API__PORT=8000
USER 10001:10001
EXPOSE 8000
# api: GET /livez; worker: its arq health key in Redis; gateway: its Redis connection is in use.
# The probe finds the service from the running processes (services/healthcheck.py).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "services.healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "python", "-m", "services.entrypoint"]
CMD ["api"]
