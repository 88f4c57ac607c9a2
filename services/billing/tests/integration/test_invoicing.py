import asyncio
import re
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from billing.invoicing import issue_invoice, record_contract_signed
from smart_shared.events.catalogue import InvoiceIssued, MemberErased
from smart_shared.ids import new_id
from smart_shared.mongo import UnitOfWork
from smart_testing import eventually

from .conftest import Billing, a_client, contract_signed, invoice_of, today, work_completed

pytestmark = pytest.mark.integration


async def all_numbers(billing: Billing, branch: str = "BE") -> list[int]:
    docs = await billing.db["invoices"].find({"branch": branch}, {"number": 1}).to_list(None)
    return sorted(int(doc["number"].rsplit("-", 1)[1]) for doc in docs)


def assert_gapless(numbers: list[int]) -> None:
    assert numbers == list(range(1, len(numbers) + 1)), numbers


async def test_a_completed_contract_is_invoiced_once_even_when_redelivered(
    billing: Billing,
) -> None:
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, amount="1000.00", term=45))
    completed = work_completed(contract_id)
    event_id = await billing.send(completed)
    await billing.send(completed, event_id)  # the same message redelivered
    await billing.send(completed)  # the same fact again under a new event id

    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    issued = await billing.wait_for(InvoiceIssued, invoice["_id"])
    await asyncio.sleep(2)
    assert len(billing.of(InvoiceIssued, invoice["_id"])) == 1
    assert await billing.db["invoices"].count_documents({"contract_id": contract_id}) == 1
    event = issued[0]
    assert re.fullmatch(r"BE-\d{4}-\d{6}", event.number)
    assert str(event.vat_rate) == "0.21"
    assert (str(event.amount_excl_vat.amount), str(event.vat_amount.amount),
            str(event.total.amount)) == ("1000.00", "210.00", "1210.00")
    assert (event.due_date - event.issue_date).days == 45
    assert event.structured_reference and re.fullmatch(
        r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+", event.structured_reference)
    assert event.version == 1
    assert invoice["traceparent"]
    headers = billing.headers_of(event)
    assert headers["ce_type"] == "coop.smart.billing.InvoiceIssued.v1"
    assert headers["ce_subject"] == invoice["_id"]


async def test_an_eu_business_client_abroad_is_reverse_charged(billing: Billing) -> None:
    contract_id = new_id()
    client = a_client(country="NL", vat_number="NL004495445B01")
    await billing.send(contract_signed(contract_id, amount="500.00", client=client))
    await billing.send(work_completed(contract_id))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    assert (invoice["vat_rate"], invoice["vat_amount"], invoice["total"]) == ("0", "0.00",
                                                                              "500.00")
    assert invoice["reverse_charge"] and "Reverse charge" in invoice["vat_mention"]
    async with billing.client() as http:
        ubl = await http.get(f"/v1/invoices/{invoice['_id']}/ubl")
        assert ubl.status_code == 200 and b"<cbc:ID>AE</cbc:ID>" in ubl.content
        pdf = await http.get(f"/v1/invoices/{invoice['_id']}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_a_performance_for_an_organiser_is_invoiced_exempt_under_article_44_2_8(
    billing: Billing,
) -> None:
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, work_nature="performance_for_organiser"))
    await billing.send(work_completed(contract_id))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    assert (invoice["vat_category"], invoice["vat_amount"], invoice["total"]) == (
        "E", "0.00", "1000.00")
    assert invoice["vat_mention"].startswith("Exempt from VAT — Belgian VAT Code art. 44 §2 8°")
    [issued] = await billing.wait_for(InvoiceIssued, invoice["_id"])
    assert issued.vat_rate == 0
    async with billing.client() as http:
        ubl = (await http.get(f"/v1/invoices/{invoice['_id']}/ubl")).content
    assert b"<cbc:ID>E</cbc:ID>" in ubl and b"<cbc:TaxExemptionReason>" in ubl


async def test_a_copyright_licence_is_invoiced_at_6_percent(billing: Billing) -> None:
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, work_nature="copyright"))
    await billing.send(work_completed(contract_id))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    assert (invoice["vat_rate"], invoice["vat_amount"], invoice["total"]) == (
        "0.06", "60.00", "1060.00")


