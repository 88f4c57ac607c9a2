"""Reading a PDF back as its reader would: its text, its page as an image, its QR codes."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pypdf


def pdf_text(content: bytes) -> str:
    """The text of every page, whitespace folded to single spaces."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(content)
        file.flush()
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(file.name).pages)
    return " ".join(text.split())


def first_page_png(content: bytes, target: Path, dpi: int = 110) -> Path:
    """The first page rendered by poppler's pdftoppm into ``target`` (a .png path)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(content)
        subprocess.run([_tool("pdftoppm"), "-png", "-r", str(dpi), "-singlefile", str(source),
                        str(target.with_suffix(""))], check=True, timeout=120)
    return target


def qr_code(content: bytes) -> str | None:
    """The payload of the QR code printed on the first page, decoded by zbarimg (None when it
    finds none)."""
    with tempfile.TemporaryDirectory() as folder:
        image = first_page_png(content, Path(folder) / "page.png", dpi=200)
        result = subprocess.run([_tool("zbarimg"), "--quiet", "--raw", "-Sdisable",
                                 "-Sqrcode.enable", str(image)],
                                capture_output=True, text=True, timeout=120)
    # zbarimg ends each symbol with a newline and answers 4 when it finds none
    return result.stdout.removesuffix("\n") if result.returncode == 0 else None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is needed (Debian: poppler-utils, zbar-tools)")
    return found
