"""Settings from the environment, validated at start-up."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from smart_shared.money import to_decimal

DEFAULT_JWT_SECRET = "local-development-secret-change-me"
"""Published in the repository: anyone can mint tokens with it, so only ``SMART_ENV=local``."""


DEFAULT_LINK_SECRET = "local-link-secret-change-me"

FUND_INITIAL_CAPITAL = "SMART_FUND_INITIAL_CAPITAL_"
"""One variable per branch (``SMART_FUND_INITIAL_CAPITAL_BE="500000.00"``), whatever the branch."""


class DebtorAccount(BaseModel):
    """The cooperative's own account a branch pays its salaries from (pain.001 debtor)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iban: str = Field(pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
    bic: str = Field(pattern=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")

    @field_validator("iban", mode="before")
    @classmethod
    def _compact(cls, value: object) -> object:
        # an IBAN is often written in groups of four: the same account either way
        return "".join(value.split()).upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """What a service process needs to know about its deployment.

    Every field reads the environment variable of the same name in upper case (``MONGODB_URI``,
    ``KAFKA_BOOTSTRAP_SERVERS``) or with the ``SMART_`` prefix where marked.
    """

    # fields are read only under their aliases: a bare HOME, HOST or PORT must not leak in
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    env: Literal["local", "staging", "production"] = Field(
        "local", alias="SMART_ENV",
        description="local: a developer's machine (HS256, `smart token`, example bank accounts "
        "allowed); anything else refuses to start with local-only stand-ins.",
    )
    service: str = Field("", alias="SMART_SERVICE")
    branches: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BE", "FR"], alias="SMART_BRANCHES"
    )
    deployment: str = Field("local", alias="SMART_DEPLOYMENT")
    host: str = Field("127.0.0.1", alias="SMART_SERVICE_HOST")
    port: int = Field(
        8000, alias="SMART_SERVICE_PORT",
        description="Unless set, the service's own port, given once to build_service.")
    home: Path = Field(Path(".local"), alias="SMART_HOME")
    rule_pack_dir: Path | None = Field(
        None, alias="SMART_RULE_PACK_DIR",
        description="A folder of the deployment's own rule packs: one there replaces the "
        "built-in pack of its id.")

    peppol_simulator_failing: bool | None = Field(
        None, alias="SMART_PEPPOL_SIMULATOR_FAILING",
        description="Set: the simulated Peppol access point fails (or answers) for every branch "
        "from the start.")
    declaration_simulator_failing: bool | None = Field(
        None, alias="SMART_DECLARATION_SIMULATOR_FAILING",
        description="Set: the simulated social-security gateway fails (or answers) for every "
        "branch from the start.")

    mongodb_uri: str = Field(
        "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true", alias="MONGODB_URI"
    )
    mongodb_database: str = Field("", alias="SMART_MONGODB_DATABASE")
    database_prefix: str = Field(
        "", alias="SMART_DATABASE_PREFIX", pattern=r"^[a-z0-9_]*$",
        description="Prefix of every service database (a test platform beside the real one).",
    )
    mongodb_tls_ca_file: str | None = Field(None, alias="MONGODB_TLS_CA_FILE")
    mongodb_tls_certificate_key_file: str | None = Field(
        None, alias="MONGODB_TLS_CERTIFICATE_KEY_FILE"
    )

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = Field(
        "SCRAM-SHA-512", alias="KAFKA_SASL_MECHANISM"
    )
    kafka_sasl_username: str | None = Field(None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: str | None = Field(None, alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: str | None = Field(None, alias="KAFKA_SSL_CAFILE")

    topic_namespace: str = Field(
        "", alias="SMART_TOPIC_NAMESPACE", pattern=r"^[a-z0-9_.-]*$",
        description="Prefix of every topic name; lets tests share one broker without crosstalk.",
    )
    clock: Literal["system", "shared"] = Field("shared", alias="SMART_CLOCK")
    clock_id: str = Field(
        "clock", alias="SMART_CLOCK_ID",
        description="Which shared clock to follow: all processes of one platform use the same.",
    )

    jwt_secret: str = Field(DEFAULT_JWT_SECRET, alias="SMART_JWT_SECRET")
    jwt_algorithm: Literal["HS256", "RS256"] = Field("HS256", alias="SMART_JWT_ALGORITHM")
    jwt_public_key_file: str | None = Field(None, alias="SMART_JWT_PUBLIC_KEY_FILE")
    link_secret: str = Field(
        DEFAULT_LINK_SECRET, alias="SMART_LINK_SECRET", min_length=16,
        description="Signs the capability links that open a client's invoice (smart_shared.links).")

    jwt_issuer: str = Field("smart-members", alias="SMART_JWT_ISSUER")
    jwt_signing_key_file: Path | None = Field(
        None, alias="SMART_JWT_SIGNING_KEY_FILE",
        description="members' RS256 private key (PEM); locally made under SMART_HOME/keys.")
    jwt_previous_key_files: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, alias="SMART_JWT_PREVIOUS_KEY_FILES",
        description="Keys still published during a roll-over (comma-separated PEM files).")
    jwks_url: str = Field("http://127.0.0.1:8001/.well-known/jwks.json", alias="SMART_JWKS_URL")
    oidc_issuer: str | None = Field(None, alias="SMART_OIDC_ISSUER")
    oidc_jwks_url: str | None = Field(None, alias="SMART_OIDC_JWKS_URL")
    oidc_audience: str | None = Field(None, alias="SMART_OIDC_AUDIENCE")
    oidc_role_claim: str = Field("role", alias="SMART_OIDC_ROLE_CLAIM")
    oidc_branch_claim: str = Field("branch", alias="SMART_OIDC_BRANCH_CLAIM")
    oidc_member_id_claim: str = Field("member_id", alias="SMART_OIDC_MEMBER_ID_CLAIM")

    smtp_host: str = Field("127.0.0.1", alias="SMART_SMTP_HOST")
    smtp_port: int = Field(1025, alias="SMART_SMTP_PORT", ge=1, le=65535)
    smtp_starttls: bool = Field(False, alias="SMART_SMTP_STARTTLS")
    smtp_username: str | None = Field(None, alias="SMART_SMTP_USERNAME")
    smtp_password: str | None = Field(None, alias="SMART_SMTP_PASSWORD")
    mail_sender: str = Field("SMart <no-reply@smart.coop>", alias="SMART_MAIL_SENDER")
    mail_batch_size: int = Field(50, alias="SMART_MAIL_BATCH_SIZE", ge=1, le=500)
    mail_max_attempts: int = Field(8, alias="SMART_MAIL_MAX_ATTEMPTS", ge=1)
    mail_retry_seconds: float = Field(
        5.0, alias="SMART_MAIL_RETRY_SECONDS", gt=0,
        description="First wait before a failed mail is tried again; doubles each time.")
    mail_idle_seconds: float = Field(1.0, alias="SMART_MAIL_IDLE_SECONDS", gt=0)
    separate_mailer: bool = Field(
        False, alias="SMART_SEPARATE_MAILER",
        description="The service's mails are sent by its mailer, a process of its own "
        "(`python -m <service> mailer`), not by the service: rendering the documents they "
        "attach then never delays the service's events and requests.")
    einvoice_retry_seconds: float = Field(
        5.0, alias="SMART_EINVOICE_RETRY_SECONDS", gt=0,
        description="First wait before an e-invoice the access point did not take is sent "
        "again, and between asks for the outcome of one in transit; doubles each time.")
    portal_url: str = Field("http://127.0.0.1:8000", alias="SMART_PORTAL_URL")
    staff_mailbox: str | None = Field(
        None, alias="SMART_STAFF_MAILBOX",
        description="Where the staff's daily digest goes, e.g. staff-{branch}@smart.coop.")

    replica: str = Field(
        "", alias="SMART_REPLICA", pattern=r"^[A-Za-z0-9_.-]*$",
        description="A name this replica keeps across restarts (a pod name, an ordinal), unique "
        "among the replicas of one service: a restarted replica then takes its partitions, "
        "leases and MongoDB sessions back from its dead predecessor at once.",
    )
    consumer_batch_size: int = Field(500, alias="SMART_CONSUMER_BATCH_SIZE", ge=1, le=5000)
    # a dead replica that does not come back holds its partitions this long (broker min 6 s)
    consumer_session_timeout_ms: int = Field(10_000, alias="SMART_CONSUMER_SESSION_TIMEOUT_MS",
                                             ge=6_000, le=300_000)
    # a live member learns of a rebalance (and rejoins) within a second
    consumer_heartbeat_interval_ms: int = Field(1_000, alias="SMART_CONSUMER_HEARTBEAT_MS",
                                                ge=100, le=10_000)
    # how long a rebalance waits for a member that started rejoining and then died
    consumer_rebalance_timeout_ms: int = Field(10_000, alias="SMART_CONSUMER_REBALANCE_TIMEOUT_MS",
                                               ge=1_000, le=300_000)
    stall_seconds: float = Field(
        30.0, alias="SMART_STALL_SECONDS", gt=0,
        description="The consumer behind the end of its partitions with no batch finished for "
        "this long, or without a partition for this long, or the outbox relay with no round "
        "finished for this long, counts as stalled: the service is not ready.",
    )
    consumer_max_retries: int = Field(3, alias="SMART_CONSUMER_MAX_RETRIES", ge=0)
    relay_batch_size: int = Field(500, alias="SMART_RELAY_BATCH_SIZE", ge=1, le=5000)
    relay_idle_seconds: float = Field(0.25, alias="SMART_RELAY_IDLE_SECONDS", gt=0)
    scheduler_interval_seconds: float = Field(1.0, alias="SMART_SCHEDULER_INTERVAL", gt=0)
    automatic_payment_runs: bool = Field(
        True, alias="SMART_AUTOMATIC_PAYMENT_RUNS",
        description="Payroll opens each branch's payment run the working day before every pay "
        "date by itself; off only where staff play every run by hand (the demo scenario).")
    debtor_accounts: dict[str, DebtorAccount] = Field(
        default_factory=dict, alias="SMART_DEBTOR_ACCOUNTS",
        description="Payroll: each branch's salary account, as JSON "
        '{"BE": {"iban": "BE…", "bic": "…"}}; required outside local, where the rule pack\'s '
        "example account stands in.")
    fund_initial_capital: dict[str, Decimal] = Field(
        default_factory=dict, alias="SMART_FUND_INITIAL_CAPITAL",
        description="Fund: the capital booked once at start-up for each served branch, from "
        'SMART_FUND_INITIAL_CAPITAL_<BRANCH>="500000.00" (a positive amount in cents).')
    max_body_bytes: int = Field(1_048_576, alias="SMART_MAX_BODY_BYTES", ge=1024)
    public_rate_per_minute: int = Field(
        30, alias="SMART_PUBLIC_RATE_PER_MINUTE", ge=1,
        description="Requests a minute one address may send without a valid token (registration, "
        "signing links, login); a person needs a handful.",
    )
    public_burst: int = Field(30, alias="SMART_PUBLIC_BURST", ge=1)

    otel_exporter_otlp_endpoint: str | None = Field(None, alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    local_traces: bool = Field(True, alias="SMART_LOCAL_TRACES")
    trace_mongo: bool = Field(
        True, alias="SMART_TRACE_MONGO",
        description="A span per MongoDB command of traced work (smart_shared.telemetry."
        "MongoCommandSpans); sampling (OTEL_TRACES_SAMPLER) keeps it cheaper still.",
    )
    log_level: str = Field("INFO", alias="SMART_LOG_LEVEL")

    @field_validator("branches", mode="before")
    @classmethod
    def _split_branches(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().startswith("["):
            import json

            value = json.loads(value)
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(b).strip().upper() for b in value if str(b).strip()]
        return value

    @model_validator(mode="before")
    @classmethod
    def _capital_per_branch(cls, data: Any) -> Any:
        """Gather ``SMART_FUND_INITIAL_CAPITAL_<BRANCH>`` (given, or from the environment: the
        branches are not known in advance) into ``fund_initial_capital``."""
        if not isinstance(data, dict):
            return data
        named = {**os.environ, **data}
        capital = {name[len(FUND_INITIAL_CAPITAL):].upper(): text
                   for name, text in named.items()
                   if name.upper().startswith(FUND_INITIAL_CAPITAL) and text}
        if not capital:
            return data
        return {**data, "SMART_FUND_INITIAL_CAPITAL": {
            **capital, **(data.get("SMART_FUND_INITIAL_CAPITAL") or {})}}

    @field_validator("fund_initial_capital", mode="before")
    @classmethod
    def _served_capital(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, dict):
            return value
        served = info.data.get("branches") or []
        capital: dict[str, Decimal] = {}
        for branch, text in value.items():
            if branch not in served:
                continue
            try:
                amount = to_decimal(text)
            except ValueError:
                amount = Decimal(0)
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                raise ValueError(f"{FUND_INITIAL_CAPITAL}{branch} must be a positive amount "
                                 f"in cents, not {text!r}")
            capital[branch] = amount
        return capital

    @field_validator("jwt_previous_key_files", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        if isinstance(value, str):
            return [Path(part.strip()) for part in value.split(",") if part.strip()]
        return value

    @field_validator("branches")
    @classmethod
    def _known_branches(cls, value: list[str]) -> list[str]:
        for branch in value:
            if len(branch) != 2 or not branch.isalpha():
                raise ValueError(f"{branch!r} is not a two-letter branch code")
        if not value:
            raise ValueError("at least one branch must be served")
        return value

    @property
    def database_name(self) -> str:
        return self.mongodb_database or f"{self.database_prefix}smart_{self.service}"

    def topic(self, canonical: str) -> str:
        """The topic name in this deployment (the canonical name unless a namespace is set)."""
        return f"{self.topic_namespace}{canonical}"

    @property
    def consumer_group(self) -> str:
        """Consumer groups are per service and deployment, so BE and FR share a cluster safely."""
        return f"smart.{self.deployment}.{self.service}"

    @property
    def group_instance_id(self) -> str | None:
        """The static member id of this replica in its consumer group (KIP-345), when it has a
        stable name: a restart takes its partitions back without waiting for a rebalance."""
        return f"{self.consumer_group}.{self.replica}" if self.replica else None

    def kafka_security(self) -> dict[str, object]:
        """aiokafka connection options for TLS and SASL/SCRAM (empty for local plaintext)."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        import ssl

        options: dict[str, object] = {"security_protocol": self.kafka_security_protocol}
        if "SSL" in self.kafka_security_protocol:
            options["ssl_context"] = ssl.create_default_context(cafile=self.kafka_ssl_cafile)
        if "SASL" in self.kafka_security_protocol:
            options.update(
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_plain_username=self.kafka_sasl_username,
                sasl_plain_password=self.kafka_sasl_password,
            )
        return options

    def faststream_security(self) -> object | None:
        """The same settings as a FastStream security object (``None`` for local plaintext)."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return None
        import ssl

        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        use_ssl = "SSL" in self.kafka_security_protocol
        context = ssl.create_default_context(cafile=self.kafka_ssl_cafile) if use_ssl else None
        if "SASL" not in self.kafka_security_protocol:
            return BaseSecurity(ssl_context=context, use_ssl=True)
        kind = {"SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512,
                "PLAIN": SASLPlaintext}[self.kafka_sasl_mechanism]
        return kind(
            username=self.kafka_sasl_username or "",
            password=self.kafka_sasl_password or "",
            ssl_context=context,
            use_ssl=use_ssl,
        )

    def unsafe_for_production(self) -> list[str]:
        """Why this deployment must not start outside ``SMART_ENV=local`` (empty: it may)."""
        if self.env == "local":
            return []
        from smart_shared.rulepacks import placeholders

        reasons = []
        if self.jwt_algorithm == "HS256" and self.jwt_secret == DEFAULT_JWT_SECRET:
            reasons.append("SMART_JWT_SECRET is the default secret published in the repository")
        elif self.jwt_algorithm == "HS256" and len(self.jwt_secret.encode()) < 32:
            reasons.append("SMART_JWT_SECRET is shorter than 32 bytes")
        if self.link_secret == DEFAULT_LINK_SECRET:
            reasons.append("SMART_LINK_SECRET is the default secret published in the repository")
        # the salary account comes from SMART_DEBTOR_ACCOUNTS, not from the pack's example
        stand_ins = [where for branch in self.branches for where in placeholders(branch)
                     if not where.endswith(("payroll.toml: payer.iban", "payroll.toml: payer.bic"))]
        if self.service == "payroll":
            reasons.extend(f"SMART_DEBTOR_ACCOUNTS has no salary account for branch {branch}"
                           for branch in self.branches if branch not in self.debtor_accounts)
        if stand_ins:
            reasons.append(f"the rule packs hold placeholders (stand-in bank accounts, "
                           "registration numbers, insurance policies or lending terms: "
                           f"{', '.join(stand_ins)}); point "
                           "SMART_RULE_PACK_DIR at packs with the real values")
        return reasons

    def mongo_options(self) -> dict[str, object]:
        """PyMongo TLS / x.509 options (the URI carries SCRAM credentials)."""
        options: dict[str, object] = {}
        if self.mongodb_tls_ca_file:
            options.update(tls=True, tlsCAFile=self.mongodb_tls_ca_file)
        if self.mongodb_tls_certificate_key_file:
            options.update(tls=True, tlsCertificateKeyFile=self.mongodb_tls_certificate_key_file)
        return options
