"""A person's command counts in every session of theirs, in the genuine MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from portal import sessions
from pymongo.asynchronous.database import AsyncDatabase
from smart_shared.auth import Principal
from smart_shared.mongo import Document, connect
from smart_testing import Infrastructure, unique_name

LENA = Principal("member-lena", "member", "BE", "member-lena")
JAN = Principal("member-jan", "member", "BE", "member-jan")


@pytest.fixture
async def db(infrastructure: Infrastructure) -> AsyncIterator[AsyncDatabase[Document]]:
    client = connect(infrastructure.mongodb_uri)
    name = unique_name("portal_sessions")
    database = client[name]
    await sessions.create_indexes(database)
    yield database
    await client.drop_database(name)
    await client.close()


async def test_a_command_in_one_session_makes_every_session_of_that_person_read_afresh(
        db: AsyncDatabase[Document]) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    phone = await sessions.open_session(db, "token-1", LENA, expires)
    laptop = await sessions.open_session(db, "token-2", LENA, expires)
    other = await sessions.open_session(db, "token-3", JAN, expires)

    await sessions.changed(db, LENA)

    counts = [(await sessions.signed_in(db, session)) for session in (phone, laptop, other)]
    assert [person.changes for person in counts if person] == [1, 1, 0]
