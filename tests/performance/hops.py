"""Per-hop latency at a steady rate: ``python -m tests.performance.hops --rate 50 --seconds 20``.

The saga benchmark floods the platform (every contract at once, then the clock jumps), which
measures throughput, not the latency of one hop at a given load. Here a producer publishes the
input events of three hops at a steady rate, exactly as their owning services would (CloudEvents
over the private platform's topics), and the latency of each hop is read from the Kafka record
timestamps of input and output:

- ``ContractSigned`` → ``GuaranteeGranted`` (fund)
- ``WorkCompleted`` → ``InvoiceIssued`` (billing; its ``ContractSigned`` is sent first)
- ``InvoicePaid`` → ``AdvanceRecovered`` (fund; the contract's guarantee was granted first)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from smart_shared.events import encode
from smart_shared.events.catalogue import (
    BILLING_TOPIC,
    FUND_TOPIC,
    Activity,
    Address,
    Client,
    ContractSigned,
    InvoiceIssued,
    InvoicePaid,
    WorkCompleted,
)
from smart_shared.ids import new_id
from smart_shared.money import Money

from tests.platform import MAILERS, private_platform

KAFKA = "127.0.0.1:9092"
MONGO = "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true"


def signed(contract_id: str, member_id: str, now: datetime) -> ContractSigned:
    first = (now + timedelta(days=3)).date()
    return ContractSigned(
        branch="BE", version=3, occurred_at=now, contract_id=contract_id, member_id=member_id,
        activity=Activity(name="musician", kind="artistic", joint_committee="304"),
        client=Client(client_key=f"BE:client-{contract_id}", name="Client", kind="consumer",
                      country="BE", email="client@example.be",
                      address=Address(street="Rue 1", postal_code="1000", city="Bruxelles",
                                      country="BE")),
        description="concert", work_days=[first], first_work_day=first, last_work_day=first,
        amount_excl_vat=Money.of("1000.00"), expenses=Money.zero(), payment_term_days=30,
        client_signed_at=now, signed_at=now,
    )


def completed(contract_id: str, member_id: str, now: datetime) -> WorkCompleted:
    return WorkCompleted(branch="BE", version=5, occurred_at=now, contract_id=contract_id,
                         member_id=member_id, last_work_day=now.date(), completed_at=now)


def issued(contract_id: str, member_id: str, invoice_id: str, now: datetime) -> InvoiceIssued:
    return InvoiceIssued(
        branch="BE", version=1, occurred_at=now, invoice_id=invoice_id, contract_id=contract_id,
        member_id=member_id, number=f"BE-2026-{invoice_id[-6:]}", issue_date=now.date(),
        due_date=now.date() + timedelta(days=30), client_key="k", client_kind="consumer",
        amount_excl_vat=Money.of("1000.00"), vat_rate="0.21", vat_amount=Money.of("210.00"),
        total=Money.of("1210.00"), reverse_charge=False,
    )


def paid(contract_id: str, member_id: str, invoice_id: str, now: datetime) -> InvoicePaid:
    return InvoicePaid(branch="BE", version=3, occurred_at=now, invoice_id=invoice_id,
                       contract_id=contract_id, member_id=member_id,
                       amount_excl_vat=Money.of("1000.00"), total=Money.of("1210.00"),
                       paid_on=date.today())


class Wire:
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True,
                                         linger_ms=2)
        self.seen: dict[tuple[str, str], int] = {}

    async def send(self, *events: Any) -> None:
        for event in events:
            key, value, headers = encode(event, new_id())
            await self.producer.send(self.namespace + event.topic, value, key=key,
                                     headers=headers)

    async def read(self, topics: list[str]) -> None:
        consumer = AIOKafkaConsumer(*(self.namespace + t for t in topics),
                                    bootstrap_servers=KAFKA, auto_offset_reset="earliest")
        await consumer.start()
        try:
            async for record in consumer:
                headers = {k: v.decode() for k, v in record.headers or []}
                kind = headers.get("ce_type", "").split(".")[-2]
                body = json.loads(record.value)
                self.seen.setdefault((kind, body.get("contract_id", "")), record.timestamp)
        finally:
            await consumer.stop()


async def paced(rate: float, seconds: float, send_one: Any) -> list[tuple[str, int]]:
    """Call ``send_one`` ``rate`` times a second; returns (contract id, send time in ms)."""
    sent = []
    start = time.monotonic()
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(await send_one())
    return sent


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


async def measure(rate: float, seconds: float,
                  mailers: tuple[str, ...] = MAILERS) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="hops-"))
    platform = private_platform(home, KAFKA, MONGO, mailers=mailers, SMART_LOG_LEVEL="WARNING",
                                SMART_FUND_INITIAL_CAPITAL_BE="100000000.00")
    namespace = platform.env["SMART_TOPIC_NAMESPACE"]
    wire = Wire(namespace)
    await wire.producer.start()
    reader = asyncio.create_task(wire.read([FUND_TOPIC, BILLING_TOPIC]))
    results: dict[str, Any] = {"rate": rate, "seconds": seconds,
                               "mailers": list(mailers)}
    try:
        async def wait_for(kind: str, contracts: list[str], timeout: float = 120) -> None:
            deadline = time.monotonic() + timeout
            while any((kind, c) not in wire.seen for c in contracts):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)

        def hop(sent: list[tuple[str, int]], output: str) -> dict[str, Any]:
            waits = [wire.seen[(output, c)] - at for c, at in sent if (output, c) in wire.seen]
            return {"count": len(waits), "of": len(sent), **percentiles(waits)}

        # 1. ContractSigned → GuaranteeGranted (fund)
        async def sign() -> tuple[str, int]:
            contract = new_id()
            now = datetime.now(UTC)
            await wire.send(signed(contract, new_id(), now))
            return contract, int(time.time() * 1000)

        guaranteed = await paced(rate, seconds, sign)
        await wire.producer.flush()
        await wait_for("GuaranteeGranted", [c for c, _ in guaranteed])
        results["ContractSigned→GuaranteeGranted"] = hop(guaranteed, "GuaranteeGranted")

        # 2. WorkCompleted → InvoiceIssued (billing): the contracts were signed in step 1
        members = {}

        async def complete() -> tuple[str, int]:
            contract, _ = guaranteed[len(members) % len(guaranteed)]
            members[contract] = new_id()
            await wire.send(completed(contract, members[contract], datetime.now(UTC)))
            return contract, int(time.time() * 1000)

        invoiced = await paced(rate, seconds, complete)
        await wire.producer.flush()
        await wait_for("InvoiceIssued", [c for c, _ in invoiced])
        results["WorkCompleted→InvoiceIssued"] = hop(invoiced, "InvoiceIssued")

        # 3. InvoicePaid → AdvanceRecovered (fund): link each invoice first, then pay it at rate
        links = [(c, new_id()) for c, _ in guaranteed]
        for contract, invoice in links:
            await wire.send(issued(contract, "m", invoice, datetime.now(UTC)))
        await wire.producer.flush()
        await asyncio.sleep(3)
        cursor = iter(links)

        async def pay() -> tuple[str, int]:
            contract, invoice = next(cursor)
            await wire.send(paid(contract, "m", invoice, datetime.now(UTC)))
            return contract, int(time.time() * 1000)

        recovered = await paced(rate, min(seconds, len(links) / rate), pay)
        await wire.producer.flush()
        await wait_for("AdvanceRecovered", [c for c, _ in recovered])
        results["InvoicePaid→AdvanceRecovered"] = hop(recovered, "AdvanceRecovered")
    finally:
        reader.cancel()
        await wire.producer.stop()
        platform.stop_all()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="events per second per hop")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--mailers", default=",".join(MAILERS),
                        type=lambda text: tuple(n for n in text.split(",") if n),
                        help="services with a mailer process of their own, as deployed "
                        "('' for none: each service sends its own mails)")
    options = parser.parse_args()
    results = asyncio.run(measure(options.rate, options.seconds, options.mailers))
    print(json.dumps(results, indent=2))
    for name, figures in results.items():
        if isinstance(figures, dict):
            print(f"{name:34} {figures['count']}/{figures['of']}  p50 {figures['p50']} ms  "
                  f"p95 {figures['p95']} ms  p99 {figures['p99']} ms")


if __name__ == "__main__":
    main()
