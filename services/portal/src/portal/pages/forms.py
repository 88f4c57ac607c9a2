"""Plain HTML forms in, API bodies out; the API's refusals back to the fields they name."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request

from portal.i18n import gettext as _
from portal.services import Refused


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted fields, trimmed (the first value of each name)."""
    form = await request.form()
    return {key: str(value).strip() for key, value in form.items()
            if isinstance(value, str) and key != "_csrf_token"}


def field_errors(refused: Refused, known: set[str] | None = None) -> dict[str, str]:
    """The refusal's errors by form field (``body.address.city`` → ``address.city``); what no
    field names goes under ``""`` for the summary."""
    errors: dict[str, str] = {}
    for name, message in refused.errors.items():
        field = name.removeprefix("body.").removeprefix("data.")
        if known is not None and field not in known:
            field = next((k for k in known if field.startswith(f"{k}.") or
                          k.startswith(f"{field}.")), "")
        errors.setdefault(field, message)
    if not errors:
        errors[""] = refused.detail or refused.title
    return errors


def required(values: dict[str, str], *names: str) -> dict[str, str]:
    return {name: _("Enter this field") for name in names if not values.get(name)}


def amount_of(text: str) -> str | None:
    """A decimal amount as people type it (``1200``, ``1200,50``, ``1 200.50``), as the wire's
    decimal string with cents, or None."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or cleaned.count(".") > 1:
        return None
    return f"{value.quantize(Decimal('0.01'))}"