async def test_invoice_numbers_have_no_gaps_when_50_contracts_complete_at_once(
    billing: Billing,
) -> None:
    contracts = [new_id() for _ in range(50)]
    await asyncio.gather(*(billing.send(contract_signed(c)) for c in contracts))
    await asyncio.gather(*(billing.send(work_completed(c)) for c in contracts))

    async def all_invoiced() -> bool:
        return await billing.db["invoices"].count_documents(
            {"contract_id": {"$in": contracts}}) == 50

    await eventually(all_invoiced, timeout=60)
    assert_gapless(await all_numbers(billing))


async def test_invoice_numbers_have_no_gaps_when_issued_concurrently_by_direct_calls(
    billing: Billing,
) -> None:
    platform = billing.service.platform
    assert platform is not None
    contracts = [new_id() for _ in range(50)]
    for contract_id in contracts:
        signed = contract_signed(contract_id)

        async def record(uow: UnitOfWork, signed: Any = signed) -> None:
            await record_contract_signed(uow, signed)

        await platform.database.transaction(record)

    async def issue(contract_id: str) -> str:
        async def work(uow: UnitOfWork) -> str:
            return (await issue_invoice(uow, contract_id)).number
        return await platform.database.transaction(work)

    # every contract twice at once: each still gets exactly one invoice
    numbers = await asyncio.gather(*(issue(c) for c in contracts + contracts))
    assert len(set(numbers)) == 50
    assert await billing.db["invoices"].count_documents({"contract_id": {"$in": contracts}}) == 50
    assert_gapless(await all_numbers(billing))


async def test_two_replicas_issue_invoices_without_gap_or_duplicate(billing: Billing) -> None:
    from billing.app import create_service
    from smart_testing import serving

    replica = create_service(billing.settings)
    async with serving(replica.app):
        contracts = [new_id() for _ in range(200)]
        await asyncio.gather(*(billing.send(contract_signed(c)) for c in contracts))
        await asyncio.gather(*(billing.send(work_completed(c)) for c in contracts))

        async def all_invoiced() -> bool:
            return await billing.db["invoices"].count_documents(
                {"contract_id": {"$in": contracts}}) == 200

        await eventually(all_invoiced, timeout=120)
    assert_gapless(await all_numbers(billing))


async def test_a_member_sees_only_their_own_invoices(billing: Billing) -> None:
    mine, theirs = new_id(), new_id()
    await billing.send(contract_signed(mine, member_id="member-a"))
    await billing.send(contract_signed(theirs, member_id="member-b"))
    await billing.send(work_completed(mine, member_id="member-a"))
    await billing.send(work_completed(theirs, member_id="member-b"))
    own = await eventually(lambda: invoice_of(billing, mine))
    other = await eventually(lambda: invoice_of(billing, theirs))
    async with billing.client("member", member_id="member-a") as http:
        answer = await http.get("/v1/invoices", params={"limit": 500})
        listed = answer.json()["items"]
        assert listed, answer.text
        assert {i["member_id"] for i in listed} == {"member-a"}
        assert (await http.get(f"/v1/invoices/{own['_id']}")).status_code == 200
        assert (await http.get(f"/v1/invoices/{other['_id']}")).status_code == 404
        assert (await http.get(f"/v1/invoices/{other['_id']}/pdf")).status_code == 404
    async with billing.client() as http:
        page = (await http.get("/v1/invoices", params={"contract_id": mine})).json()
        assert [i["invoice_id"] for i in page["items"]] == [own["_id"]]
        first = (await http.get("/v1/invoices", params={"limit": 2})).json()
        second = (await http.get("/v1/invoices", params={"limit": 2,
                                                         "cursor": first["next_cursor"]})).json()
        assert not {i["invoice_id"] for i in first["items"]} & {
            i["invoice_id"] for i in second["items"]}
        bad = await http.get("/v1/invoices", params={"status": "lost"})
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"


