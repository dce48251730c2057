"""Sphinx configuration of skae's user guide, API reference and gallery (no
downloads). Guide pages are Markdown (MyST); the repository's ARCHITECTURE,
CONTRIBUTING and CHANGELOG files are included as they are."""

import os
import warnings

import skae

project = "skae"
author = "the skae developers"
copyright = "2026, the skae developers"
release = version = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references to other projects are not resolved: the build runs offline.
intersphinx_mapping = {}
nitpicky = False
# Methods inherited from scikit-learn's mixins cite labels of scikit-learn's own
# documentation (its glossary, user guide), which an offline build cannot resolve.
suppress_warnings = ["ref.ref", "ref.term"]
html_theme = "alabaster"
# Wide enough for the guide's capability table and the benchmarks' printed
# tables at a 1280-pixel window; narrower windows scroll them.
html_theme_options = {"page_width": "1240px", "sidebar_width": "220px",
                      "body_max_width": "none"}
exclude_patterns = ["_build"]
templates_path = []

here = os.path.dirname(__file__)
sphinx_gallery_conf = {
    "examples_dirs": os.path.join(here, "..", "..", "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
}
os.environ.setdefault("OMP_NUM_THREADS", "1")
warnings.filterwarnings("ignore", category=UserWarning, message=".*latent_dim.*")
