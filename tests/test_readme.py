"""Every code block of the README runs, or for shell commands, is a valid
call (see ``doc_blocks``). ``make test`` is what CI runs; the install lines
were checked with ``pip install --dry-run --report``."""

import pytest
from doc_blocks import ROOT, blocks, check_shell_command, run_python_blocks, shell_commands

README = ROOT / "README.md"

pytestmark = pytest.mark.xdist_group("readme")


def test_the_readme_is_a_front_page():
    assert len(README.read_text()) <= 12_000
    assert len(blocks(README, "python")) >= 1


@pytest.mark.quality
def test_python_blocks_run_and_print_what_they_show(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_python_blocks(README)


@pytest.mark.parametrize("command", list(shell_commands(README)))
def test_shell_commands_are_valid_calls(command):
    check_shell_command(command)
