"""A mailer logs as its service does: JSON lines at the deployment's level, from its first line
(the font it prepares at start included), not in Litestar's own format at INFO."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from smart_shared.mailer import mailer_app
from smart_shared.settings import Settings
from smart_shared.telemetry import setup_logging


@pytest.fixture
def root_logging() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:], root.level = handlers, level


def test_building_the_mailer_keeps_the_json_logging_at_the_services_level(
    root_logging: logging.Logger, capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(SMART_SERVICE="billing", SMART_LOG_LEVEL="WARNING")  # type: ignore[call-arg]
    setup_logging(settings)  # as `python -m billing mailer` does before it builds the app
    mailer_app("billing", settings, None)
    logging.getLogger("fontTools.subset").info("glyf pruned")
    logging.getLogger("smart.mail").info("below the level")
    logging.getLogger("smart.mail").warning("mail m-1 not sent (attempt 1)")
    (line,) = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["service"], entry["logger"], entry["message"]) == (
        "WARNING", "billing", "smart.mail", "mail m-1 not sent (attempt 1)")
