"""Every code block of the README runs, or for shell commands, is a valid call.

Python blocks run in order in one namespace, in a temporary folder; a comment
line right after a ``print`` call states what it prints, and must match.
Shell blocks: ``make`` targets must exist, ``python -m skae.compare`` /
``skae-compare`` arguments must parse, and every option given to a benchmark
script must be one it accepts. (``make test`` is what CI runs; the install
lines were checked with ``pip install --dry-run --report``.)
"""

import contextlib
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from skae.compare import _parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)

pytestmark = pytest.mark.xdist_group("readme")


def _expected_prints(code):
    """The comment lines that follow each ``print(...)`` line, in order."""
    lines, expected = code.splitlines(), []
    for line, after in zip(lines, lines[1:] + [""], strict=True):
        if line.startswith("print(") and after.startswith("# "):
            expected.append(after[2:])
    return expected


@pytest.mark.quality
def test_python_blocks_run_and_print_what_they_show(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    blocks = [code for lang, code in BLOCKS if lang == "python"]
    assert len(blocks) >= 3
    for code in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
        assert out.getvalue().splitlines() == _expected_prints(code), code


def _commands():
    """Shell commands of the README's bash blocks, continuation lines joined."""
    for lang, code in BLOCKS:
        if lang != "bash":
            continue
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


COMMANDS = list(_commands())


@pytest.mark.parametrize("command", COMMANDS)
def test_shell_commands_are_valid_calls(command):
    words = shlex.split(command)
    if words[0] == "make":
        assert re.search(rf"^{words[1]}:", (ROOT / "Makefile").read_text(), flags=re.M)
    elif words[0] == "pip":
        assert words[1] == "install"
    elif words[:3] == ["python", "-m", "skae.compare"] or words[0] == "skae-compare":
        args = words[3:] if words[0] == "python" else words[1:]
        _parser().parse_args(args)
    elif words[0] == "python" and words[1].startswith("benchmarks/"):
        help_text = subprocess.run([sys.executable, str(ROOT / words[1]), "--help"],
                                   capture_output=True, text=True, check=True).stdout
        for option in [w for w in words[2:] if w.startswith("--")]:
            assert option in help_text, f"{words[1]} has no option {option}"
    else:
        pytest.fail(f"the README shows a command this test does not know: {command}")
