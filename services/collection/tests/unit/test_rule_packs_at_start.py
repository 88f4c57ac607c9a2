"""Collection refuses to start on a collection rule pack it could not use in its batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from collection.app import create_service
from smart_shared.rulepacks import PACKS, RulePackInvalid, use_deployment_packs
from smart_shared.settings import Settings


def test_a_dunning_schedule_without_a_day_stops_collection_from_starting(tmp_path: Path) -> None:
    shutil.copytree(PACKS / "be-2026", tmp_path / "be-2026")
    rules = tmp_path / "be-2026" / "collection.toml"
    rules.write_text(rules.read_text().replace("value = 21\n", 'value = "three weeks"\n', 1))
    settings = Settings(SMART_RULE_PACK_DIR=str(tmp_path), SMART_BRANCHES="BE")  # type: ignore[call-arg]
    try:
        with pytest.raises(RulePackInvalid) as stopped:
            create_service(settings)
    finally:
        use_deployment_packs(None)
    assert str(stopped.value).startswith(
        "rule pack BE-2026, collection.toml: business.schedule.reminder_2.value")
