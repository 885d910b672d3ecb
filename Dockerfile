# syntax=docker/dockerfile:1.7
# One image for every service; the command picks it: api (worker and gateway follow).
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project
COPY pyproject.toml uv.lock README.md ./
COPY services ./services
COPY shared ./shared
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev

FROM python:3.11-slim
RUN groupadd --system --gid 10001 awf && useradd --system --uid 10001 --gid awf --no-create-home awf
WORKDIR /app
COPY --from=build --chown=awf:awf /app /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 AWF_ENV=production API__HOST=0.0.0.0
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["python", "-m"]
CMD ["services.api"]
