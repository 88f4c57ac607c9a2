"""The benchmark itself runs: 30 contracts through the full saga on a private platform.

Asserts that the run completes, that the invariants hold and that every figure is present. It
asserts no timing: the figures of a 30-contract run on a shared machine mean nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from smart_testing import Infrastructure

from tests.performance.bench import HOPS, amain, invariants_hold, parse
from tests.platform import SERVICES

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

N = 30


async def test_bench_runs_the_full_saga(infrastructure: Infrastructure, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    options = parse(["--contracts", str(N), "--members", "3", "--http-rate", "40",
                     "--http-seconds", "2", "--json", str(out), "--seed", "4242"])

    result = await amain(options)

    assert invariants_hold(result), result["invariants"]
    written: dict[str, Any] = json.loads(out.read_text())
    assert written["invariants"] == json.loads(json.dumps(result["invariants"]))
    table = capsys.readouterr().out
    assert "contracts per second" in table and "ratio platform / baseline" in table

    counts = result["events_seen"]
    for kind in ("ContractSigned", "EmploymentDeclared", "WorkCompleted", "InvoiceIssued",
                 "InvoicePaid", "SalaryDue", "SalaryPaid", "AdvanceRecovered"):
        assert counts.get(kind) == N, (kind, counts)
    assert result["guarantees"]["granted"] + result["guarantees"]["declined"] == N

    assert result["saga"]["contracts_per_s"] and result["saga"]["end_to_end_seconds"]
    for name, *_ in HOPS:
        hop = result["hops"][name]
        assert hop["count"] > 0 and hop["p50_ms"] is not None and hop["p99_ms"] is not None
    for service in ("members", "contracts", "billing", "payroll", "fund"):
        assert result["services"][service]["events"] > 0
        assert result["services"][service]["events_per_s"]
    assert set(result["peak_memory_mib"]) == set(SERVICES)
    assert all(result["peak_memory_mib"][s] for s in SERVICES)
    # every service worked, and so did mongod and the broker the bench found
    assert all(result["cpu"]["seconds"][s] > 0 for s in ("contracts", "billing", "fund"))
    assert {"mongod", "kafka", "load generator"} <= set(result["cpu"]["seconds"])
    assert result["cpu"]["per_contract_ms"] > 0
    for endpoint in ("GET /v1/members/{id}", "POST /v1/simulations"):
        assert result["http_load"][endpoint]["ok"] > 0
        assert result["http_load"][endpoint]["p99_ms"] is not None
    assert result["baseline"]["events"] == N and result["baseline"]["events_per_s"]
    # the signing links, invoices and payslips all reached the mail server
    mails = result["invariants"]["mails"]
    assert mails["pending"] == 0 and mails["dead"] == 0
    for service in ("contracts", "billing", "payroll"):
        assert mails["per_service"][service]["sent"] >= N, (service, mails)
    assert "until_all_mailed" in result["phases_seconds"]
    assert result["baseline"]["ratio_platform_over_baseline"]
