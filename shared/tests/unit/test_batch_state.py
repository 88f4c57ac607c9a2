"""A unit of work's batch state: what it staged is what it reads, and each document is written
once, however many changes the batch made to it (pure: no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson.decimal128 import Decimal128
from pymongo import InsertOne, UpdateOne
from smart_shared.mongo import BatchState


def test_a_staged_change_is_what_a_read_of_the_document_returns() -> None:
    state = BatchState()
    state.remember("accounts", "BE:free", {"_id": "BE:free", "balance": Decimal128("100.00"),
                                           "owner": "fund"})
    state.update("accounts", "BE:free", increments={"balance": Decimal128("-30.00")},
                 fields={"touched": True})
    # read as Decimal, added up without converting again
    assert state.current("accounts", "BE:free") == {
        "_id": "BE:free", "balance": Decimal("70.00"), "owner": "fund", "touched": True}


def test_changes_staged_before_the_document_is_read_apply_once_it_is() -> None:
    state = BatchState()
    state.update("guarantees", "c1", fields={"invoice_id": "i1"}, upsert=False)
    assert not state.known("guarantees", "c1")
    with pytest.raises(LookupError):
        state.current("guarantees", "c1")
    state.remember("guarantees", "c1", {"_id": "c1", "status": "granted"})
    assert state.current("guarantees", "c1") == {"_id": "c1", "status": "granted",
                                                 "invoice_id": "i1"}


def test_an_update_of_a_missing_document_creates_it_only_when_upserting() -> None:
    state = BatchState()
    state.remember("invoices", "i1", None)
    state.remember("invoices", "i2", None)
    state.update("invoices", "i1", fields={"status": "paid"}, on_insert={"origin": "fund"})
    state.update("invoices", "i2", fields={"status": "paid"}, upsert=False)
    assert state.current("invoices", "i1") == {"_id": "i1", "origin": "fund", "status": "paid"}
    assert state.current("invoices", "i2") is None


def test_an_inserted_document_is_known_without_reading_and_written_whole() -> None:
    state = BatchState()
    state.insert("transfers", {"_id": "t1", "amount": 5})
    state.update("transfers", "t1", increments={"amount": 2}, fields={"note": "x"})
    assert state.known("transfers", "t1")
    assert state.current("transfers", "t1") == {"_id": "t1", "amount": 7, "note": "x"}
    assert state.operations("transfers") == [InsertOne({"_id": "t1", "amount": 7, "note": "x"})]
    with pytest.raises(ValueError, match="exists already"):
        state.insert("transfers", {"_id": "t1"})


def test_many_changes_to_one_document_are_folded_into_one_update() -> None:
    state = BatchState()
    for _ in range(3):
        state.update("exposures", "BE:client:k", increments={"amount": Decimal("10.00")})
    state.update("exposures", "BE:client:k", fields={"seen": 1})
    state.update("exposures", "BE:client:k", fields={"seen": 2})
    assert state.operations("exposures") == [UpdateOne(
        {"_id": "BE:client:k"},
        {"$set": {"seen": 2}, "$inc": {"amount": Decimal128("30.00")}}, upsert=True)]


def test_a_field_set_then_incremented_is_set_to_the_sum() -> None:
    state = BatchState()
    state.update("counters", "n", fields={"value": 10})
    state.update("counters", "n", increments={"value": 5})
    assert state.operations("counters") == [UpdateOne({"_id": "n"}, {"$set": {"value": 15}},
                                                   upsert=True)]


def test_a_floor_is_checked_by_the_database_at_the_lowest_point_of_the_batch() -> None:
    state = BatchState()
    zero = Decimal128("0")
    # down 40, up 100, down 80: ends 20 below where it started, but went 40 down on the way
    for delta in ("-40.00", "100.00", "-80.00"):
        state.update("accounts", "BE:free", increments={"balance": Decimal128(delta)},
                     floors={"balance": zero}, on_insert={"branch": "BE"})
    [update] = state.operations("accounts")
    assert update == UpdateOne(
        {"_id": "BE:free", "balance": {"$gte": Decimal128("40.00")}},
        {"$inc": {"balance": Decimal128("-20.00")}}, upsert=False)


def test_a_floored_field_that_only_grows_is_not_guarded() -> None:
    state = BatchState()
    state.update("accounts", "BE:capital", increments={"balance": Decimal("5.00")},
                 floors={"balance": Decimal("0")}, on_insert={"branch": "BE"})
    assert state.operations("accounts") == [UpdateOne(
        {"_id": "BE:capital"},
        {"$inc": {"balance": Decimal128("5.00")}, "$setOnInsert": {"branch": "BE"}},
        upsert=True)]


def test_a_document_with_an_update_only_the_server_can_apply_must_be_read_again() -> None:
    state = BatchState()
    state.remember("contacts", "m1", {"_id": "m1", "version": 1})
    state.stage("contacts", "m1", UpdateOne({"_id": "m1"}, [{"$set": {"version": 2}}]))
    assert not state.known("contacts", "m1")


def test_changes_name_top_level_fields_only() -> None:
    state = BatchState()
    with pytest.raises(ValueError, match="top-level"):
        state.update("guarantees", "c1", fields={"contact.email": "x"})
