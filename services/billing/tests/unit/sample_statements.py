"""camt.053 documents as banks send them, for the parser and the integration tests."""

from __future__ import annotations

from decimal import Decimal

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>2026-03-02T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>{id}</Id>
   <CreDtTm>2026-03-02T06:00:00</CreDtTm>
   <Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>
"""
TAIL = """  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def entry(ref: str, amount: Decimal, reference: str | None, credit: bool = True,
          booked: str = "2026-03-02", unstructured: str | None = None) -> str:
    remittance = ""
    if reference:
        remittance = (f"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
                      f"<Issr>BBA</Issr></Tp><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>")
    elif unstructured:
        remittance = f"<RmtInf><Ustrd>{unstructured}</Ustrd></RmtInf>"
    return f"""   <Ntry>
    <NtryRef>{ref}</NtryRef>
    <Amt Ccy="EUR">{amount}</Amt>
    <CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>
    <Sts>BOOK</Sts>
    <BookgDt><Dt>{booked}</Dt></BookgDt>
    <ValDt><Dt>{booked}</Dt></ValDt>
    <AcctSvcrRef>BANK-{ref}</AcctSvcrRef>
    <BkTxCd/>
    <NtryDtls><TxDtls>
     <RltdPties><Dbtr><Nm>Client SA</Nm></Dbtr>
      <DbtrAcct><Id><IBAN>BE71096123456769</IBAN></Id></DbtrAcct></RltdPties>
     {remittance}
    </TxDtls></NtryDtls>
   </Ntry>
"""


def statement(statement_id: str, entries: list[str]) -> bytes:
    return (HEAD.format(id=statement_id) + "".join(entries) + TAIL).encode()
