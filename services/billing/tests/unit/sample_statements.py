"""camt.053 documents as banks send them, for the parser and the integration tests."""

from __future__ import annotations

from decimal import Decimal

BE_ACCOUNT = "BE68539007547034"
"""SMart Belgium's collection account (its billing rule pack)."""
FR_ACCOUNT = "FR7630006000011234567890189"
"""SMart France's collection account (its billing rule pack)."""
CLIENT_IBAN = "BE71096123456769"
ARABIC_INDIC_121 = "\u0661\u0662\u0661.\u0660\u0660"
"""121.00 written with Arabic-Indic digits."""
FULLWIDTH_121 = "\uff11\uff12\uff11.\uff10\uff10"
"""121.00 written with fullwidth digits."""

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>2026-03-02T06:00:00</CreDtTm></GrpHdr>
"""
STMT = """  <Stmt>
   <Id>{id}</Id>
   <CreDtTm>2026-03-02T06:00:00</CreDtTm>
   <Acct><Id><IBAN>{account}</IBAN></Id></Acct>
{balances}"""
TAIL = """ </BkToCstmrStmt>
</Document>
"""


def balance(code: str, amount: Decimal | str, credit: bool = True) -> str:
    return (f"   <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f"<Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>{'CRDT' if credit else 'DBIT'}"
            f"</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>\n")


def entry(ref: str, amount: Decimal | str, reference: str | None, credit: bool = True,
          booked: str = "2026-03-02", unstructured: str | None = None,
          bank_reference: bool = True, details: list[Decimal | str] | None = None,
          details_as: str = "Amt", payer_iban: str = CLIENT_IBAN) -> str:
    """One entry; ``details`` gives its transaction details' own amounts (else one detail
    without an amount), written as ``TxDtls/Amt`` or ``TxDtls/AmtDtls/TxAmt/Amt``."""
    remittance = ""
    if reference:
        remittance = (f"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
                      f"<Issr>BBA</Issr></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>")
    elif unstructured:
        remittance = f"<RmtInf><Ustrd>{unstructured}</Ustrd></RmtInf>"
    parties = (f"<RltdPties><Dbtr><Nm>Client SA</Nm></Dbtr>"
               f"<DbtrAcct><Id><IBAN>{payer_iban}</IBAN></Id></DbtrAcct></RltdPties>")

    def own(value: Decimal | str) -> str:
        if details_as == "Amt":
            return f"<Amt Ccy=\"EUR\">{value}</Amt>"
        return f"<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{value}</Amt></TxAmt></AmtDtls>"

    transactions = "".join(f"<TxDtls>{own(value)}{parties}{remittance}</TxDtls>"
                           for value in details) if details else (
        f"<TxDtls>\n     {parties}\n     {remittance}\n    </TxDtls>")
    bank = f"<AcctSvcrRef>BANK-{ref}</AcctSvcrRef>" if bank_reference else ""
    return f"""   <Ntry>
    <NtryRef>{ref}</NtryRef>
    <Amt Ccy="EUR">{amount}</Amt>
    <CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>
    <Sts>BOOK</Sts>
    <BookgDt><Dt>{booked}</Dt></BookgDt>
    <ValDt><Dt>{booked}</Dt></ValDt>
    {bank}
    <BkTxCd/>
    <NtryDtls>{transactions}</NtryDtls>
   </Ntry>
"""


def stmt(statement_id: str, entries: list[str], account: str = BE_ACCOUNT,
         balances: tuple[Decimal | str, Decimal | str] | None = None) -> str:
    """One ``Stmt``; ``balances`` are its opening (OPBD) and closing (CLBD) booked balances."""
    written = "" if balances is None else balance("OPBD", balances[0]) + balance(
        "CLBD", balances[1])
    return (STMT.format(id=statement_id, account=account, balances=written)
            + "".join(entries) + "  </Stmt>\n")


def document(message_id: str, statements: list[str], version: str = "02") -> bytes:
    return (HEAD.format(id=message_id, version=version) + "".join(statements) + TAIL).encode()


def statement(statement_id: str, entries: list[str], account: str = BE_ACCOUNT,
              balances: tuple[Decimal | str, Decimal | str] | None = None,
              version: str = "02") -> bytes:
    """A file of one statement."""
    return document(statement_id, [stmt(statement_id, entries, account, balances)], version)
