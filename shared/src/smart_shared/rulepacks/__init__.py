"""Versioned rule packs: every branch- or year-specific number is data with its source.

A pack is a folder ``packs/<branch>-<year>/`` with ``pack.toml`` (id, branch, effective date,
currency) and one TOML file per section (``common``, ``billing``, ``payroll``, ``fund``,
``collection``). Every number is written as ``{ value = "0.065", source = "…" }`` and read into a
``Sourced`` field, so a number without a source fails at start-up. Decimals are strings: TOML
floats are refused like every other float on the platform. A service checks the packs of the
branches it serves when it is built (``check_rule_packs``): a bad pack stops its start.

    pack = rule_pack("BE", date(2026, 3, 1))
    payroll = pack.section("payroll", PayrollRules)   # PayrollRules: the service's pydantic model
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smart_shared.money import ExactDecimal
from smart_shared.settings import Settings

PACKS = Path(__file__).parent / "packs"
_deployment_packs: list[Path] = []
"""The folder of a deployment's own packs (``SMART_RULE_PACK_DIR``), once a service named it: a
pack there replaces the built-in pack of that id (a branch's real bank accounts, say)."""
V = TypeVar("V")
M = TypeVar("M", bound=BaseModel)


class Sourced(BaseModel, Generic[V]):
    """A rule value and where it comes from (law, collective agreement, general conditions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: V
    source: str = Field(min_length=3)
    placeholder: bool = Field(
        False, description="A stand-in (an example bank account) that production must replace.")
    approximation: bool = Field(
        False, description="Not the law's exact number (a text not read, a private tariff): "
        "documents say so, and the source says what it stands for.")


SourcedDecimal = Sourced[ExactDecimal]
SourcedInt = Sourced[int]


class CommonRules(BaseModel):
    """Numbers more than one service needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fee_rate: SourcedDecimal
    standard_vat_rate: SourcedDecimal
    share_price: Sourced[ExactDecimal]


class UnknownRulePack(LookupError):
    pass


class RulePackInvalid(ValueError):
    """A rule pack that cannot be read: which pack, which file, which field, and why."""


class _Lenient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SellerIdentity(_Lenient):
    """The branch's SMart entity as its documents name it (the billing section's ``seller``)."""

    name: Sourced[str]
    street: Sourced[str]
    postal_code: Sourced[str]
    city: Sourced[str]
    country: Sourced[str]
    vat_number: Sourced[str]


class LegalIdentity(_Lenient):
    """The company mentions the law asks of every document (the billing section's ``legal``)."""

    legal_form: Sourced[str]
    enterprise_number: Sourced[str]
    registry: Sourced[str]
    court: Sourced[str]


class CompanyIdentity(_Lenient):
    """Who the cooperative of a branch is, as every document it writes names it: the seller of
    its invoices and the company mentions the law asks of every document (kept once, in the
    billing section, where the invoice reads them too)."""

    seller: SellerIdentity
    legal: LegalIdentity


@dataclass(frozen=True)
class RulePack:
    id: str
    branch: str
    effective_from: date
    currency: str
    folder: Path

    def section(self, name: str, model: type[M]) -> M:
        """Read and validate one section of the pack (cached)."""
        return _section(self.folder, name, model)  # type: ignore[return-value]

    @property
    def common(self) -> CommonRules:
        return self.section("common", CommonRules)


@cache
def _section(folder: Path, name: str, model: type[BaseModel]) -> BaseModel:
    path = folder / f"{name}.toml"
    if not path.exists():
        raise UnknownRulePack(f"{folder.name} has no {name} section")
    return model.model_validate(_read(path))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise RulePackInvalid(f"rule pack {path.parent.name}, {path.name}: not valid TOML "
                              f"({error})") from None


@cache
def all_packs() -> tuple[RulePack, ...]:
    packs: dict[str, RulePack] = {}
    for root in [PACKS, *_deployment_packs]:
        for folder in sorted(root.iterdir()):
            meta_file = folder / "pack.toml"
            if not meta_file.exists():
                continue
            meta = _read(meta_file)
            try:
                packs[meta["id"]] = RulePack(
                    id=meta["id"],
                    branch=meta["branch"],
                    effective_from=meta["effective_from"],
                    currency=meta["currency"],
                    folder=folder,
                )
            except KeyError as missing:
                raise RulePackInvalid(f"rule pack {folder.name}, pack.toml: no {missing}"
                                      ) from None
            if not isinstance(meta["effective_from"], date):
                raise RulePackInvalid(f"rule pack {folder.name}, pack.toml: effective_from "
                                      "must be a TOML date (2026-01-01)")
    return tuple(sorted(packs.values(), key=lambda p: (p.branch, p.effective_from)))


def use_deployment_packs(folder: Path | None) -> None:
    """Read the deployment's own packs from ``folder`` (``Settings.rule_pack_dir``) beside the
    built-in ones, or none."""
    wanted = [folder] if folder else []
    if wanted != _deployment_packs:
        _deployment_packs[:] = wanted
        for cached in (all_packs, _section, cooperative_accounts):
            cached.cache_clear()


def check_rule_packs(branches: Iterable[str], sections: Mapping[str, type[BaseModel]]) -> None:
    """Read and validate every pack of ``branches``: its ``common`` section and each section
    that ``sections`` maps to the model the service reads it with. ``RulePackInvalid`` names
    the pack, the file and the fields, so that a bad pack stops a service's start, not a
    batch of its consumer."""
    served = set(branches)
    for pack in all_packs():
        if pack.branch not in served:
            continue
        wanted: dict[str, type[BaseModel]] = {"common": CommonRules, **sections}
        for name, model in wanted.items():
            if name != "common" and not (pack.folder / f"{name}.toml").exists():
                continue  # a section the branch does not have yet is refused when asked for
            try:
                pack.section(name, model)
            except ValidationError as error:
                fields = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}"
                                   for e in error.errors())
                raise RulePackInvalid(f"rule pack {pack.id}, {name}.toml: {fields}") from None
            except UnknownRulePack as missing:
                raise RulePackInvalid(f"rule pack {pack.id}: {missing}") from None


