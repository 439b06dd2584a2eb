"""Small files of each kind an attachment may be (and of kinds it may not), made on the spot; what a file store
holds."""

import io
import zipfile

from openpyxl import Workbook

CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def pdf(size=2000):
    head = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
    return (head + b"0" * size)[: max(size, len(head))]


def png():
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


def jpeg():
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200) + b"\xff\xd9"


def gif():
    return b"GIF89a\x01\x00\x01\x00" + bytes(40) + b";"


def webp():
    return b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)


def archive(entries, comment=b""):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        archive.comment = comment
    return buffer.getvalue()


def docx(**extra):
    return archive({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w:document/>", **extra})


def xlsx():
    buffer = io.BytesIO()
    book = Workbook()
    book.active["A1"] = "Nghị quyết"
    book.save(buffer)
    return buffer.getvalue()


def exe():
    return b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100) + b"This program cannot be run in DOS mode."


def html():
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def svg():
    return b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


def stored_files(directory):
    """Every file under a blob store's directory (folders aside)."""
    return sorted(path.name for path in directory.rglob("*") if not path.is_dir())
