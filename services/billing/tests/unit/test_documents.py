import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal

from billing.documents import invoice_pdf, invoice_ubl
from billing.documents.pdf import payment_qr
from billing.domain.rules import billing_rules
from billing.store import Invoice
from smart_shared.events.catalogue import Address, Client

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def an_invoice(reverse_charge: bool = False) -> Invoice:
    seller = {k: v.value for k, v in billing_rules("BE", date(2026, 3, 1)).seller}
    country = "NL" if reverse_charge else "BE"
    return Invoice.model_validate({
        "_id": "inv-1", "branch": "BE", "number": "BE-2026-000001", "contract_id": "c-1",
        "member_id": "m-1", "status": "open", "issue_date": "2026-03-01",
        "due_date": "2026-03-31", "seller": seller,
        "client": Client(client_key="k", name="Zoë Café BV", kind="business", country=country,
                         email="z@example.com", vat_number="NL004495445B01" if reverse_charge
                         else "BE0417497106",
                         address=Address(street="Straat 1", postal_code="1000", city="Brussel",
                                         country=country)).model_dump(mode="json"),
        "performer": {"member_id": "m-1", "activity": "musician"},
        "lines": [{"description": "Concert", "work_days": ["2026-02-27"],
                   "amount_excl_vat": "1000.00"}],
        "amount_excl_vat": "1000.00", "vat_rate": "0" if reverse_charge else "0.21",
        "vat_category": "AE" if reverse_charge else "S",
        "vat_amount": "0.00" if reverse_charge else "210.00",
        "total": "1000.00" if reverse_charge else "1210.00", "reverse_charge": reverse_charge,
        "vat_mention": "Reverse charge" if reverse_charge else None,
        "structured_reference": "+++202/6000/00192+++",
        "balance_due": "1000.00" if reverse_charge else "1210.00", "version": 1,
    })


def test_the_ubl_has_the_mandatory_peppol_bis_3_elements() -> None:
    root = ET.fromstring(invoice_ubl(an_invoice()))
    text = lambda path: root.findtext(path, namespaces=NS)  # noqa: E731
    assert text("cbc:CustomizationID") == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0")
    assert text("cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert text("cbc:ID") == "BE-2026-000001"
    assert text("cbc:InvoiceTypeCode") == "380"
    assert text("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") \
        == "BE0896755397"
    assert text("cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name") == "Zoë Café BV"
    assert text("cac:TaxTotal/cbc:TaxAmount") == "210.00"
    assert text("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == "21"
    assert text("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "1210.00"
    assert text("cac:LegalMonetaryTotal/cbc:PayableAmount") == "1210.00"
    assert text("cac:PaymentMeans/cbc:PaymentID") == "+++202/6000/00192+++"
    assert text("cac:InvoiceLine/cbc:LineExtensionAmount") == "1000.00"


def test_a_reverse_charged_ubl_says_ae_with_the_exemption_reason() -> None:
    root = ET.fromstring(invoice_ubl(an_invoice(reverse_charge=True)))
    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert category is not None
    assert category.findtext("cbc:ID", namespaces=NS) == "AE"
    assert category.findtext("cbc:TaxExemptionReasonCode", namespaces=NS) == "VATEX-EU-AE"


def test_the_pdf_is_a_pdf_with_a_payment_qr_code() -> None:
    content = invoice_pdf(an_invoice(), datetime(2026, 3, 1, tzinfo=UTC))
    assert content.startswith(b"%PDF-") and b"/Image" in content
    qr = payment_qr(an_invoice())
    assert qr is not None


def test_the_epc_qr_carries_the_belgian_communication_in_the_unstructured_field() -> None:
    qr = payment_qr(an_invoice())
    assert qr is not None
    from segno import helpers

    # EPC069-12: line 10 is the ISO 11649 reference only, line 11 the unstructured remittance
    data = helpers._make_epc_qr_data(  # the payload segno encodes in payment_qr
        name="SMart SCE", iban="BE68539007547034", amount=Decimal("1210.00"),
        text="+++202/6000/00192+++", bic="GKCCBEBB")
    lines = data.decode().split("\n")
    assert lines[6] == "BE68539007547034" and lines[7] == "EUR1210"
    assert lines[9] == "" and lines[10] == "+++202/6000/00192+++"