def placeholders(branch: str) -> list[str]:
    """Every value marked ``placeholder = true`` in the packs of ``branch`` (``pack/file: key``)."""
    found: list[str] = []
    for pack in all_packs():
        if pack.branch != branch:
            continue
        for path in sorted(pack.folder.glob("*.toml")):
            found.extend(f"{pack.id}/{path.name}: {key}"
                         for key in _placeholder_keys(_read(path), ""))
    return found


def _placeholder_keys(table: dict[str, Any], prefix: str) -> list[str]:
    keys = []
    for name, value in table.items():
        if isinstance(value, dict):
            if value.get("placeholder") is True:
                keys.append(prefix + name)
            else:
                keys.extend(_placeholder_keys(value, f"{prefix}{name}."))
    return keys


@cache
def cooperative_accounts() -> frozenset[str]:
    """Every account of the cooperative's own that a pack names (a sourced value under a key
    ``iban``: payroll's example payer account, billing's collection account, …) or that
    ``SMART_DEBTOR_ACCOUNTS`` configures for payroll, compact and upper-case, of every branch
    and year: a member's payout account can never be one of them."""
    found: set[str] = set()
    for pack in all_packs():
        for path in sorted(pack.folder.glob("*.toml")):
            found.update(_ibans(_read(path)))
    # payroll's configured salary accounts (SMART_DEBTOR_ACCOUNTS) are the cooperative's too
    found.update(account.iban for account in Settings().debtor_accounts.values())
    found.discard("")
    return frozenset(found)


def _ibans(table: dict[str, Any]) -> list[str]:
    ibans = []
    for name, value in table.items():
        if isinstance(value, dict):
            if name == "iban" and isinstance(value.get("value"), str):
                ibans.append("".join(value["value"].split()).upper())
            else:
                ibans.extend(_ibans(value))
    return ibans


def rule_pack(branch: str, on: date) -> RulePack:
    """The pack in force for ``branch`` on day ``on`` (the latest effective on or before it)."""
    candidates = [p for p in all_packs() if p.branch == branch and p.effective_from <= on]
    if not candidates:
        raise UnknownRulePack(f"no rule pack for branch {branch} on {on.isoformat()}")
    return candidates[-1]


def company_identity(branch: str, on: date) -> CompanyIdentity:
    """The cooperative of ``branch`` as its documents of day ``on`` name it."""
    return rule_pack(branch, on).section("billing", CompanyIdentity)


def branches() -> set[str]:
    return {p.branch for p in all_packs()}


__all__ = [
    "CommonRules",
    "CompanyIdentity",
    "Decimal",
    "LegalIdentity",
    "RulePack",
    "RulePackInvalid",
    "SellerIdentity",
    "Sourced",
    "SourcedDecimal",
    "SourcedInt",
    "UnknownRulePack",
    "all_packs",
    "branches",
    "check_rule_packs",
    "company_identity",
    "cooperative_accounts",
    "placeholders",
    "rule_pack",
    "use_deployment_packs",
]
