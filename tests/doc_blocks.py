"""Code blocks of Markdown documents (the README, the user guide), and how
tests check them.

Each Python block runs alone, in a fresh namespace in a temporary folder, as
a reader who copies that one block runs it; a comment line right after a
``print`` call states what it prints, and must match. Shell blocks must be
valid calls: ``make`` targets exist, ``pip install`` commands install what
the project declares (see ``check_pip_install``), ``unzip`` opens an
archive, ``python -m skae.compare`` / ``skae-compare`` arguments parse, and
every option given to a benchmark script is one it accepts. Blocks of other
languages (``text``, ``{toctree}``...) are not run.
"""

import contextlib
import functools
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


_FENCED = re.compile(r"^```(\S*)\n(.*?)^```", flags=re.S | re.M)


def without_code_blocks(text):
    """``text`` with its fenced code blocks taken out."""
    return _FENCED.sub("", text)


def code_blocks(text):
    """``(language, code)`` of each fenced code block of ``text``."""
    return _FENCED.findall(text)


def blocks(path, language):
    """The fenced code blocks of ``language`` in the Markdown file ``path``."""
    return [code for lang, code in code_blocks(Path(path).read_text()) if lang == language]


def expected_prints(code):
    """The comment lines that follow each ``print(...)`` line, in order."""
    lines, expected = code.splitlines(), []
    for line, after in zip(lines, lines[1:] + [""], strict=True):
        if line.startswith("print(") and after.startswith("# "):
            expected.append(after[2:])
    return expected


def run_python_blocks(path):
    """Run each Python block of ``path`` alone, in a fresh namespace; each
    block's printed lines must be the ones its comments state."""
    for code in blocks(path, "python"):
        namespace = {"__name__": "__main__"}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(path), "exec"), namespace)  # noqa: S102
        assert out.getvalue().splitlines() == expected_prints(code), code


def shell_commands(path):
    """Shell commands of the ``bash`` blocks of ``path``, continuation lines
    joined."""
    for code in blocks(path, "bash"):
        pending = ""
        for line in code.replace("\\\n", " ").splitlines():
            pending += " " + line.split(" #")[0].strip()
            try:
                shlex.split(pending)
            except ValueError:  # a quoted argument goes on on the next line
                continue
            if pending.strip():
                yield pending.strip()
            pending = ""


def check_shell_command(command):
    """Assert that ``command`` is a valid call (see the module's docstring)."""
    from skae.compare import _parser

    words = shlex.split(command)
    if words[0] == "make":
        assert re.search(rf"^{words[1]}:", (ROOT / "Makefile").read_text(), flags=re.M)
    elif words[0] == "pip":
        assert words[1] in ("install", "download")
        if words[1] == "install":
            check_pip_install(command)
    elif words[0] == "unzip":  # an archive a document told to download
        assert words[1].endswith((".zip", ".whl"))
    elif words[:3] == ["python", "-m", "skae.compare"] or words[0] == "skae-compare":
        _parser().parse_args(words[3:] if words[0] == "python" else words[1:])
    elif words[0] == "python" and words[1].startswith("benchmarks/"):
        help_text = subprocess.run([sys.executable, str(ROOT / words[1]), "--help"],
                                   capture_output=True, text=True, check=True).stdout
        for option in [w for w in words[2:] if w.startswith("--")]:
            assert option in help_text, f"{words[1]} has no option {option}"
    else:
        raise AssertionError(f"a document shows a command that no test knows: {command}")


#: ``pip install`` options followed by a value.
_OPTIONS_WITH_VALUES = {"-c", "--constraint", "--index-url", "--extra-index-url", "-r"}


@functools.cache
def project():
    """pyproject.toml's ``[project]`` table."""
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@functools.cache
def _pins():
    """Package name -> version pinned in constraints.txt."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version.strip()
    return pins


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _declared():
    """skae's extras, and every package its dependencies and extras name."""
    extras = project()["optional-dependencies"]
    requirements = project()["dependencies"] + [r for reqs in extras.values() for r in reqs]
    names = {_canonical(re.match(r"[\w.-]+", r).group()) for r in requirements}
    return set(extras), names


def check_pip_install(command):
    """Assert that a ``pip install`` command installs what the project
    declares: skae from a clone (``.``) or by name with extras that exist,
    packages that skae's dependencies or extras name, torch at the version
    constraints.txt pins, from PyPI or PyTorch's own index, and a ``-c``
    file that exists."""
    extras, names = _declared()
    words = shlex.split(command)[2:]
    for flag, value in zip(words, words[1:] + [""], strict=True):
        if flag in ("-c", "--constraint"):
            assert (ROOT / value).is_file(), f"{command}: no file {value}"
        if flag in ("--index-url", "--extra-index-url"):
            assert value.startswith("https://download.pytorch.org/whl/"), command
    targets = [w for w, before in zip(words, [""] + words[:-1], strict=True)
               if not w.startswith("-") and before not in _OPTIONS_WITH_VALUES]
    assert targets, command
    for target in targets:
        match = re.fullmatch(r"([\w.-]+|\.)(?:\[([\w,]+)\])?(?:==([\w.+]+))?", target)
        assert match, f"{command}: cannot read {target!r}"
        name, wanted, version = match.groups()
        unknown = set((wanted or "").split(",")) - extras - {""}
        assert not unknown, f"{command}: skae has no extra {sorted(unknown)}"
        if name in (".", "skae", "..."):  # "...": a placeholder
            continue
        assert _canonical(name) in names, f"{command}: skae does not declare {name}"
        if version is not None:
            assert version == _pins().get(_canonical(name)), f"{command}: not the pinned {name}"


def inline_pip_installs(text):
    """``pip install`` commands written in prose, docstrings and error
    messages: the words after ``pip install`` up to the first that is not an
    option, its value or a package (or that ends a clause)."""
    for match in re.finditer(r"pip install ([^`\n]+)", text):
        rest = match.group(1).split("\\n")[0].split(" #")[0]  # a string's newline, a comment
        for cut in ('"', "'", None):  # a quote left open ends a string around the command
            try:
                words = shlex.split(rest)
                break
            except ValueError:
                rest = rest.split(cut)[0] if cut else ""
        else:
            words = []
        kept, takes_value = [], False
        for word in words:
            bare = word if set(word) == {"."} else word.rstrip(").,;:")
            if bare in ("or", "and") or not (
                    takes_value or bare.startswith("-") or re.fullmatch(r"[\w.\[\],=+-]+", bare)):
                break
            kept.append(shlex.quote(bare))
            takes_value = bare in _OPTIONS_WITH_VALUES
            if bare != word:  # a clause ends at the punctuation
                break
        if kept:
            yield "pip install " + " ".join(kept)
