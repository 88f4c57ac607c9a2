"""The ``smart`` command: local tokens, the platform clock, dead letters, mails, schemas, traces.

    smart token --role staff --branch BE
    smart clock show | advance 30d | reset
    smart dlq list smart.billing.invoice.v1
    smart dlq replay smart.billing.invoice.v1 [--event-id ID]
    smart schemas --out docs/events
    smart asyncapi --out docs
    smart trace CONTRACT_ID
    smart staff add --email ana@smart.coop --name "Ana" --branch BE --role admin
    smart mail list --service billing [--dead]
    smart mail retry --service billing [CAUSE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from smart_shared.settings import Settings

USAGE_ERROR = 2
"""Exit status of every refusal: a wrong option, and a command that cannot do its work."""


class CommandError(Exception):
    """A command that cannot do what was asked: said in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with each mistake said in one line (and where to find the help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([dhm])", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: use a number and d, h "
                                         "or m (30d, 12h, 90m)")
    number, unit = int(match[1]), match[2]
    return {"d": timedelta(days=number), "h": timedelta(hours=number),
            "m": timedelta(minutes=number)}[unit]


def _branch(text: str) -> str:
    from smart_shared.rulepacks import branches

    known = sorted(branches())
    if text not in known:
        raise argparse.ArgumentTypeError(f"{text!r} is not a branch with a rule pack "
                                         f"(one of {', '.join(known)})")
    return text


def cmd_token(args: argparse.Namespace) -> None:
    from smart_shared.auth import mint_token

    if args.role == "member" and not args.member_id:
        raise CommandError("a member token needs --member-id")
    print(mint_token(Settings(), args.role, args.branch, args.member_id, args.sub, args.ttl))


async def cmd_clock(args: argparse.Namespace) -> None:
    from smart_shared.clock import SharedClock
    from smart_shared.mongo import connect

    settings = Settings()
    client = connect(settings.mongodb_uri)
    clock = SharedClock(client, settings.clock_id)
    await clock.refresh()
    if args.action == "advance":
        await clock.advance(args.by)
    elif args.action == "reset":
        await clock.reset()
    print(f"platform time: {clock.now().isoformat()} (today {clock.today().isoformat()})")
    await client.close()


async def cmd_dlq(args: argparse.Namespace) -> None:
    from smart_shared.deadletters import DeadLetterQueue, UnknownTopic
    from smart_shared.events import header_map

    settings = Settings()
    try:
        async with DeadLetterQueue(settings, args.topic) as queue:
            pending = await queue.pending()
            if args.action == "list":
                for record in pending:
                    headers = header_map(record.headers or [])
                    print(json.dumps({
                        "partition": record.partition, "offset": record.offset,
                        "ce_type": headers.get("ce_type"), "ce_id": headers.get("ce_id"),
                        "consumer": headers.get("dlq_consumer"),
                        "error": headers.get("dlq_error"),
                        "failed_at": headers.get("dlq_failed_at"),
                    }))
                print(f"{len(pending)} dead letter(s) pending in {queue.topic}", file=sys.stderr)
                return
            chosen = [r for r in pending if not args.event_id
                      or header_map(r.headers or []).get("ce_id") == args.event_id]
            if args.event_id and not chosen:
                raise CommandError(f"no pending dead letter {args.event_id} in {queue.topic}")
            await _replay(settings, queue, args.topic, chosen)
            print(f"replayed {len(chosen)} dead letter(s) to {args.topic}")
    except UnknownTopic as missing:
        raise CommandError(f"there is no topic {missing} on {settings.kafka_bootstrap_servers}"
                           ) from None


async def _replay(settings: Settings, queue: Any, topic: str, records: list[Any]) -> None:
    """Replay ``records`` through a producer of this command's own."""
    from aiokafka import AIOKafkaProducer

    from smart_shared.deadletters import replay

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True,
        acks="all", **settings.kafka_security(),
    )

    async def send(value: bytes | None, to: str, key: bytes | None,
                   headers: dict[str, str]) -> None:
        await producer.send_and_wait(to, value, key=key,
                                     headers=[(k, v.encode()) for k, v in headers.items()])

    await producer.start()
    try:
        await replay(queue, records, topic, send)
    finally:
        await producer.stop()


