"""Transactional e-mail: a mail outbox written with the change that causes it, sent by a relay.

    send_mail(uow, Mail(cause=f"invoice-issued:{invoice_id}", to=client_email, language="nl",
                        template="invoice_issued", data={...},
                        attachments=[Attachment("invoice_pdf", invoice_id, "BE-2026-000001.pdf",
                                                "application/pdf")]))

The row commits with the state change or not at all; ``MailRelay`` renders it (Jinja2, Babel) and
sends it over SMTP with a ``Message-ID`` derived from its cause, so a resend after a crash is the
same message, and a second mail for the same cause is never written.
"""

from smart_shared.mail.message import Attachment, CapabilityLink, Mail, message_id
from smart_shared.mail.outbox import (
    MAILS,
    MailOutbox,
    create_mail_indexes,
    forget_mails_of,
    send_mail,
)
from smart_shared.mail.relay import AttachmentSource, FromRecord, MailRelay, retry_mails
from smart_shared.mail.render import LANGUAGES, Rendered, render
from smart_shared.mail.smtp import SmtpSender

__all__ = [
    "LANGUAGES", "MAILS", "Attachment", "AttachmentSource", "CapabilityLink", "FromRecord",
    "Mail", "MailOutbox", "MailRelay", "Rendered", "SmtpSender", "create_mail_indexes",
    "forget_mails_of", "message_id", "render", "retry_mails", "send_mail",
]
