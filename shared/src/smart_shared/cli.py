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
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from smart_shared.settings import Settings


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([dhm])", text)
    if not match:
        raise argparse.ArgumentTypeError("use a number and d, h or m: 30d, 12h, 90m")
    number, unit = int(match[1]), match[2]
    return {"d": timedelta(days=number), "h": timedelta(hours=number),
            "m": timedelta(minutes=number)}[unit]


def cmd_token(args: argparse.Namespace) -> None:
    from smart_shared.auth import mint_token

    ttl = _duration(args.ttl)
    try:
        print(mint_token(Settings(), args.role, args.branch, args.member_id, args.sub, ttl))
    except ValueError as error:
        raise SystemExit(f"smart token: {error}") from None


async def cmd_clock(args: argparse.Namespace) -> None:
    from smart_shared.clock import SharedClock
    from smart_shared.mongo import connect

    settings = Settings()
    client = connect(settings.mongodb_uri)
    clock = SharedClock(client, settings.clock_id)
    await clock.refresh()
    if args.action == "advance":
        await clock.advance(_duration(args.by))
    elif args.action == "reset":
        await clock.reset()
    print(f"platform time: {clock.now().isoformat()} (today {clock.today().isoformat()})")
    await client.close()


async def _read_dead_letters(
    settings: Settings, topic: str, group: str | None
) -> tuple[Any, list[Any]]:
    from aiokafka import AIOKafkaConsumer

    from smart_shared.deadletters import dlq_topic

    consumer = AIOKafkaConsumer(
        dlq_topic(topic),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **settings.kafka_security(),
    )
    await consumer.start()
    records: list[Any] = []
    while True:
        batch = await consumer.getmany(timeout_ms=1500)
        if not batch:
            break
        for part in batch.values():
            records.extend(part)
    return consumer, records


async def cmd_dlq(args: argparse.Namespace) -> None:
    from aiokafka import AIOKafkaProducer

    from smart_shared.deadletters import original_headers
    from smart_shared.events import header_map

    settings = Settings()
    # replays are tracked by a consumer group, so a dead letter is replayed once
    group = f"smart.{settings.deployment}.dlq-replay" if args.action == "replay" else None
    consumer, records = await _read_dead_letters(settings, args.topic, group)
    try:
        if args.action == "list":
            for record in records:
                headers = header_map(record.headers or [])
                print(json.dumps({
                    "partition": record.partition, "offset": record.offset,
                    "ce_type": headers.get("ce_type"), "ce_id": headers.get("ce_id"),
                    "consumer": headers.get("dlq_consumer"), "error": headers.get("dlq_error"),
                    "failed_at": headers.get("dlq_failed_at"),
                }))
            print(f"{len(records)} dead letter(s) pending in {args.topic}.dlq", file=sys.stderr)
            return
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True,
            acks="all", **settings.kafka_security(),
        )
        await producer.start()
        replayed = 0
        try:
            for record in records:
                headers = header_map(record.headers or [])
                if args.event_id and headers.get("ce_id") != args.event_id:
                    continue
                target = headers.get("dlq_original_topic", args.topic)
                await producer.send_and_wait(
                    target, record.value, key=record.key,
                    headers=[(k, v.encode()) for k, v in original_headers(headers).items()],
                )
                replayed += 1
        finally:
            await producer.stop()
        if not args.event_id:
            await consumer.commit()
        print(f"replayed {replayed} dead letter(s) to {args.topic}")
    finally:
        await consumer.stop()


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
        raise SystemExit(f"members refused: {response.status_code} {response.text}")
    print(json.dumps(response.json()))


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
        raise SystemExit(f"no recorded span mentions {args.aggregate_id} in {folder}")
    for trace_id in trace_ids:
        trace = spans_of(spans, trace_id)
        services = ", ".join(sorted(services_in(trace)))
        print(f"trace {trace_id}: {len(trace)} spans across {services}")
        print(render_tree(trace))


def cmd_asyncapi(args: argparse.Namespace) -> None:
    from smart_shared.events.asyncapi import write_documents

    for path in write_documents(Path(args.out)):
        print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smart", description="SMart platform tools")
    sub = parser.add_subparsers(dest="command", required=True)

    token = sub.add_parser("token", help="mint a local HS256 token")
    token.add_argument("--role", required=True, choices=["member", "staff", "admin", "service"])
    token.add_argument("--branch", required=True)
    token.add_argument("--member-id")
    token.add_argument("--sub")
    token.add_argument("--ttl", default="8h")

    clock = sub.add_parser("clock", help="show or move the platform clock")
    clock.add_argument("action", choices=["show", "advance", "reset"])
    clock.add_argument("by", nargs="?", default="1d")

    dlq = sub.add_parser("dlq", help="list or replay dead letters of a topic")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("topic")
    dlq.add_argument("--event-id", help="replay only this event")

    schemas = sub.add_parser("schemas", help="export the events' JSON Schemas")
    schemas.add_argument("--out", default="docs/events")

    trace = sub.add_parser("trace", help="print the trace of a contract (or any aggregate)")
    trace.add_argument("aggregate_id")

    asyncapi = sub.add_parser("asyncapi", help="write the AsyncAPI document and its HTML page")
    asyncapi.add_argument("--out", default="docs")

    staff = sub.add_parser("staff", help="add a staff identity (locally: the first admin)")
    staff.add_argument("action", choices=["add"])
    staff.add_argument("--email", required=True)
    staff.add_argument("--name", required=True)
    staff.add_argument("--branch", required=True)
    staff.add_argument("--role", choices=["staff", "admin"], default="staff")
    staff.add_argument("--language", choices=["fr", "nl", "en"])
    staff.add_argument("--members-url", default="http://127.0.0.1:8001")

    mail = sub.add_parser("mail", help="list a service's pending or dead mails, or retry them")
    mail.add_argument("action", choices=["list", "retry"])
    mail.add_argument("cause", nargs="?", help="one mail (its cause); default: all")
    mail.add_argument("--service", required=True,
                      choices=["members", "contracts", "billing", "payroll", "fund", "collection"])
    mail.add_argument("--dead", action="store_true", help="list the dead letters")

    args = parser.parse_args(argv)
    if args.command == "token":
        cmd_token(args)
    elif args.command == "clock":
        asyncio.run(cmd_clock(args))
    elif args.command == "dlq":
        asyncio.run(cmd_dlq(args))
    elif args.command == "schemas":
        cmd_schemas(args)
    elif args.command == "asyncapi":
        cmd_asyncapi(args)
    elif args.command == "trace":
        cmd_trace(args)
    elif args.command == "staff":
        cmd_staff(args)
    elif args.command == "mail":
        asyncio.run(cmd_mail(args))


if __name__ == "__main__":
    main()
