"""Versioned rule packs: every branch- or year-specific number is data with its source.

A pack is a folder ``packs/<branch>-<year>/`` with ``pack.toml`` (id, branch, effective date,
currency) and one TOML file per section (``common``, ``billing``, ``payroll``, ``fund``,
``collection``). Every number is written as ``{ value = "0.065", source = "…" }`` and read into a
``Sourced`` field, so a number without a source fails at start-up. Decimals are strings: TOML
floats are refused like every other float on the platform.

    pack = rule_pack("BE", date(2026, 3, 1))
    payroll = pack.section("payroll", PayrollRules)   # PayrollRules: the service's pydantic model
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from smart_shared.money import ExactDecimal

PACKS = Path(__file__).parent / "packs"
V = TypeVar("V")
M = TypeVar("M", bound=BaseModel)


class Sourced(BaseModel, Generic[V]):
    """A rule value and where it comes from (law, collective agreement, general conditions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: V
    source: str = Field(min_length=3)


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
    return model.model_validate(tomllib.loads(path.read_text()))


@cache
def all_packs() -> tuple[RulePack, ...]:
    packs = []
    for folder in sorted(PACKS.iterdir()):
        meta_file = folder / "pack.toml"
        if not meta_file.exists():
            continue
        meta: dict[str, Any] = tomllib.loads(meta_file.read_text())
        packs.append(RulePack(
            id=meta["id"],
            branch=meta["branch"],
            effective_from=meta["effective_from"],
            currency=meta["currency"],
            folder=folder,
        ))
    return tuple(sorted(packs, key=lambda p: (p.branch, p.effective_from)))


def rule_pack(branch: str, on: date) -> RulePack:
    """The pack in force for ``branch`` on day ``on`` (the latest effective on or before it)."""
    candidates = [p for p in all_packs() if p.branch == branch and p.effective_from <= on]
    if not candidates:
        raise UnknownRulePack(f"no rule pack for branch {branch} on {on.isoformat()}")
    return candidates[-1]


def branches() -> set[str]:
    return {p.branch for p in all_packs()}


__all__ = [
    "CommonRules",
    "Decimal",
    "RulePack",
    "Sourced",
    "SourcedDecimal",
    "SourcedInt",
    "UnknownRulePack",
    "all_packs",
    "branches",
    "rule_pack",
]
