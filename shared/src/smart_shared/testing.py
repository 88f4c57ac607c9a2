"""Test support: the genuine Kafka and MongoDB for integration tests, and services run in-process.

Loaded as a pytest plugin from the repository's ``conftest.py``. The infrastructure comes from
``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URI`` when set, else from testcontainers when a Docker
engine answers, else from the local launcher (``deploy/local/smartctl.py up --infra-only``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smart_shared.ids import new_id
from smart_shared.service import create_topics

__all__ = ["create_topics"]


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap_servers: str
    mongodb_uri: str


def _repo_root() -> Path:
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "deploy" / "local" / "smartctl.py").exists():
            return folder
    raise RuntimeError("run the tests from inside the repository")


def _docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _from_testcontainers() -> tuple[Infrastructure, list[Any]]:
    from testcontainers.kafka import KafkaContainer  # type: ignore[import-not-found]
    from testcontainers.mongodb import MongoDbContainer  # type: ignore[import-not-found]

    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    mongo = MongoDbContainer("mongo:8").with_command("--replSet rs0 --bind_ip_all")
    kafka.start()
    mongo.start()
    return Infrastructure(kafka.get_bootstrap_server(), mongo.get_connection_url()), [kafka, mongo]


def start_infrastructure() -> tuple[Infrastructure, list[Any]]:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if bootstrap and mongo:
        return Infrastructure(bootstrap, mongo), []
    if os.environ.get("SMART_TEST_DOCKER") == "1" and _docker_engine_answers():
        return _from_testcontainers()
    root = _repo_root()
    subprocess.run(
        [sys.executable, str(root / "deploy" / "local" / "smartctl.py"), "up", "--infra-only"],
        check=True,
    )
    env = subprocess.run(
        [sys.executable, str(root / "deploy" / "local" / "smartctl.py"), "env"],
        check=True, capture_output=True, text=True,
    )
    import json

    values = json.loads(env.stdout)
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", values["KAFKA_BOOTSTRAP_SERVERS"])
    os.environ.setdefault("MONGODB_URI", values["MONGODB_URI"])
    return Infrastructure(values["KAFKA_BOOTSTRAP_SERVERS"], values["MONGODB_URI"]), []


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """The genuine Kafka broker and mongod replica set the integration tests talk to."""
    infra, containers = start_infrastructure()
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = infra.kafka_bootstrap_servers
    os.environ["MONGODB_URI"] = infra.mongodb_uri
    yield infra
    for container in containers:
        container.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_name(prefix: str) -> str:
    """A name no other test run uses (databases, topics, consumer groups)."""
    return f"{prefix}_{new_id().replace('-', '')[-12:]}"


@asynccontextmanager
async def serving(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn in this event loop; yields its base URL."""
    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                            lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def eventually(check: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Await ``check()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(interval)
