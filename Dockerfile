# syntax=docker/dockerfile:1
# One image recipe for every service; build from the repository root, naming the service and its
# port (the same port the service gives build_service):
#   docker build --build-arg SERVICE=billing --build-arg PORT=8003 -t smart/billing .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<name>" >&2; exit 1; }
RUN pip install --no-cache-dir uv==0.13.9
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY shared shared
# the test helpers are a workspace member: there for uv to read, never installed (--no-dev)
COPY testing testing
COPY services services
RUN uv sync --frozen --no-dev --no-editable --package smart-${SERVICE}

FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG PORT
RUN test -n "${PORT}" || { echo "build with --build-arg PORT=<port>" >&2; exit 1; }
RUN groupadd --system --gid 10001 smart \
 && useradd --system --uid 10001 --gid smart --create-home --home-dir /home/smart smart
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SMART_SERVICE=${SERVICE} SMART_SERVICE_HOST=0.0.0.0 SMART_SERVICE_PORT=${PORT} \
    SMART_HOME=/home/smart/.local
WORKDIR /home/smart
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD python -c "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/health/ready' % os.environ['SMART_SERVICE_PORT'], timeout=4)"
# the service's package runs as a module: python -m <service>
CMD ["sh", "-c", "exec python -m \"$SMART_SERVICE\""]
