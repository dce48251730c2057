"""Code blocks of Markdown documents (the README, the user guide), and how
tests check them.

Each Python block runs alone, in a fresh namespace in a temporary folder, as
a reader who copies that one block runs it; a comment line right after a
``print`` call states what it prints, and must match. Shell blocks must be valid calls: ``make`` targets exist,
``pip install`` / ``pip download`` are one, ``unzip`` opens an archive,
``python -m skae.compare`` / ``skae-compare`` arguments parse, and every
option given to a benchmark script is one it
accepts. Blocks of other languages (``text``, ``{toctree}``...) are not run.
"""

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def blocks(path, language):
    """The fenced code blocks of ``language`` in the Markdown file ``path``."""
    found = re.findall(r"^```(\S+)\n(.*?)^```", Path(path).read_text(), flags=re.S | re.M)
    return [code for lang, code in found if lang == language]


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
