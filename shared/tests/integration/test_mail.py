"""Mail reaches people: written with the change that causes it, sent once over genuine SMTP
(a private Mailpit), with a Message-ID derived from its cause, through crashes and outages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from smart_shared.clock import SystemClock
from smart_shared.mail import (
    MAILS,
    Attachment,
    FromRecord,
    Mail,
    MailRelay,
    SmtpSender,
    message_id,
    send_mail,
)
from smart_shared.mail.relay import retry_mails
from smart_shared.mongo import Database, UnitOfWork, connect
from smart_shared.settings import Settings
from smart_testing import Mailpit, eventually, unique_name
from toy_service import read_note, settings_env

pytestmark = pytest.mark.integration

TOY = Path(__file__).parent / "toy_service.py"


@pytest.fixture
async def mail_db(toy_settings: Settings, mailpit: Mailpit) -> AsyncIterator[Database]:
    client = connect(toy_settings.mongodb_uri)
    database = Database(client, toy_settings.database_name, SystemClock())
    try:
        yield database
    finally:
        await client.drop_database(toy_settings.database_name)
        await client.close()


def relay_for(settings: Settings, mailpit: Mailpit, database: Database,
              **options: Any) -> MailRelay:
    mail_settings = settings.model_copy(update={"smtp_port": mailpit.smtp_port})
    return MailRelay(database.db, SmtpSender(mail_settings), "toy", {"note": read_note},
                     retry_seconds=0.05, **options)


def welcome(to: str, cause: str | None = None, language: Any = "nl",
            attachments: tuple[Attachment, ...] = ()) -> Mail:
    return Mail(cause=cause or unique_name("welcome"), to=to, language=language,
                template="login_link", branch="BE", to_name="Lotte Peeters",
                data={"name": "Lotte", "minutes": 15, "link": "http://127.0.0.1:8000/login/x"},
                attachments=attachments)


async def test_a_mail_written_with_its_change_arrives_once_in_the_recipients_language(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    to = f"{unique_name('lotte')}@example.be"
    note = Attachment("note", "n-1", "terms.txt", "text/plain")

    async def register(uow: UnitOfWork) -> None:
        await uow.db.notes.insert_one({"_id": "n-1", "content": b"the terms"},
                                      session=uow.session)
        send_mail(uow, welcome(to, cause="welcome:lotte", attachments=(note,)))

    await mail_db.transaction(register)
    relay = relay_for(toy_settings, mailpit, mail_db)
    assert await relay.relay_once() == 1

    [summary] = await mailpit.wait_for(to)
    message = await mailpit.message(summary["ID"])
    assert message["Subject"] == "Uw aanmeldlink voor SMart"
    assert message["MessageID"] == message_id("toy", "welcome:lotte",
                                              toy_settings.mail_sender).strip("<>")
    assert "binnen 15 minuten" in message["Text"]
    assert '<a href="http://127.0.0.1:8000/login/x">' in message["HTML"]
    headers = await mailpit.headers(summary["ID"])
    assert headers["Content-Language"] == ["nl"]
    [attached] = message["Attachments"]
    assert attached["FileName"] == "terms.txt"
    assert await mailpit.attachment(summary["ID"], attached["PartID"]) == b"the terms"
    assert await relay.relay_once() == 0
    assert (await mail_db.db[MAILS].find_one({"_id": "welcome:lotte"}))["status"] == "sent"


async def test_attachments_rendered_from_one_record_read_it_once_for_the_mail(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    to = f"{unique_name('records')}@example.be"
    reads: list[str] = []

    async def read(db: Any, key: str) -> Any:
        reads.append(key)
        return await db.notes.find_one({"_id": key})

    async def shouted(db: Any, note: Any) -> bytes:
        return bytes(note["content"]).upper()

    async def plain(db: Any, note: Any) -> bytes:
        return bytes(note["content"])

    async def register(uow: UnitOfWork) -> None:
        await uow.db.notes.insert_many([{"_id": "n-a", "content": b"the terms"},
                                        {"_id": "n-b", "content": b"the rules"}],
                                       session=uow.session)
        send_mail(uow, welcome(to, attachments=(
            Attachment("shouted", "n-a", "a.txt", "text/plain"),
            Attachment("plain", "n-a", "a-plain.txt", "text/plain"),
            Attachment("plain", "n-b", "b-plain.txt", "text/plain"))))

    await mail_db.transaction(register)
    mail_settings = toy_settings.model_copy(update={"smtp_port": mailpit.smtp_port})
    relay = MailRelay(mail_db.db, SmtpSender(mail_settings), "toy",
                      {"shouted": FromRecord(read, shouted), "plain": FromRecord(read, plain)})
    assert await relay.relay_once() == 1

    [summary] = await mailpit.wait_for(to)
    message = await mailpit.message(summary["ID"])
    attached = {part["FileName"]: await mailpit.attachment(summary["ID"], part["PartID"])
                for part in message["Attachments"]}
    assert attached == {"a.txt": b"THE TERMS", "a-plain.txt": b"the terms",
                        "b-plain.txt": b"the rules"}
    assert sorted(reads) == ["n-a", "n-b"]  # n-a once for its two attachments


async def test_a_change_that_rolls_back_sends_no_mail(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    async def fail(uow: UnitOfWork) -> None:
        send_mail(uow, welcome("nobody@example.be"))
        await uow.write_staged()
        raise RuntimeError("the change is refused")

    with pytest.raises(RuntimeError):
        await mail_db.transaction(fail)
    assert await mail_db.db[MAILS].count_documents({}) == 0


async def test_a_cause_gives_one_mail_however_often_it_is_written(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    to = f"{unique_name('once')}@example.be"
    cause = unique_name("cause")
    for language in ("nl", "fr"):
        async def write(uow: UnitOfWork, language: Any = language) -> None:
            send_mail(uow, welcome(to, cause=cause, language=language))
        await mail_db.transaction(write)

    assert await relay_for(toy_settings, mailpit, mail_db).relay_once() == 1
    [summary] = await mailpit.wait_for(to)
    assert summary["Subject"] == "Uw aanmeldlink voor SMart"  # the first one written


async def test_an_smtp_server_that_is_down_delays_mail_and_loses_none(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    to = f"{unique_name('later')}@example.be"

    async def write(uow: UnitOfWork) -> None:
        send_mail(uow, *(welcome(to) for _ in range(3)))

    await mail_db.transaction(write)
    relay = relay_for(toy_settings, mailpit, mail_db)
    mailpit.stop()
    try:
        assert await relay.relay_once() == 0
        row = await mail_db.db[MAILS].find_one({"to": to})
        assert row["attempts"] == 1 and row["pending"] and row["last_error"]
    finally:
        mailpit.start()

    async def all_sent() -> int:
        await relay.relay_once()
        return await mail_db.db[MAILS].count_documents({"to": to, "status": "sent"}) == 3

    await eventually(all_sent, timeout=20)
    assert len(await mailpit.wait_for(to, count=3)) == 3


async def test_a_mail_that_keeps_failing_becomes_a_dead_letter_and_can_be_retried(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    to = f"{unique_name('dead')}@example.be"
    missing = Attachment("note", "never-written", "x.txt", "text/plain")

    async def write(uow: UnitOfWork) -> None:
        send_mail(uow, welcome(to, cause="dead:1", attachments=(missing,)))

    await mail_db.transaction(write)
    relay = relay_for(toy_settings, mailpit, mail_db, max_attempts=3)

    async def dead() -> bool:
        await relay.relay_once()
        row = await mail_db.db[MAILS].find_one({"_id": "dead:1"})
        return row["status"] == "dead"

    await eventually(dead, timeout=10, interval=0.1)
    row = await mail_db.db[MAILS].find_one({"_id": "dead:1"})
    assert row["attempts"] == 3 and "never-written" in row["last_error"]
    assert await relay.relay_once() == 0  # a dead letter waits for a person

    await mail_db.db.notes.insert_one({"_id": "never-written", "content": b"found"})
    assert await retry_mails(mail_db.db, "dead:1") == 1
    assert await relay.relay_once() == 1
    assert len(await mailpit.wait_for(to)) == 1


async def test_a_mail_relay_killed_mid_batch_loses_no_mail_and_resends_with_the_same_message_id(
    toy_settings: Settings, mailpit: Mailpit, mail_db: Database,
) -> None:
    to = f"{unique_name('crash')}@example.be"
    causes = [f"crash:{n:03d}" for n in range(120)]

    async def write(uow: UnitOfWork) -> None:
        send_mail(uow, *(welcome(to, cause=cause) for cause in causes))

    await mail_db.transaction(write)
    env = settings_env(toy_settings, SMART_SMTP_PORT=str(mailpit.smtp_port))

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(TOY), "mail-relay"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    relay = start()
    try:
        async def some_arrived() -> bool:
            return 5 <= len(await mailpit.messages(to)) < len(causes)

        await eventually(some_arrived, timeout=30, interval=0.02)
    finally:
        os.killpg(relay.pid, signal.SIGKILL)
        relay.wait()
    assert await mail_db.db[MAILS].count_documents({"to": to, "pending": True}) > 0

    relay = start()
    try:
        async def all_sent() -> bool:
            return await mail_db.db[MAILS].count_documents({"to": to, "status": "sent"}) == 120

        await eventually(all_sent, timeout=60)
    finally:
        os.killpg(relay.pid, signal.SIGKILL)
        relay.wait()

    received = Counter(m["MessageID"] for m in await mailpit.messages(to))
    expected = {message_id("toy", cause, toy_settings.mail_sender).strip("<>")
                for cause in causes}
    assert set(received) == expected  # every mail, and no copy under another Message-ID
    assert sum(received.values()) - len(expected) <= 10  # at most the killed batch again
