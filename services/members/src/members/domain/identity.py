"""National identification numbers: the Belgian national number (or, for a person not in the
National Register, the BIS number of the Crossroads Bank for Social Security) and the French NIR.

The branch decides the scheme. Both numbers encode (part of) the birth date, which must agree
with the birth date the applicant gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.be import bis, nn
from stdnum.fr import nir

from members.domain.errors import RuleBroken

FIELD = "national_id"


def _stdnum_message(error: stdnum_errors.ValidationError, scheme: str) -> str:
    if isinstance(error, stdnum_errors.InvalidChecksum):
        return f"the check digits of this {scheme} are wrong"
    if isinstance(error, stdnum_errors.InvalidLength):
        return f"a {scheme} does not have this many digits"
    return f"this is not a well-formed {scheme}"


def _is_bis(number: str) -> bool:
    # a BIS number is built like a national number with 20 (gender unknown) or 40 (known)
    # added to the birth month (the CBSS's scheme, as python-stdnum's stdnum.be.bis checks it)
    month = nn.compact(number)[2:4]
    return month.isdigit() and (20 <= int(month) <= 32 or 40 <= int(month) <= 52)


def _belgian(number: str, birth_date: date) -> str:
    kind = bis if _is_bis(number) else nn
    scheme = "Belgian BIS number" if kind is bis else "Belgian national number"
    try:
        compact = str(kind.validate(number))
        year = kind.get_birth_year(compact)
        month = kind.get_birth_month(compact)
        born = kind.get_birth_date(compact)
    except stdnum_errors.ValidationError as error:
        raise RuleBroken.on(FIELD, _stdnum_message(error, scheme)) from None
    # a number issued without a full birth date leaves the unknown parts unchecked
    if (year is not None and year != birth_date.year) or (
        month is not None and month != birth_date.month
    ) or (born is not None and born != birth_date):
        raise RuleBroken.on(FIELD, f"this {scheme} belongs to another birth date")
    return compact


def _french(number: str, birth_date: date) -> str:
    scheme = "French NIR"
    try:
        compact = str(nir.validate(number))
    except stdnum_errors.ValidationError as error:
        raise RuleBroken.on(FIELD, _stdnum_message(error, scheme)) from None
    if compact[0] not in "12378":
        raise RuleBroken.on(FIELD, f"this is not a well-formed {scheme}")
    year, month = int(compact[1:3]), int(compact[3:5])
    # months 20-42 and 50-99 mean "month unknown" in the NIR
    if year != birth_date.year % 100 or (1 <= month <= 12 and month != birth_date.month):
        raise RuleBroken.on(FIELD, f"this {scheme} belongs to another birth date")
    return compact


SCHEMES: dict[str, Callable[[str, date], str]] = {"BE": _belgian, "FR": _french}


def validate_national_id(branch: str, number: str, birth_date: date) -> str:
    """The number in compact form, if valid for ``branch`` and consistent with ``birth_date``."""
    scheme = SCHEMES.get(branch)
    if scheme is None:
        raise RuleBroken.on("branch", f"no national id scheme is known for branch {branch}")
    return scheme(number, birth_date)


def national_id_key(branch: str, compact_number: str) -> str:
    """The uniqueness key of a person in a branch: a digest, so the index holds no number."""
    return hashlib.sha256(f"{branch}:{compact_number}".encode()).hexdigest()
