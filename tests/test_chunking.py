"""Sentence-aware chunking with the real tokenizer."""

from litassist.index.chunking import chunk_record, split_sentences
from litassist.index.records import Figure, Paper


def test_abbreviations_and_statistics_do_not_split():
    text = ("Li et al. showed that HER2 raises CXCR4 (Fig. 2A) in vivo. The effect was strong (p < 0.05, "
            "n = 12) as seen in Figs. 3 and 4. Dr. Nelson L. Michael gave the plasmid.")
    assert split_sentences(text) == [
        "Li et al. showed that HER2 raises CXCR4 (Fig. 2A) in vivo.",
        "The effect was strong (p < 0.05, n = 12) as seen in Figs. 3 and 4.",
        "Dr. Nelson L. Michael gave the plasmid.",
    ]


def test_chunks_fit_the_model_window_and_keep_whole_sentences(encoder):
    sentences = [f"Sentence {i} says that HER2 signalling changes CXCR4 levels in cell line {i}." for i in range(60)]
    paper = Paper(source_id="p1", title="A long test paper", abstract=" ".join(sentences))
    chunks = chunk_record(paper, max_tokens=200, count=encoder.count_tokens)
    assert len(chunks) > 3
    for chunk in chunks:
        assert encoder.count_tokens(chunk.search_text) <= 200
        assert chunk.text.endswith(".") and chunk.context == "A long test paper"
    assert " ".join(c.text for c in chunks) == " ".join(sentences)
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_figure_chunk_carries_title_and_genes_and_ids_are_stable(encoder):
    fig = Figure(source_id="F1", figid="F1", number="F2", figtitle="HER2 to ERK", caption="HER2 activates ERK.",
                 genes=["ERBB2", "MAPK1"], papertitle="A paper")
    first, = chunk_record(fig, max_tokens=200, count=encoder.count_tokens)
    again, = chunk_record(fig, max_tokens=200, count=encoder.count_tokens)
    assert first.kind == "figure" and first.text == "HER2 activates ERK."
    assert "Figure 2: HER2 to ERK" in first.context and "Genes: ERBB2, MAPK1" in first.context
    assert first.id == again.id
    changed, = chunk_record(fig.model_copy(update={"caption": "HER2 activates AKT."}), max_tokens=200,
                             count=encoder.count_tokens)
    assert changed.id != first.id


def test_pdf_pages_keep_their_numbers():
    paper = Paper(source_id="pdf", title="T", body=["First page text.", "", "Third page text."])
    assert [(c.page, c.text) for c in chunk_record(paper, max_tokens=200)] == [(1, "First page text."), (3, "Third page text.")]


def test_long_gene_lists_never_push_figure_text_out_of_the_window(encoder):
    genes = [f"MAP{i}K{i % 7}" for i in range(200)]
    fig = Figure(source_id="F9", figid="F9", number="F1", figtitle="A crowded kinase map",
                 caption="Kinase signalling converges on ERK. " * 20, genes=genes, papertitle="A paper")
    chunks = chunk_record(fig, max_tokens=200, count=encoder.count_tokens)
    assert all(encoder.count_tokens(c.search_text) <= 200 for c in chunks)
    assert all(encoder.count_tokens(c.context) <= 100 for c in chunks) and "Genes: MAP0K0" in chunks[0].context
