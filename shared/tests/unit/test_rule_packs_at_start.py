"""A service checks the rule packs of the branches it serves when it starts, not in a batch."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from smart_shared.rulepacks import PACKS, CompanyIdentity, RulePackInvalid, use_deployment_packs
from smart_shared.service import build_service
from smart_shared.settings import Settings


@pytest.fixture
def own_packs(tmp_path: Path) -> Iterator[Path]:
    """A deployment folder holding its own copy of the Belgian pack (same id: it replaces it)."""
    shutil.copytree(PACKS / "be-2026", tmp_path / "be-2026")
    yield tmp_path / "be-2026"
    use_deployment_packs(None)


def _start(folder: Path) -> None:
    settings = Settings(SMART_RULE_PACK_DIR=str(folder.parent), SMART_BRANCHES="BE")  # type: ignore[call-arg]
    build_service("toy", port=8099, settings=settings, rules={"billing": CompanyIdentity})


def test_a_deployment_pack_that_is_valid_lets_the_service_start(own_packs: Path) -> None:
    _start(own_packs)


def test_a_pack_with_a_number_without_its_source_stops_the_start_naming_pack_file_and_field(
    own_packs: Path,
) -> None:
    billing = own_packs / "billing.toml"
    text = billing.read_text()
    start = text.index("[seller.name]")
    source = text.index("source", start)
    billing.write_text(text[:source] + text[text.index("\n", source) + 1:])
    with pytest.raises(RulePackInvalid) as stopped:
        _start(own_packs)
    assert str(stopped.value).startswith("rule pack BE-2026, billing.toml: seller.name.source")


def test_a_pack_that_is_not_toml_stops_the_start(own_packs: Path) -> None:
    (own_packs / "common.toml").write_text("[fee_rate\nvalue = ")
    with pytest.raises(RulePackInvalid, match=r"be-2026, common.toml: not valid TOML"):
        _start(own_packs)


def test_a_pack_of_a_branch_the_deployment_does_not_serve_is_not_its_concern(
    own_packs: Path,
) -> None:
    (own_packs / "common.toml").write_text("fee_rate = 0.065\n")
    settings = Settings(SMART_RULE_PACK_DIR=str(own_packs.parent), SMART_BRANCHES="FR")  # type: ignore[call-arg]
    build_service("toy", port=8099, settings=settings)
