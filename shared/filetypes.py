"""What an attachment is, decided from its bytes, never from its name: PDF, DOCX, XLSX and images.

The first bytes name every allowed type but Office's: DOCX and XLSX are ZIP archives, told apart (and told from any
other archive) by the names in the archive's central directory, which sits at the end. So a `Sniffer` sees the head
as the bytes arrive, keeps a bounded tail, and gives its verdict once the last byte is in.
"""

import struct

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
ALLOWED = (PDF, DOCX, XLSX, PNG, JPEG, GIF, WEBP)
EXTENSIONS = {
    PDF: (".pdf",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    GIF: (".gif",),
    WEBP: (".webp",),
}
ZIP = "zip"  # not a verdict: an archive whose central directory decides

HEAD = 16  # enough for every signature below
# a central directory holds ~100 bytes an entry: 1 MiB is thousands of parts, far past any real document
CENTRAL_DIRECTORY_MAX = 1024 * 1024
END_RECORD = 22
TAIL = CENTRAL_DIRECTORY_MAX + END_RECORD + 0xFFFF  # the end record may be followed by a comment of ≤ 64 KiB


def from_head(head):
    """The type the first bytes announce (ZIP when the archive's directory must decide), or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    return None


def office_type(tail, size):
    """DOCX or XLSX from an archive's last bytes (`tail`, of a file of `size` bytes), else None: not a ZIP we can
    read whole from its tail, another kind of archive, or one carrying macros (nothing executable is stored)."""
    names = _central_directory(tail, size)
    if names is None or "[Content_Types].xml" not in names:
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _central_directory(tail, size):
    """The entry names of a ZIP's central directory, or None when it is not a well-formed one inside `tail`."""
    end = tail.rfind(b"PK\x05\x06", max(0, len(tail) - END_RECORD - 0xFFFF))
    if end < 0 or len(tail) - end < END_RECORD:
        return None
    _, disk, _, _, count, cd_size, cd_offset, comment = struct.unpack("<IHHHHIIH", tail[end : end + END_RECORD])
    if disk != 0 or end + END_RECORD + comment != len(tail):
        return None  # split archives, ZIP64 markers and trailing junk are refused, not guessed at
    start = end - cd_size  # where the directory begins in `tail`
    if start < 0 or cd_offset != size - (len(tail) - start):
        return None
    names, position = set(), start
    for _ in range(count):
        if tail[position : position + 4] != b"PK\x01\x02" or position + 46 > end:
            return None
        name_length, extra_length, comment_length = struct.unpack("<HHH", tail[position + 28 : position + 34])
        names.add(tail[position + 46 : position + 46 + name_length].decode("utf-8", "replace"))
        position += 46 + name_length + extra_length + comment_length
    return names if position == end else None


class Sniffer:
    """Watches an upload's bytes go by: `feed(chunk)` each, then `verdict()`."""

    def __init__(self):
        self.head = b""
        self.announced = None
        self.tail = bytearray()
        self.size = 0

    def feed(self, chunk):
        """False as soon as the head shows the bytes are none of the allowed types."""
        self.size += len(chunk)
        if len(self.head) < HEAD:
            self.head += chunk[: HEAD - len(self.head)]
            if len(self.head) == HEAD:
                self.announced = from_head(self.head)
                if self.announced is None:
                    return False
        if self.announced in (None, ZIP):
            self.tail += chunk[-TAIL:]
            del self.tail[:-TAIL]
        return True

    def verdict(self):
        """The content type, or None: the bytes are none of the allowed types."""
        announced = self.announced if len(self.head) >= HEAD else from_head(self.head)
        if announced == ZIP:
            return office_type(bytes(self.tail), self.size)
        return announced