def cmd_staff(args: argparse.Namespace) -> None:
    """Seed a staff identity through members' API, with a local admin token of the branch."""
    import httpx

    from smart_shared.auth import mint_token

    token = mint_token(Settings(), "admin", args.branch, sub="smart-cli")
    body = {"email": args.email, "name": args.name, "branch": args.branch, "role": args.role}
    if args.language:
        body["language"] = args.language
    response = httpx.post(f"{args.members_url.rstrip('/')}/v1/staff", json=body,
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if response.status_code >= 400:
        raise CommandError(f"members refused ({response.status_code}): {_reason(response)}")
    print(json.dumps(response.json()))


async def _reason(response: Any) -> str:
    """A problem document's detail, or the start of whatever else the body is."""
    try:
        problem = response.json()
        return str(problem.get("detail") or problem.get("title"))
    except ValueError:
        return " ".join(response.text.split())[:200]


async def cmd_mail(args: argparse.Namespace) -> None:
    from smart_shared.mail import MAILS, retry_mails
    from smart_shared.mail.outbox import summary
    from smart_shared.mongo import connect

    settings = Settings(SMART_SERVICE=args.service)
    client = connect(settings.mongodb_uri, **settings.mongo_options())
    db = client[settings.database_name]
    try:
        if args.action == "retry":
            retried = await retry_mails(db, args.cause)
            print(f"{retried} dead mail(s) of {args.service} will be sent again")
            return
        query: dict[str, Any] = {"status": "dead"} if args.dead else {"pending": True}
        if args.cause:
            query = {"_id": args.cause}
        rows = await db[MAILS].find(query).sort("created_at", 1).to_list(1000)
        for row in rows:
            print(json.dumps(summary(row), default=str))
        kind = "dead" if args.dead else "pending"
        print(f"{len(rows)} {kind} mail(s) in {args.service}", file=sys.stderr)
    finally:
        await client.close()


def cmd_schemas(args: argparse.Namespace) -> None:
    from smart_shared.events.schema import write_schemas

    written = write_schemas(Path(args.out))
    print(f"wrote {len(written)} schemas to {args.out}")


def cmd_trace(args: argparse.Namespace) -> None:
    from smart_shared.traces import read_spans, render_tree, services_in, spans_of, trace_ids_for

    folder = Settings().home / "traces"
    spans = list(read_spans(folder))
    trace_ids = trace_ids_for(spans, args.aggregate_id)
    if not trace_ids:
        raise CommandError(f"no recorded span mentions {args.aggregate_id} in {folder}")
    for trace_id in trace_ids:
        trace = spans_of(spans, trace_id)
        services = ", ".join(sorted(services_in(trace)))
        print(f"trace {trace_id}: {len(trace)} spans across {services}")
        print(render_tree(trace))


def cmd_asyncapi(args: argparse.Namespace) -> None:
    from smart_shared.events.asyncapi import write_documents

    for path in write_documents(Path(args.out)):
        print(f"wrote {path}")


def parser() -> Parser:
    """The ``smart`` command line: every option says what it is for (``smart CMD --help``)."""
    smart = Parser(prog="smart", description="SMart platform tools")
    sub = smart.add_subparsers(dest="command", required=True, metavar="COMMAND")

    token = sub.add_parser("token", help="mint a local HS256 token (SMART_ENV=local only)",
                           description="Mint a local HS256 token for calling the APIs.")
    token.add_argument("--role", required=True, choices=["member", "staff", "admin", "service"],
                       help="who the token speaks for")
    token.add_argument("--branch", required=True, type=_branch,
                       help="the branch it acts for: one that has a rule pack (BE, FR)")
    token.add_argument("--member-id", help="the member it speaks for (required with --role "
                                           "member)")
    token.add_argument("--sub", help="the subject claim (default: the member id, or "
                                     "ROLE@branch)")
    token.add_argument("--ttl", default="8h", type=_duration,
                       help="how long it stays valid: 30d, 12h or 90m (default 8h)")

    clock = sub.add_parser("clock", help="show or move the platform clock",
                           description="Show, move forward or reset the shared platform clock.")
    clock.add_argument("action", choices=["show", "advance", "reset"],
                       help="show the platform time, advance it, or reset it to real time")
    clock.add_argument("by", nargs="?", default="1d", type=_duration,
                       help="with advance: how far, 30d, 12h or 90m (default 1d)")

    dlq = sub.add_parser("dlq", help="list or replay the pending dead letters of a topic",
                         description="List or replay the dead letters of a topic that were not "
                                     "replayed yet.")
    dlq.add_argument("action", choices=["list", "replay"],
                     help="list the pending dead letters, or send them back to their topic")
    dlq.add_argument("topic", help="the event topic (e.g. smart.billing.invoice.v1) or its .dlq")
    dlq.add_argument("--event-id", help="replay only the dead letter of this event (ce_id)")

    schemas = sub.add_parser("schemas", help="export the events' JSON Schemas")
    schemas.add_argument("--out", default="docs/events",
                         help="folder to write them to (default docs/events)")

    trace = sub.add_parser("trace", help="print the trace of a contract (or any aggregate)")
    trace.add_argument("aggregate_id", help="the contract id (or any aggregate id) to follow")

    asyncapi = sub.add_parser("asyncapi", help="write the AsyncAPI document and its HTML page")
    asyncapi.add_argument("--out", default="docs", help="folder to write them to (default docs)")

    staff = sub.add_parser("staff", help="add a staff identity (locally: the first admin)")
    staff.add_argument("action", choices=["add"], help="add a staff identity")
    staff.add_argument("--email", required=True, help="the address their login links go to")
    staff.add_argument("--name", required=True, help="their full name")
    staff.add_argument("--branch", required=True, type=_branch,
                       help="the branch they work for: one that has a rule pack (BE, FR)")
    staff.add_argument("--role", choices=["staff", "admin"], default="staff",
                       help="staff, or admin (may add staff); default staff")
    staff.add_argument("--language", choices=["fr", "nl", "en"],
                       help="of their mails (default: the branch's)")
    staff.add_argument("--members-url", default="http://127.0.0.1:8001",
                       help="the members service (default http://127.0.0.1:8001)")

    mail = sub.add_parser("mail", help="list a service's pending or dead mails, or retry them")
    mail.add_argument("action", choices=["list", "retry"],
                      help="list the mails, or send the dead ones again")
    mail.add_argument("cause", nargs="?", help="one mail (its cause); default: all")
    mail.add_argument("--service", required=True,
                      choices=["members", "contracts", "billing", "payroll", "fund", "collection"],
                      help="whose mail outbox")
    mail.add_argument("--dead", action="store_true", help="list the dead mails, not the pending")
    return smart


COMMANDS: dict[str, Any] = {
    "token": cmd_token, "clock": cmd_clock, "dlq": cmd_dlq, "schemas": cmd_schemas,
    "asyncapi": cmd_asyncapi, "trace": cmd_trace, "staff": cmd_staff, "mail": cmd_mail,
}


def main(argv: list[str] | None = None) -> None:
    import httpx
    from aiokafka.errors import KafkaConnectionError, KafkaError
    from pymongo.errors import PyMongoError, ServerSelectionTimeoutError

    args = parser().parse_args(argv)
    # the command says what went wrong itself, once; the clients' own logs would repeat it
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        result = COMMANDS[args.command](args)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    except KafkaConnectionError:
        _refuse(args.command, f"cannot reach Kafka at {Settings().kafka_bootstrap_servers}")
    except ServerSelectionTimeoutError:
        _refuse(args.command, "cannot reach MongoDB (MONGODB_URI)")
    except (CommandError, KafkaError, PyMongoError, httpx.HTTPError, OSError,
            ValueError) as error:
        _refuse(args.command, " ".join(str(error).split()) or type(error).__name__)


def _refuse(command: str, message: str) -> NoReturn:
    print(f"smart {command}: {message}", file=sys.stderr)
    raise SystemExit(USAGE_ERROR)


if __name__ == "__main__":
    main()
