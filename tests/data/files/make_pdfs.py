"""Regenerate the PDF fixtures in this folder: `python tests/data/files/make_pdfs.py` (needs fpdf2)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import EncryptionMethod

HERE = Path(__file__).resolve().parent
# A fixed creation date keeps the output byte-identical from run to run.
FIXED_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)

# Explicit line breaks (not fpdf's own wrapping) so the text layer holds a known
# line-end hyphen ("phos-" / "phorylation") and known wrapped lines.
PAGE_ONE = """HER2 signalling and chemokine receptors in breast cancer
Abstract
HER2 overexpression raises the level of the chemokine receptor CXCR4 in
breast cancer cells. Tyrosine phos-
phorylation of downstream kinases follows receptor activation and drives
invasion through basement membrane.
Introduction
About one in five breast tumours overexpress HER2, and these tumours tend
to metastasise to the lung, bone and brain."""

PAGE_TWO = """Results
Blocking CXCR4 with a neutralising antibody reduced HER2-driven lung
metastasis in mice. Ligand binding normally sends CXCR4 to lysosomes for
degradation; HER2 signalling slowed this turnover."""

UNTITLED_ONE = """Mitochondrial MKP1 in radioresistant cells
DOI: 10.5555/litassist.0001
Abstract: Radiation induces MKP1, which moves to mitochondria and removes
the phosphate from JNK, so cells escape apoptosis."""

UNTITLED_THREE = """The third page follows a deliberately blank second page."""

# A title wrapped over two lines right above the first sentence, with no heading between them, and the finding
# a question asks about on page 4.
SMAD4_PAGES = ["""SMAD4 loss raises WNT target genes in
colorectal cancer
In colorectal cancer cells, loss of SMAD4 raises the expression of WNT target
genes and speeds tumour growth in mice. Restoring SMAD4 reversed both effects.""",
               """Introduction
SMAD4 is a transcription factor of the TGF-beta pathway that is lost in about a
third of colorectal tumours, most often late in their progression.""",
               """Methods
HCT116 and SW480 cells were grown as monolayers and as organoids, and SMAD4 was
knocked down with two independent short hairpin RNAs.""",
               """Results
Knocking down SMAD4 in HCT116 cells doubled the level of MYC messenger RNA.
The gene may therefore link TGF-beta signalling to the WNT programme."""]


def new_pdf() -> FPDF:
    """A PDF with a core font and a fixed date, so fixtures stay small and reproducible."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_font("Helvetica", size=11)
    return pdf


def add_text_page(pdf: FPDF, text: str) -> None:
    """One page holding the given lines exactly as broken."""
    pdf.add_page()
    pdf.multi_cell(0, 6, text)


def two_pages() -> FPDF:
    """Two text pages with title and author metadata."""
    pdf = new_pdf()
    pdf.set_title("HER2 and CXCR4 in breast cancer metastasis")
    pdf.set_author("Jane Q. Researcher; John Smith")
    add_text_page(pdf, PAGE_ONE)
    add_text_page(pdf, PAGE_TWO)
    return pdf


def untitled() -> FPDF:
    """Three pages, the middle one empty, and no metadata title."""
    pdf = new_pdf()
    add_text_page(pdf, UNTITLED_ONE)
    pdf.add_page()
    add_text_page(pdf, UNTITLED_THREE)
    return pdf


def smad4_paper() -> FPDF:
    """Four pages with metadata title and authors; the title is printed over two lines above the first sentence."""
    pdf = new_pdf()
    pdf.set_title("SMAD4 loss raises WNT target genes in colorectal cancer")
    pdf.set_author("Mei Tanaka; Omar Haddad")
    for page in SMAD4_PAGES:
        add_text_page(pdf, page)
    return pdf


def encrypted() -> FPDF:
    """A text PDF that needs a user password to open (RC4, so no crypto library is needed)."""
    pdf = new_pdf()
    pdf.set_encryption(owner_password="owner-pw", user_password="secret", encryption_method=EncryptionMethod.RC4)
    add_text_page(pdf, PAGE_TWO)
    return pdf


def image_only() -> FPDF:
    """A page with only a drawn rectangle: no text layer, like a scan."""
    pdf = new_pdf()
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    pdf.rect(30, 40, 150, 200, style="DF")
    return pdf


def main() -> None:
    """Write every fixture; the corrupt one is the two-page PDF cut short."""
    for name, build in {"two_pages": two_pages, "untitled": untitled, "encrypted": encrypted,
                        "image_only": image_only, "smad4_paper": smad4_paper}.items():
        build().output(str(HERE / f"{name}.pdf"))
    data = (HERE / "two_pages.pdf").read_bytes()
    # Keep the header and first object only: no page tree and no xref remain.
    (HERE / "corrupt.pdf").write_bytes(data[:200])


if __name__ == "__main__":
    main()
