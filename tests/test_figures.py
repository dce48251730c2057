"""Every measured figure is stated once: in the benchmark pages, where a
table or printed output holds it, with the command that measured it. The
README and the other guide pages say what the figures show and link to
them; prose on a benchmark page quotes only figures that its own tables and
outputs hold."""

import re

import pytest
from doc_blocks import ROOT, code_blocks, without_code_blocks

GUIDE = ROOT / "docs" / "site" / "guide"
BENCHMARKS = sorted((GUIDE / "benchmarks").glob("*.md"))
OTHERS = [ROOT / "README.md", *sorted(GUIDE.glob("*.md")), ROOT / "docs" / "site" / "index.md"]

# A figure: a decimal number, a percentage, a ratio (1.4x), or a count of
# seconds, minutes or bytes.
FIGURE = re.compile(r"(?<![\w.,])(\d[\d,]*\.\d+|\d[\d,]*(?:\.\d+)?(?:\s?%|x\b|\s(?:ms|s|min"
                    r"|minutes?|seconds?|hours?|MB|GB|kB)\b))(?!\d|\.\d)")
# Numbers in prose that are not measurements, and why.
NOT_MEASURED = {
    "3.11": "the Python version skae needs",
    "2.4": "the oldest torch release skae runs on",
    "3.0": "a licence's version (CC BY-SA 3.0)",
    "16 MB": "a design constant: inference batches hold at most 16 MB of values",
    "24 GB": "a benchmark machine's memory",
    "200 MB": "the size of PyTorch's CPU wheel, as PyTorch publishes it",
    "90%": "the fraction a user asks for with latent_dim=0.9, as PCA(0.9)",
    "95%": "the fraction a user asks for with latent_dim=0.95, as PCA(0.95)",
}


def _prose(text):
    """``text`` without code blocks, inline code, link targets, tables and
    math: the sentences a reader reads."""
    text = re.sub(r"`[^`]*`", "", without_code_blocks(text))
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"(?m)^\|.*$", "", text)
    return re.sub(r"\$[^$]*\$", "", text)


def _held(text):
    """The tables and code blocks of a page: what its commands printed."""
    blocks = [code for _, code in code_blocks(text)]
    rows = re.findall(r"(?m)^\|.*$", text)
    return "\n".join(blocks + rows)


def _figures(text):
    return [re.sub(r"\s", " ", f) for f in FIGURE.findall(text)]


@pytest.mark.parametrize("page", OTHERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pages_other_than_benchmarks_state_no_figure(page):
    text = page.read_text()
    stated = [f for f in _figures(_prose(text)) if f not in NOT_MEASURED]
    assert not stated, f"state these on a benchmark page and link to it: {stated}"
    rows = [row for row in re.findall(r"(?m)^\|.*$", without_code_blocks(text))
            if _figures(re.sub(r"`[^`]*`", "", row))]
    assert not rows, f"a table of figures belongs on a benchmark page: {rows}"


@pytest.mark.parametrize("page", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_prose_quotes_only_what_its_tables_hold(page):
    text = page.read_text()
    held = _held(text)
    loose = [f for f in _figures(_prose(text))
             if f not in NOT_MEASURED and not re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])",
                                                          held)]
    assert not loose, f"figures in prose that no table or output of the page holds: {loose}"


def test_every_allowed_number_is_still_used():
    """An allow-list entry that no page uses any more is removed, not kept."""
    used = {f for page in [*OTHERS, *BENCHMARKS] for f in _figures(_prose(page.read_text()))}
    assert set(NOT_MEASURED) <= used, set(NOT_MEASURED) - used
