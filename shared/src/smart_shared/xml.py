"""XML from outside the platform (bank statements, payment status reports), read safely.

The standard library parser is used after refusing any DTD or entity declaration, so a document
cannot expand entities (billion laughs) or reach outside itself (external entities); elements
are found by their local name, whatever the ISO 20022 version's namespace.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnreadableXml(ValueError):
    """Not a document the platform reads: a DTD or entity declaration, or not well-formed."""


def parse_untrusted(content: bytes) -> ET.Element:
    """The root element of a UTF-8 XML document without DTD or entities (refused, never
    expanded)."""
    try:
        # parsed as text, so expat reads UTF-8 whatever the declaration says: a DTD cannot hide
        # in UTF-16 or EBCDIC from the search below
        document = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableXml(f"not UTF-8 (ISO 20022 messages are): {error.reason} at byte "
                            f"{error.start}") from None
    if _FORBIDDEN.search(document):
        raise UnreadableXml("DTDs and entity declarations are not accepted")
    try:
        return ET.fromstring(document.removeprefix("\ufeff"))
    except ET.ParseError as error:
        raise UnreadableXml(f"not well-formed XML: {error}") from None


def local(tag: str) -> str:
    """The element name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def namespace(element: ET.Element) -> str | None:
    """The element's namespace URI, if it has one."""
    return element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else None


def child(element: ET.Element | None, *path: str) -> ET.Element | None:
    """The first element down ``path`` (local names), or None."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if local(c.tag) == name), None)
    return element


def children(element: ET.Element | None, name: str) -> list[ET.Element]:
    """Every child of ``element`` called ``name`` (local name)."""
    return [] if element is None else [c for c in element if local(c.tag) == name]


def text(element: ET.Element | None, *path: str) -> str | None:
    """The stripped text down ``path``, None when absent or blank."""
    found = child(element, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None
