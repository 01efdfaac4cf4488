"""Test documents for extract/ and `claimwatch detect`, written from scratch in the tests.

All text is invented vendor-marketing wording about product capabilities (never about persons).
"""

from __future__ import annotations


def pdf_bytes(pages: list[str], *, title: str | None = None, xref: bool = True) -> bytes:
    """A minimal valid PDF, one page per string, text in Helvetica (WinAnsi, ASCII only).

    Pages share one content stream per distinct text, so a 10,000-page PDF stays small.
    `xref=False` writes a cross-reference table with wrong offsets (a damaged file)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    streams: dict[str, int] = {}
    page_ids = []
    for text in pages:
        if text not in streams:
            lines = text.split("\n")
            ops = [b"BT /F1 12 Tf 72 720 Td 14 TL"]
            for line in lines:
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(b"(" + esc.encode("latin-1") + b") Tj T*")
            ops.append(b"ET")
            content = b"\n".join(ops)
            streams[text] = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        page_ids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (pages_id, font, streams[text])
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)
    info = None
    if title is not None:
        info = add(b"<< /Title (" + title.encode("latin-1") + b") >>")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % (off + 7 if not xref else off)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % (xref_at + (13 if not xref else 0))
    return bytes(out)


def cjk_pdf_bytes(lines: list[tuple[str, str]]) -> bytes:
    """A PDF with Chinese text in Adobe's built-in CID fonts (no font file embedded):
    each item is (font, text), font 'STSong-Light' (simplified) or 'MSung-Light' (traditional)."""
    import io

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    y = 720
    for font, text in lines:
        pdfmetrics.registerFont(UnicodeCIDFont(font))
        c.setFont(font, 12)
        c.drawString(72, y, text)
        y -= 20
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf_bytes(text: str, user_password: str) -> bytes:
    """The one-page PDF of `text`, encrypted (RC4, which pypdf handles without extra packages)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([text]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# Invented marketing/API-doc sentences, each with a claim the detector should find.
ZH_SIMPLIFIED = "人脸属性分析：支持识别维族、汉族等民族属性，准确率达到百分之九十五。"
ZH_TRADITIONAL = "臉部特徵分析：支援人種膚色判別（黃種人、白人、黑人），並可即時推送告警。"
EN_CLAIM = "Our face attribute SDK outputs ethnicity (Han / Uyghur) for every detected face in the video stream."
