"""Invoices and credit notes as Peppol BIS Billing 3.0 UBL 2.1 XML (EN 16931)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from billing.store import CreditNote, Invoice

CUSTOMIZATION_ID = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

ET.register_namespace("cac", CAC)
ET.register_namespace("cbc", CBC)

# Peppol Electronic Address Scheme codes for VAT numbers
VAT_ENDPOINT_SCHEMES = {"BE": "9925", "FR": "9957", "DE": "9930", "NL": "9944", "LU": "9938",
                        "IT": "9906", "ES": "9920", "AT": "9914", "IE": "9935", "PT": "9946"}
EXEMPTION_CODES = {"AE": "VATEX-EU-AE", "O": "VATEX-EU-O"}


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{CAC}}}{name}")


def _cbc(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CBC}}}{tag}", attributes)
    element.text = text
    return element


def _money(parent: ET.Element, name: str, amount: Decimal, currency: str) -> None:
    _cbc(parent, name, f"{amount:.2f}", currencyID=currency)


def _address(party: ET.Element, street: str, city: str, postal_code: str, country: str) -> None:
    address = _cac(party, "PostalAddress")
    _cbc(address, "StreetName", street)
    _cbc(address, "CityName", city)
    _cbc(address, "PostalZone", postal_code)
    _cbc(_cac(address, "Country"), "IdentificationCode", country)


def _tax_category(parent: ET.Element, name: str, invoice: Invoice) -> None:
    category = _cac(parent, name)
    _cbc(category, "ID", invoice.vat_category)
    if invoice.vat_category != "O":
        _cbc(category, "Percent", f"{invoice.vat_rate * 100:.2f}".rstrip("0").rstrip("."))
    code = invoice.vat_exemption_reason_code or EXEMPTION_CODES.get(invoice.vat_category)
    if name == "TaxCategory" and invoice.vat_category in ("E", *EXEMPTION_CODES):
        # an exemption without a VATEX code (a national one) is given by its text (BR-E-10)
        if code:
            _cbc(category, "TaxExemptionReasonCode", code)
        if invoice.vat_mention:
            _cbc(category, "TaxExemptionReason", invoice.vat_mention)
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _seller(root: ET.Element, invoice: Invoice) -> None:
    seller = invoice.seller
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _cbc(party, "EndpointID", seller.vat_number, schemeID=seller.peppol_scheme)
    _cbc(_cac(party, "PartyName"), "Name", seller.name)
    _address(party, seller.street, seller.city, seller.postal_code, seller.country)
    if invoice.vat_category != "O":  # EN 16931 BR-O-02: no VAT identifiers when not subject
        tax = _cac(party, "PartyTaxScheme")
        _cbc(tax, "CompanyID", seller.vat_number)
        _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", seller.name)
    _cbc(legal, "CompanyID", seller.company_id)


def _buyer(root: ET.Element, invoice: Invoice) -> None:
    client, seller = invoice.client, invoice.seller
    party = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    scheme = VAT_ENDPOINT_SCHEMES.get(client.country) if client.vat_number else None
    if scheme and client.vat_number:
        _cbc(party, "EndpointID", client.vat_number, schemeID=scheme)
    else:
        # a consumer has no Peppol address (the code list has no e-mail scheme): the document is
        # delivered by e-mail and its electronic address is the seller's own, where it is archived
        _cbc(party, "EndpointID", seller.vat_number, schemeID=seller.peppol_scheme)
    _cbc(_cac(party, "PartyName"), "Name", client.name)
    _address(party, client.address.street, client.address.city, client.address.postal_code,
             client.address.country)
    if client.vat_number and invoice.vat_category != "O":
        tax = _cac(party, "PartyTaxScheme")
        _cbc(tax, "CompanyID", client.vat_number)
        _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
    _cbc(_cac(party, "PartyLegalEntity"), "RegistrationName", client.name)
    _cbc(_cac(party, "Contact"), "ElectronicMail", client.email)


def _payment_means(root: ET.Element, invoice: Invoice) -> None:
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", "58", name="SEPA credit transfer")
    _cbc(means, "PaymentID", invoice.structured_reference or invoice.number)
    account = _cac(means, "PayeeFinancialAccount")
    _cbc(account, "ID", invoice.seller.iban)
    _cbc(account, "Name", invoice.seller.name)
    _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", invoice.seller.bic)


def _totals(root: ET.Element, invoice: Invoice, excl: Decimal, vat: Decimal,
            total: Decimal, prepaid: Decimal = Decimal("0.00")) -> None:
    currency = invoice.currency
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", vat, currency)
    subtotal = _cac(tax_total, "TaxSubtotal")
    _money(subtotal, "TaxableAmount", excl, currency)
    _money(subtotal, "TaxAmount", vat, currency)
    _tax_category(subtotal, "TaxCategory", invoice)
    totals = _cac(root, "LegalMonetaryTotal")
    _money(totals, "LineExtensionAmount", excl, currency)
    _money(totals, "TaxExclusiveAmount", excl, currency)
    _money(totals, "TaxInclusiveAmount", total, currency)
    if prepaid > 0:  # the client's credit on earlier invoices (BT-113; BR-CO-16)
        _money(totals, "PrepaidAmount", prepaid, currency)
    _money(totals, "PayableAmount", total - prepaid, currency)


def _line(root: ET.Element, kind: str, position: int, quantity: str, description: str,
          name: str, amount: Decimal, invoice: Invoice) -> None:
    element = _cac(root, f"{kind}Line")
    _cbc(element, "ID", str(position))
    _cbc(element, quantity, "1", unitCode="C62")
    _money(element, "LineExtensionAmount", amount, invoice.currency)
    item = _cac(element, "Item")
    _cbc(item, "Description", description)
    _cbc(item, "Name", name[:100] or "Services")
    _tax_category(item, "ClassifiedTaxCategory", invoice)
    _money(_cac(element, "Price"), "PriceAmount", amount, invoice.currency)


def _head(namespace: str, kind: str, number: str) -> ET.Element:
    # the document's own namespace is the default one, as Peppol's examples write it
    root = ET.Element(kind, xmlns=namespace)
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", number)
    return root


def _xml(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def invoice_ubl(invoice: Invoice) -> bytes:
    """The invoice in UBL 2.1 with the mandatory Peppol BIS Billing 3.0 elements."""
    root = _head(INVOICE_NS, "Invoice", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, "InvoiceTypeCode", "380")
    if invoice.vat_mention:
        _cbc(root, "Note", invoice.vat_mention)
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    _cbc(root, "BuyerReference", invoice.contract_id)
    _seller(root, invoice)
    _buyer(root, invoice)
    _payment_means(root, invoice)
    _cbc(_cac(root, "PaymentTerms"), "Note", f"Payable by {invoice.due_date.isoformat()}")
    _totals(root, invoice, invoice.amount_excl_vat, invoice.vat_amount, invoice.total,
            invoice.prepaid)
    for position, line in enumerate(invoice.lines, start=1):
        days = ", ".join(day.isoformat() for day in line.work_days)
        _line(root, "Invoice", position, "InvoicedQuantity",
              f"{line.description} (work days: {days})", line.description,
              line.amount_excl_vat, invoice)
    return _xml(root)


def credit_note_ubl(credit_note: CreditNote, invoice: Invoice) -> bytes:
    """The credit note in UBL 2.1 (type 381), referring to the invoice it credits."""
    root = _head(CREDIT_NOTE_NS, "CreditNote", credit_note.number)
    _cbc(root, "IssueDate", credit_note.issue_date.isoformat())
    _cbc(root, "CreditNoteTypeCode", "381")
    # Peppol allows one document-level note: the reason, then the invoice's VAT mention
    _cbc(root, "Note", " — ".join(filter(None, (credit_note.reason, invoice.vat_mention))))
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    _cbc(root, "BuyerReference", invoice.contract_id)
    reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
    _cbc(reference, "ID", invoice.number)
    _cbc(reference, "IssueDate", invoice.issue_date.isoformat())
    _seller(root, invoice)
    _buyer(root, invoice)
    _totals(root, invoice, credit_note.amount_excl_vat, credit_note.vat_amount,
            credit_note.amount)
    _line(root, "CreditNote", 1, "CreditedQuantity",
          f"{credit_note.reason} (invoice {invoice.number})", f"Credit on {invoice.number}",
          credit_note.amount_excl_vat, invoice)
    return _xml(root)
