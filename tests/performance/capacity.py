"""From a benchmark's figures to a branch's sizing: what one core does per service, and the pods,
partitions and MongoDB a branch needs at a given volume.

    .venv/bin/python -m tests.performance.capacity tests/performance/results/<run>.json

The volume is an assumption, printed with the figures: members, contracts per member per year,
and how much of a month's contracts arrive in its busiest hours (month ends). The CPU a contract
costs is the benchmark's, per process, all of it (HTTP commands, events, mails, documents).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

DEFAULT_MEMBERS = 100_000
DEFAULT_CONTRACTS_PER_MEMBER = 12.0
DEFAULT_PEAK_SHARE = 0.30
DEFAULT_PEAK_HOURS = 24.0
DEFAULT_UTILISATION = 0.6
RETENTION_YEARS = 7  # invoices and payslips are kept seven years (the longest of the rules)
SERVICES = ("members", "contracts", "billing", "payroll", "fund", "collection")


def per_core(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """For each process: CPU ms per contract, and contracts per second one core sustains."""
    contracts = result["run"]["contracts"]
    figures = {}
    for name, seconds in result["cpu"]["seconds"].items():
        if name == "load generator" or not seconds:
            continue
        ms = 1000 * seconds / contracts
        figures[name] = {"cpu_ms_per_contract": ms, "contracts_per_core_s": 1000 / ms}
    return figures


def sizing(result: dict[str, Any], members: int, per_member: float, peak_share: float,
           peak_hours: float, utilisation: float) -> dict[str, Any]:
    """Peak contract rate for the volume, and the cores, pods and storage it needs."""
    yearly = members * per_member
    peak_rate = yearly / 12 * peak_share / (peak_hours * 3600)
    cores = {name: peak_rate * f["cpu_ms_per_contract"] / 1000 / utilisation
             for name, f in per_core(result).items()}
    stored = result.get("storage") or {}
    contracts = result["run"]["contracts"]
    stored_bytes = sum(s["data_bytes"] + s["index_bytes"] for s in stored.values())
    bytes_per_contract = stored_bytes / contracts
    return {
        "contracts_per_year": yearly,
        "peak_contracts_per_s": peak_rate,
        "cores": cores,
        # a pod is one core here; two at least, for a replica to take over
        # a service's mailer (billing-mailer) is a deployment of its own, two pods for the lease
        "pods": {name: max(2, math.ceil(c)) for name, c in cores.items()
                 if name.removesuffix("-mailer") in SERVICES},
        "partitions": max(6, 2 * max((math.ceil(c) for n, c in cores.items() if n in SERVICES),
                                     default=1)),
        "bytes_per_contract": bytes_per_contract,
        "storage_gib_retained": bytes_per_contract * yearly * RETENTION_YEARS / 2**30,
    }


def table(result: dict[str, Any], options: argparse.Namespace) -> str:
    lines = [f"Per process (benchmark of {result['run']['contracts']:,} contracts, "
             f"{result['run']['machine']['cpus']} CPUs)",
             f"  {'process':<18}{'CPU ms / contract':>20}{'contracts/s per core':>24}"]
    for name, f in sorted(per_core(result).items(), key=lambda i: -i[1]["cpu_ms_per_contract"]):
        lines.append(f"  {name:<18}{f['cpu_ms_per_contract']:>20.1f}"
                     f"{f['contracts_per_core_s']:>24.1f}")
    for scale in (1, 100):
        size = sizing(result, options.members, options.contracts_per_member * scale,
                      options.peak_share, options.peak_hours, options.utilisation)
        lines += ["", f"A branch of {options.members:,} members at {scale} times the volume: "
                  f"{options.contracts_per_member * scale:g} contracts each a year "
                  f"({size['contracts_per_year']:,.0f}), {options.peak_share:.0%} of a month's "
                  f"contracts in {options.peak_hours:g} busy hours, cores at "
                  f"{options.utilisation:.0%}",
                  f"  peak contracts/s                 {size['peak_contracts_per_s']:.2f}"]
        for name, cores in sorted(size["cores"].items(), key=lambda i: -i[1]):
            pods = size["pods"].get(name)
            lines.append(f"  {name:<18} cores {cores:>8.2f}" + (f"   pods {pods}" if pods else ""))
        lines += [f"  partitions per topic             {size['partitions']}",
                  f"  MongoDB bytes per contract       {size['bytes_per_contract']:,.0f}",
                  f"  MongoDB data kept {RETENTION_YEARS} years (GiB)  "
                  f"{size['storage_gib_retained']:,.1f}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="a benchmark's JSON (--json)")
    parser.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    parser.add_argument("--contracts-per-member", type=float,
                        default=DEFAULT_CONTRACTS_PER_MEMBER)
    parser.add_argument("--peak-share", type=float, default=DEFAULT_PEAK_SHARE,
                        help="share of a month's contracts that arrive in the busy hours")
    parser.add_argument("--peak-hours", type=float, default=DEFAULT_PEAK_HOURS,
                        help="the busy hours of a month (e.g. three month-end days of 8 h)")
    parser.add_argument("--utilisation", type=float, default=DEFAULT_UTILISATION)
    options = parser.parse_args(argv)
    print(table(json.loads(options.result.read_text()), options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
