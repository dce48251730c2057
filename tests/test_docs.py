"""Every code block of the user guide runs, or for shell commands, is a
valid call (see ``doc_blocks``); every guide page is in its table of
contents; every public name is in the API reference."""

import functools
import inspect
import re

import pytest
from doc_blocks import (
    ROOT,
    check_pip_install,
    check_shell_command,
    inline_pip_installs,
    project,
    run_python_blocks,
    shell_commands,
    without_code_blocks,
)

import skae
import skae.datasets

GUIDE = ROOT / "docs" / "site" / "guide"
PAGES = sorted(GUIDE.rglob("*.md"))

pytestmark = pytest.mark.xdist_group("docs")


def test_every_page_is_in_the_table_of_contents():
    for index, folder in ((GUIDE / "index.md", GUIDE), (GUIDE / "benchmarks.md", GUIDE)):
        listed = re.findall(r"^([\w/]+)$", index.read_text(), flags=re.M)
        pages = [p.relative_to(folder).with_suffix("").as_posix() for p in PAGES
                 if p.stem != "index" and (p.parent == GUIDE) == (index.stem == "index")]
        assert sorted(listed) == sorted(pages), index.name


def test_every_public_name_is_in_the_api_reference():
    api = (ROOT / "docs" / "site" / "api.rst").read_text()
    names = set(skae.__all__) | set(skae.datasets.__all__)
    assert not {name for name in names if not re.search(rf"^\s+{name}$", api, flags=re.M)}


def _documented_callables():
    """Every public class and function of skae and skae.datasets, and every
    public method that skae defines on them: what the API pages render."""
    found = {}
    for module, names in ((skae, skae.__all__), (skae.datasets, skae.datasets.__all__)):
        for name in names:
            obj = getattr(module, name)
            if not callable(obj):
                continue
            found[f"{module.__name__}.{name}"] = obj
            if isinstance(obj, type):
                for method, function in inspect.getmembers(obj, inspect.isfunction):
                    if not method.startswith("_") and function.__module__.startswith("skae"):
                        found[f"{module.__name__}.{name}.{method}"] = function
    return found


@pytest.mark.parametrize("name,obj", _documented_callables().items())
def test_numpydoc_reads_every_parameter(name, obj):
    """What the API pages render: numpydoc parses each parameter of the
    signature from the docstring (a type wrapped over two lines once hid
    all parameters after it; five functions and methods once had none)."""
    docscrape = pytest.importorskip("numpydoc.docscrape")
    doc = docscrape.ClassDoc(obj) if isinstance(obj, type) else docscrape.FunctionDoc(obj)
    documented = {part.strip() for p in doc["Parameters"] for part in p.name.split(",")}
    signature = [p for p in inspect.signature(obj).parameters.values() if p.name != "self"]
    assert documented == {("**" if p.kind == p.VAR_KEYWORD else "") + p.name for p in signature}


@pytest.mark.quality
@pytest.mark.parametrize("page", [*PAGES, GUIDE.parent / "index.md"],
                         ids=lambda p: p.relative_to(GUIDE.parent).as_posix())
def test_python_blocks_run_and_print_what_they_show(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_python_blocks(page)


@pytest.mark.parametrize("command", [c for page in PAGES for c in shell_commands(page)])
def test_shell_commands_are_valid_calls(command):
    check_shell_command(command)


def _texts():
    """Every text a user reads: the README, the guide, the contributors'
    files, the gallery, and skae's docstrings and messages."""
    paths = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "ARCHITECTURE.md", *PAGES,
             *sorted((ROOT / "examples").glob("*.py")), *sorted((ROOT / "skae").glob("*.py"))]
    return {p.relative_to(ROOT).as_posix(): p.read_text() for p in paths}


@pytest.mark.parametrize("where,command", [(where, command) for where, text in _texts().items()
                                           for command in inline_pip_installs(text)])
def test_install_commands_in_prose_install_what_skae_declares(where, command):
    check_pip_install(command)


@functools.cache
def _tracked():
    import subprocess

    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    return {ROOT / line for line in listed.splitlines()}


def _anchors(page):
    """The anchors of a Markdown page: its headings' slugs down to ###
    (MyST's ``myst_heading_anchors = 3``, GitHub's rule) and ``(label)=``."""
    text = without_code_blocks(page.read_text())
    slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
             for h in re.findall(r"^#{1,3} (.+)$", text, flags=re.M)}
    return slugs | set(re.findall(r"^\((\S+)\)=$", text, flags=re.M))


LINKED = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "ARCHITECTURE.md",
          ROOT / "CHANGELOG.md", ROOT / "docs" / "site" / "index.md", *PAGES]


@pytest.mark.parametrize("page", LINKED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_point_at_tracked_files_and_anchors(page):
    """A link that works in the checkout but not in a clone (an ignored
    report) or that names a heading no longer there fails here."""
    tracked, broken = _tracked(), []
    text = without_code_blocks(page.read_text())
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if page.is_relative_to(ROOT / "docs" / "site") and path and not file.suffix:
            file = file.with_suffix(".md")  # a Sphinx document name
            if "auto_examples" in file.parts:  # the gallery, built from examples/
                continue
        if file not in tracked:
            broken.append(f"{target}: not a tracked file")
        elif anchor.startswith("skae.") and not path:
            continue  # an API name: Sphinx resolves it (warnings are errors), GitHub shows text
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no such heading")
    assert not broken, broken


def test_read_the_docs_builds_as_make_docs_does():
    """.readthedocs.yaml: the conf.py that make docs builds, warnings as
    errors, and install commands that install what skae declares."""
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    makefile = (ROOT / "Makefile").read_text()
    site = re.search(r"sphinx -W .* -b html -q (\S+) ", makefile).group(1)
    assert config["sphinx"]["configuration"] == f"{site}/conf.py"
    assert config["sphinx"]["fail_on_warning"] is True
    assert (ROOT / config["sphinx"]["configuration"]).is_file()
    commands = config["build"]["jobs"]["install"]
    assert commands and all(c.startswith("python -m pip install ") for c in commands)
    for command in commands:
        check_pip_install(command.removeprefix("python -m "))
    assert "torch" in commands[0] and "docs" in commands[-1]


def test_the_citation_names_this_release():
    version = project()["version"]
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(version)}$", citation, flags=re.M)
    assert f"version {version}" in (ROOT / "README.md").read_text()
    assert re.search(rf"^## \[{re.escape(version)}\] - ", (ROOT / "CHANGELOG.md").read_text(),
                     flags=re.M)


@pytest.mark.parametrize("name", [n for n in skae.datasets.__all__
                                  if not callable(getattr(skae.datasets, n))])
def test_every_public_constant_says_what_it_is(name):
    """Sphinx documents a module's constant from the ``#:`` comment above its
    assignment in that module (without one, a string constant's page showed
    str's own docstring)."""
    source = (ROOT / "skae" / "datasets.py").read_text()
    assert re.search(rf"^#: .+\n{name} = ", source, flags=re.M)
