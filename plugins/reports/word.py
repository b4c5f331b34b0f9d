"""Blocks (``blocks.py``) as a Word document (python-docx): headings, paragraphs,
tables; a figure's note number follows it (the Word counterpart of the page's link),
and the notes close the document with the address of each list."""

from __future__ import annotations

from io import BytesIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from plugins.reports.blocks import Block, Cell

FONT = "SimSun"  # 宋体, for the Chinese text too (w:eastAsia)


def _cell_text(cell: Cell) -> str:
    return f"{cell.text} [{cell.note}]" if cell.note else cell.text


def docx_bytes(blocks: list[Block], base_url: str) -> bytes:
    """The document; ``base_url`` (the site's address) makes the notes' links absolute."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(11)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    for block in blocks:
        if block.kind == "title":
            doc.add_heading(block.text, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "subtitle":
            doc.add_paragraph(block.text).alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif block.kind == "heading":
            doc.add_heading(block.text, level=block.level)
        elif block.kind == "paragraph":
            doc.add_paragraph(block.text)
        elif block.kind == "table":
            table = doc.add_table(rows=1, cols=len(block.headers), style="Table Grid")
            for cell, text in zip(table.rows[0].cells, block.headers, strict=True):
                cell.text = text
            for row in block.rows:
                for cell, value in zip(table.add_row().cells, row, strict=True):
                    cell.text = _cell_text(value)
        elif block.kind == "notes":
            doc.add_heading(block.text, level=2)
            for number, text, link in block.notes:
                doc.add_paragraph(f"[{number}] {text}: {base_url.rstrip('/')}{link}")
    out = BytesIO()
    doc.save(out)
    return out.getvalue()
