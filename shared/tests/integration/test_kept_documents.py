"""An issued document is rendered the first time it is needed, kept as rendered, and never
rendered again; a reader that renders it while another keeps it first gets the one copy kept."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymongo import MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.documents import ISSUED_DOCUMENTS, issued_document, kept_document
from smart_shared.mongo import Document, connect
from smart_shared.settings import Settings

pytestmark = pytest.mark.integration

ISSUED = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
async def db(toy_settings: Settings) -> AsyncIterator[AsyncDatabase[Document]]:
    client = connect(toy_settings.mongodb_uri)
    yield client[toy_settings.database_name]
    await client.close()


async def keep(db: AsyncDatabase[Document], content: bytes, renders: list[bytes]) -> Document:
    def render() -> bytes:
        renders.append(content)
        return content

    return await kept_document(db, "invoice", "inv-1", "BE", "m-1", "application/pdf", ISSUED,
                               render)


async def test_the_first_reader_renders_and_keeps_the_document_later_readers_get_it_as_kept(
    db: AsyncDatabase[Document],
) -> None:
    renders: list[bytes] = []
    first = await keep(db, b"%PDF-first", renders)
    later = await keep(db, b"%PDF-rendered-again", renders)
    stored = await db[ISSUED_DOCUMENTS].find_one({"_id": "invoice:inv-1"})
    assert renders == [b"%PDF-first"]
    assert stored is not None
    assert bytes(first["content"]) == bytes(later["content"]) == bytes(stored["content"]) \
        == b"%PDF-first"
    assert first["sha256"] == later["sha256"] == hashlib.sha256(b"%PDF-first").hexdigest()
    assert (first["media_type"], first["branch"], first["member_id"]) \
        == ("application/pdf", "BE", "m-1")


async def test_a_reader_that_lost_the_race_to_keep_it_gets_the_copy_kept_first(
    db: AsyncDatabase[Document], toy_settings: Settings,
) -> None:
    winner = issued_document("invoice", "inv-1", "BE", "m-1", b"%PDF-winner", "application/pdf",
                             ISSUED)
    with MongoClient(toy_settings.mongodb_uri) as other_reader:
        def render_while_another_keeps_it() -> bytes:
            # another reader found nothing kept either, and keeps its copy first
            other_reader[toy_settings.database_name][ISSUED_DOCUMENTS].insert_one(winner)
            return b"%PDF-loser"

        got = await kept_document(db, "invoice", "inv-1", "BE", "m-1", "application/pdf",
                                  ISSUED, render_while_another_keeps_it)
    stored = await db[ISSUED_DOCUMENTS].find_one({"_id": "invoice:inv-1"})
    assert stored is not None
    assert bytes(got["content"]) == bytes(stored["content"]) == b"%PDF-winner"
    assert got["sha256"] == hashlib.sha256(b"%PDF-winner").hexdigest()
