"""Data protection: after ``MemberErased`` no service database holds the member's personal data.

A member with a completed contract (invoice issued, guarantee, salary due) is erased through
``POST /v1/members/{id}/erasure``. Once every service handled ``MemberErased``, every document of
every collection of every service database of the platform (outbox and inbox included) is
scanned for the member's names, national id (as typed and compact), email and IBAN (compact and
grouped): none is left. The invoice is still there with its number, amounts and client: the law
requires invoices to be kept.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from bson import json_util
from smart_shared.mongo import connect

from tests.platform import PlatformProcesses
from tests.reliability.saga import (
    Person,
    Saga,
    database_names,
    eventually,
    list_all,
    quiesce,
    staff,
)

pytestmark = pytest.mark.integration


def needles(person: Person) -> set[str]:
    iban = person.iban.replace(" ", "")
    grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    nn = person.national_id
    formatted = f"{nn[0:2]}.{nn[2:4]}.{nn[4:6]}-{nn[6:9]}.{nn[9:11]}"
    return {person.first_name, person.last_name, person.email, nn, formatted, iban, grouped}


async def scan(platform: PlatformProcesses, strings: set[str]) -> list[tuple[str, str, str, str]]:
    """(database, collection, document id, string) for every string found anywhere."""
    client = connect(platform.env["MONGODB_URI"])
    found: list[tuple[str, str, str, str]] = []
    lowered = {s.lower(): s for s in strings}
    try:
        for db_name in database_names(platform).values():
            db = client[db_name]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find():
                    text = json_util.dumps(doc).lower()
                    # outbox rows keep the event as bytes: read them as text too
                    for value in _binaries(doc):
                        text += value.lower()
                    for low, original in lowered.items():
                        if low in text:
                            found.append((db_name, collection, str(doc.get("_id")), original))
    finally:
        await client.close()
    return found


def _binaries(value: Any) -> list[str]:
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _binaries(v)]
    if isinstance(value, list):
        return [t for v in value for t in _binaries(v)]
    return []


async def test_an_erased_member_is_gone_from_every_database_but_the_invoice_stays(
    platform: PlatformProcesses, http: httpx.AsyncClient,
) -> None:
    saga = Saga(platform, http)
    tag = secrets.token_hex(5)
    person = Person.make(700_000 + secrets.randbelow(100_000), tag=f"Zq{tag}")
    member_id = await saga.register(person)
    contract_id = await saga.contract(await saga.today() + timedelta(days=1))
    await platform.advance_clock(timedelta(days=4))
    invoices = await eventually(saga.invoices, timeout=120, what="the invoice")
    invoice = invoices[contract_id]

    async def salary_due() -> list[dict[str, Any]]:
        return await list_all(http, saga.url("payroll", "/v1/salaries"), staff(platform),
                              member_id=member_id)

    await eventually(salary_due, timeout=120, what="the salary")
    await quiesce(platform)
    assert await scan(platform, needles(person)), "the scan finds the member before erasure"

    erased = await http.post(saga.url("members", f"/v1/members/{member_id}/erasure"),
                             headers=staff(platform))
    assert erased.status_code == 200, erased.text
    await quiesce(platform)

    async def nothing_left() -> bool:
        return not await scan(platform, needles(person))

    try:
        await eventually(nothing_left, timeout=60, what="personal data purged")
    except AssertionError:
        leftovers = await scan(platform, needles(person))
        raise AssertionError("personal data still held after erasure:\n" + json.dumps(
            sorted(set(leftovers)), indent=1)) from None

    kept = await http.get(saga.url("billing", f"/v1/invoices/{invoice['invoice_id']}"),
                          headers=staff(platform))
    assert kept.status_code == 200
    after = kept.json()
    for field in ("number", "total", "vat_amount", "amount_excl_vat", "issue_date", "client",
                  "structured_reference"):
        assert after[field] == invoice[field], field
    assert after["contract_id"] == contract_id
