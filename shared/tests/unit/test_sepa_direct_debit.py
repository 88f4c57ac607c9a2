"""The pain.008.001.02 direct debit file: valid against the ISO 20022 schema that ships with
sepaxml, one payment block per sequence type, every debit under its mandate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import sepaxml
import xmlschema
from smart_shared.sepa import Collection, Creditor, sepa_direct_debit_file

SCHEMA = xmlschema.XMLSchema(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
FUND = Creditor("SMart SCE - Fonds mutuel", "BE68539007547034", "GKCCBEBB", "BE54ZZZ0000000097")


def debit(ident: str, amount: str, sequence: str) -> Collection:
    return Collection(ident, "Zoë Dupont", "BE71096123456769", Decimal(amount),
                      f"SMart loan {ident}", f"LOAN{ident.upper()}", date(2026, 1, 5), sequence)


def test_a_direct_debit_file_is_valid_and_groups_first_and_recurrent_debits() -> None:
    content = sepa_direct_debit_file(FUND, date(2026, 3, 16), [
        debit("a-001-1", "151.63", "FRST"), debit("b-002-1", "99.99", "RCUR"),
        debit("c-003-2", "0.01", "RCUR")])
    SCHEMA.validate(content.decode())
    root = ET.fromstring(content)
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    assert header is not None
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "3"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "251.63"
    blocks = {block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS): block
              for block in root.findall("p:CstmrDrctDbtInitn/p:PmtInf", NS)}
    assert set(blocks) == {"FRST", "RCUR"}
    recurrent = blocks["RCUR"]
    assert recurrent.findtext("p:ReqdColltnDt", namespaces=NS) == "2026-03-16"
    assert recurrent.findtext("p:CtrlSum", namespaces=NS) == "100.00"
    assert recurrent.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id",
                              namespaces=NS) == "BE54ZZZ0000000097"
    mandates = [(tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
                 tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS),
                 tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", namespaces=NS))
                for tx in recurrent.findall("p:DrctDbtTxInf", NS)]
    assert mandates == [("b-002-1", "LOANB-002-1", "2026-01-05"),
                        ("c-003-2", "LOANC-003-2", "2026-01-05")]


def test_a_debit_without_the_debtors_bank_says_not_provided_as_sepa_allows() -> None:
    content = sepa_direct_debit_file(FUND, date(2026, 3, 16), [debit("a", "10.00", "FRST")])
    tx = ET.fromstring(content).find("p:CstmrDrctDbtInitn/p:PmtInf/p:DrctDbtTxInf", NS)
    assert tx is not None
    assert tx.findtext("p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == "NOTPROVIDED"
    assert tx.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Zoe Dupont"  # SEPA's Latin set