async def test_an_erased_member_is_no_longer_named_but_the_invoice_stays(billing: Billing) -> None:
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, member_id="member-erased"))
    await billing.send(work_completed(contract_id, member_id="member-erased"))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    await billing.send(MemberErased(branch="BE", version=9, occurred_at=invoice["created_at"],
                                    member_id="member-erased"))

    async def pseudonymised() -> bool:
        doc = await invoice_of(billing, contract_id)
        return bool(doc and doc["performer"]["erased"])

    await eventually(pseudonymised)
    doc = await invoice_of(billing, contract_id)
    assert doc is not None and doc["performer"]["member_id"] is None
    assert doc["number"] == invoice["number"] and doc["total"] == invoice["total"]
    assert date.fromisoformat(doc["issue_date"])



async def test_one_unit_of_work_numbers_its_invoices_in_a_block_and_reads_its_own_invoices(
    billing: Billing,
) -> None:
    """A consumer batch issues many invoices in one transaction: numbers stay consecutive, the
    counter ends on the last one, and later handlers of the batch see the batch's invoices."""
    from billing.invoicing import pseudonymise_member, record_work_completed
    from billing.write_offs import record_written_off_debt
    from smart_shared.events.catalogue import DebtWrittenOff
    from smart_shared.money import Money

    platform = billing.service.platform
    assert platform is not None
    contracts = [new_id() for _ in range(5)]
    member = f"member-{new_id()}"

    async def batch(uow: UnitOfWork) -> str:
        for contract_id in contracts:
            await record_contract_signed(uow, contract_signed(contract_id, member_id=member))
            await record_work_completed(uow, work_completed(contract_id, member_id=member))
        first = await issue_invoice(uow, contracts[0])  # idempotent within the batch too
        assert await pseudonymise_member(uow, member) == len(contracts)
        await record_written_off_debt(uow, DebtWrittenOff(
            branch="BE", version=1, occurred_at=datetime.now(UTC), case_id=new_id(),
            invoice_id=first.invoice_id, contract_id=contracts[0], member_id=member,
            amount=Money.of("100.00"), reason="client bankrupt", written_off_on=today(),
        ))
        return first.number

    first_number = await platform.database.transaction(batch)
    docs = await billing.db["invoices"].find({"contract_id": {"$in": contracts}}).to_list(None)
    assert len(docs) == len(contracts)
    assert all(doc["performer"]["erased"] for doc in docs)
    by_contract = {doc["contract_id"]: doc for doc in docs}
    assert by_contract[contracts[0]]["number"] == first_number
    sequences = [int(by_contract[c]["number"].rsplit("-", 1)[1]) for c in contracts]
    assert sequences == list(range(sequences[0], sequences[0] + len(contracts)))
    counter = await billing.db["counters"].find_one(
        {"_id": f"invoice:BE:{docs[0]['year']}"})
    numbers = await all_numbers(billing)
    assert_gapless(numbers)
    assert counter is not None and counter["sequence"] == numbers[-1] >= sequences[-1]
    assert by_contract[contracts[0]]["write_off"]["lost"] == "100.00"  # it saw the batch's


async def test_the_clients_link_opens_their_invoice_and_documents_and_nothing_else(
        billing: Billing) -> None:
    contract_id = new_id()
    await billing.send(contract_signed(contract_id, member_id="member-c"))
    await billing.send(work_completed(contract_id, member_id="member-c"))
    invoice = await eventually(lambda: invoice_of(billing, contract_id))
    async with billing.client("member", member_id="member-c") as http:
        token = (await http.get(f"/v1/invoices/{invoice['_id']}")).json()["client_token"]
    async with httpx.AsyncClient(base_url=billing.url, timeout=30) as public:
        shown = await public.post("/v1/client-invoices", json={"token": token})
        assert shown.status_code == 200, shown.text
        assert shown.json()["number"] == invoice["number"]
        assert "member_id" not in shown.json() and shown.json()["payments"] == []
        pdf = await public.post("/v1/client-invoices/document", json={"token": token})
        assert pdf.content.startswith(b"%PDF")
        ubl = await public.post("/v1/client-invoices/document",
                                json={"token": token, "document": "ubl"})
        assert b"<Invoice" in ubl.content
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        refused = await public.post("/v1/client-invoices", json={"token": forged})
        assert refused.status_code == 404
        assert refused.json()["type"].endswith("invoice-link-unknown")
        other = await public.post("/v1/client-invoices",
                                  json={"token": f"{new_id()}.{token.rsplit('.', 1)[1]}"})
        assert other.status_code == 404
