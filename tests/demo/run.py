"""``python -m tests.demo.run``: play the demo scenario on the platform ``make up`` started.

Prints one line per step while the saga runs, then a summary (members, contracts, invoices,
salaries, fund position, collection cases, payment runs), where to look next, and a fresh
sign-in link to the portal for each person of the demo, members and staff. It can be run
again on the same platform: every run registers new members and clients (and moves the platform
clock about 200 days further).
"""

from __future__ import annotations

import asyncio
import sys
import time
import urllib.request
from decimal import Decimal

from tests.demo.logins import login_links, render_links
from tests.demo.scenario import Summary, play
from tests.platform import LOCAL_PORTS, local_platform


def _ready() -> list[str]:
    """The services of the local platform that do not answer ``/health/ready``."""
    missing = []
    for name, port in LOCAL_PORTS.items():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3):
                pass
        except OSError:
            missing.append(f"{name} (:{port})")
    return missing


def _table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if n else c.ljust(w)
                         for c, w, n in zip(cells, widths, numeric, strict=True)).rstrip()

    out = [f"\n{title}", line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
        return True
    except ArithmeticError:
        return False


def _eur(value: Decimal | str) -> str:
    return f"{Decimal(value):,.2f}"


def render(summary: Summary, home: str = ".local") -> str:
    members = {m.member_id: m for m in summary.members}
    parts = [f"\nPlatform time moved from {summary.started_on} to {summary.finished_on}."]
    parts.append(_table("MEMBERS", ["member", "branch", "activity", "status", "id"], [
        [m.name, m.branch, m.activity, m.status, m.member_id] for m in summary.members]))
    parts.append(_table("CONTRACTS", ["story", "member", "client", "excl. VAT", "expenses",
                                      "guarantee", "status"], [
        [c.story, members[c.member_id].name.split()[0], c.client, _eur(c.amount_excl_vat),
         _eur(c.expenses), c.guarantee, c.status] for c in summary.contracts]))
    parts.append(_table("INVOICES", ["number", "client", "excl. VAT", "VAT", "total", "paid",
                                     "credited", "due", "status"], [
        [i.number, summary.contract(i.key).client,
         _eur(i.amount_excl_vat),
         "reverse charge" if i.reverse_charge else f"{i.vat_rate * 100:.0f}% {_eur(i.vat_amount)}",
         _eur(i.total), _eur(i.paid), _eur(i.credited), i.due_date.isoformat(), i.status]
        for i in summary.invoices]))
    parts.append(_table("SALARIES", ["member", "branch", "gross", "net", "paid out", "pay date",
                                     "guaranteed", "status"], [
        [members[s.member_id].name.split()[0], s.branch, _eur(s.gross), _eur(s.net),
         _eur(s.paid), s.pay_date.isoformat(), "yes" if s.guaranteed else "no", s.status]
        for s in summary.salaries]))
    parts.append(_table("PAYMENT RUNS", ["branch", "salaries", "total", "pain.001", "status"], [
        [r.branch, str(r.count), _eur(r.total), f"{r.pain001_bytes:,} bytes", r.status]
        for r in summary.payment_runs]))
    fund_rows = []
    for branch, f in summary.fund.items():
        check = summary.fund_check.get(branch, {})
        fund_rows.append([branch, _eur(f["capital"]["amount"]), _eur(f["free_balance"]["amount"]),
                          _eur(f["reserved"]["amount"]), _eur(f["advanced"]["amount"]),
                          _eur(f["contributions"]["amount"]), _eur(f["losses"]["amount"]),
                          "balanced" if check.get("ok") else "MISMATCH"])
    parts.append(_table("GUARANTEE FUND (whole platform history)",
                        ["branch", "capital", "free", "reserved", "advanced", "contributions",
                         "losses", "ledger"], fund_rows))
    case_rows = []
    for case in summary.cases:
        claim = case.formal_notice_claim or {}
        case_rows.append([case.invoice_number, case.client, " → ".join(case.levels_seen),
                          _eur(case.principal),
                          _eur(claim["interest"]["amount"]) if claim else "-",
                          _eur(claim["compensation"]["amount"]) if claim else "-",
                          case.status])
    parts.append(_table("COLLECTION CASES", ["invoice", "client", "steps", "principal",
                                             "interest*", "compensation*", "status"], case_rows))
    parts.append("  * claimed with the formal notice")
    if summary.problems:
        parts.append("\nPROBLEMS SEEN")
        parts.extend(f"  - {p}" for p in summary.problems)
    parts.append("\nWHERE TO LOOK NEXT")
    parts.append("  the portal  http://127.0.0.1:8000/  (members, clients and staff in a browser;\n"
                 "              sign in with the links below)")
    parts.extend(f"  {name:<11} http://127.0.0.1:{port}/schema"
                 for name, port in LOCAL_PORTS.items())
    parts.append(f"  the trace of one contract, from the client's signature to the recovered "
                 f"advance (spans are flushed every few seconds):\n"
                 f"    SMART_HOME={home} .venv/bin/smart trace {summary.trace_contract_id}")
    parts.append("  every mail the story caused (signing links, invoices with their PDF and UBL,\n"
                 "  reminders, payslips), in the local inbox:  http://127.0.0.1:8025")
    parts.append("  the services' logs:  make logs      what runs:  make status")
    parts.append("  the platform clock:  .venv/bin/smart clock show")
    return "\n".join(parts)


def main() -> int:
    missing = _ready()
    if missing:
        print(f"demo: the platform is not running ({', '.join(missing)} not ready); "
              "start it with `make up`", file=sys.stderr)
        return 2
    print("SMart demo: one saga through the six services' public APIs\n", flush=True)
    started = time.monotonic()
    platform = local_platform()
    summary = asyncio.run(play(platform, lambda line: print(line, flush=True)))
    print(render(summary, str(platform.home)))
    # last: the links expire 15 minutes of platform time after they are asked for
    print(render_links(asyncio.run(login_links(platform, summary))))
    print(f"\ndemo played in {time.monotonic() - started:.0f}s")
    return 1 if summary.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
