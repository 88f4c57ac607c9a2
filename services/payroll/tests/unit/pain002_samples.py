"""pain.002 status reports as banks send them, built for the tests."""

from __future__ import annotations

NS = {"03": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03",
      "10": "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"}


def transaction(end_to_end_id: str, status: str | None = "ACSC", code: str | None = None,
                text: str | None = None) -> str:
    reason = ""
    if code or text:
        reason = ("<StsRsnInf>" + (f"<Rsn><Cd>{code}</Cd></Rsn>" if code else "")
                  + (f"<AddtlInf>{text}</AddtlInf>" if text else "") + "</StsRsnInf>")
    own = f"<TxSts>{status}</TxSts>" if status else ""
    return (f"<TxInfAndSts><StsId>S-{end_to_end_id[:10]}</StsId>"
            f"<OrgnlEndToEndId>{end_to_end_id}</OrgnlEndToEndId>{own}{reason}</TxInfAndSts>")


def status_report(original_message_id: str, *transactions: str, version: str = "03",
                  group_status: str | None = None, block_status: str | None = None,
                  block_id: str = "SMartBelgium-block", message_id: str = "BANK-RPT-1",
                  group_reason: str = "") -> bytes:
    group = f"<GrpSts>{group_status}</GrpSts>" if group_status else ""
    block = f"<PmtInfSts>{block_status}</PmtInfSts>" if block_status else ""
    blocks = (f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>{block_id}</OrgnlPmtInfId>{block}"
              + "".join(transactions) + "</OrgnlPmtInfAndSts>") if transactions or block else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{NS[version]}">'
        f"<CstmrPmtStsRpt><GrpHdr><MsgId>{message_id}</MsgId>"
        "<CreDtTm>2026-03-10T08:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{original_message_id}</OrgnlMsgId>"
        f"<OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>{group}{group_reason}</OrgnlGrpInfAndSts>"
        f"{blocks}</CstmrPmtStsRpt></Document>"
    ).encode()
