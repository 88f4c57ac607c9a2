"""Runs the official Peppol BIS Billing 3.0 rules (phive, from Maven Central) over UBL files.

Maven only resolves the rules into ~/.m2 and writes their class path, once per change of the
POM; every file is then validated in one JVM start (``java Validate.java``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
CLASSPATH = HERE / "target" / "classpath.txt"
RULE_SETS = ("2026.5", "2025.11")


@dataclass(frozen=True)
class Verdict:
    clean: bool
    report: str


def classpath() -> str:
    """The class path of phive and the Peppol rules, resolved by Maven when the POM changed."""
    if not CLASSPATH.exists() or CLASSPATH.stat().st_mtime < POM.stat().st_mtime:
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("Maven (mvn) is needed to resolve the Peppol validation rules")
        subprocess.run(
            [mvn, "-B", "-q", "-f", str(POM), "dependency:build-classpath",
             f"-Dmdep.outputFile={CLASSPATH}"],
            check=True, timeout=900,
        )
    return CLASSPATH.read_text().strip()


def validate(files: list[Path], rule_sets: tuple[str, ...] = RULE_SETS) -> Verdict:
    """Every file against every rule set: clean when no error and no warning at all."""
    java = shutil.which("java") or "java"
    result = subprocess.run(
        [java, "-cp", classpath(), str(HERE / "Validate.java"), ",".join(rule_sets),
         *map(str, files)],
        capture_output=True, text=True, timeout=900,
    )
    return Verdict(result.returncode == 0, result.stdout + result.stderr)
