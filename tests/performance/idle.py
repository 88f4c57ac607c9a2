"""What a platform costs doing nothing: ``python -m tests.performance.idle [--seconds 30]``.

Run it against the ``make up`` platform once the demo has played and nothing else runs. It
prints each process's CPU milliseconds per second over the window (``/proc``, as the bench
counts them: the services and mailers, mongod, the Kafka broker) and the queries a second
mongod answers per collection then (its ``top`` command), which is what the services' polls ask.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from pymongo import MongoClient

from tests.performance.bench import CpuClock, _local_service_pids

MONGO = os.environ.get("MONGODB_URI",
                       "mongodb://127.0.0.1:27017/?replicaSet=rs0&directConnection=true")


def _counts(client: MongoClient[Any]) -> dict[str, int]:
    totals = client.admin.command("top")["totals"]
    return {ns: figures["total"]["count"] for ns, figures in totals.items() if ns != "note"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    options = parser.parse_args()
    with MongoClient(MONGO) as client:
        cpu = CpuClock(_local_service_pids())
        before = _counts(client)
        time.sleep(options.seconds)
        after = _counts(client)
        spent = cpu.spent(0)["seconds"]
    spent.pop("load generator", None)
    print(f"CPU ms per second over {options.seconds:.0f} s")
    for name, seconds in sorted(spent.items()):
        print(f"  {name:20} {1000 * seconds / options.seconds:7.1f}")
    print(f"  {'in all':20} {1000 * sum(spent.values()) / options.seconds:7.1f}")
    rates = sorted(((after[ns] - before.get(ns, 0)) / options.seconds, ns) for ns in after)
    print("mongod operations per second, by namespace")
    for rate, ns in reversed(rates):
        if rate >= 0.5:
            print(f"  {rate:7.1f}  {ns}")


if __name__ == "__main__":
    main()
