"""The installed ``skae-compare`` command, run as a user would, in a subprocess."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("compare")

SCRIPT = shutil.which("skae-compare", path=str(Path(sys.executable).parent))
TINY = ["--max-train", "150", "--max-test", "60", "--quiet"]


def run(*args, env=None, cwd=None):
    assert SCRIPT, "the skae-compare console script is not installed"
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_success_exits_zero_and_a_rerun_leaves_no_stale_files(tmp_path):
    out = tmp_path / "report"
    first = run("--methods", "PCA", "--latent-dims", "2", "5", "--out", str(out), *TINY)
    assert first.returncode == 0, first.stderr
    assert (out / "codes_2d.png").exists()
    second = run("--methods", "PCA", "--latent-dims", "5", "--out", str(out), *TINY)
    assert second.returncode == 0, second.stderr
    assert not (out / "codes_2d.png").exists()  # no 2-d run this time
    report = (out / "report.md").read_text()
    assert "is on all 60 test rows" in report and "codes_2d" not in report


@pytest.mark.parametrize("args, message", [
    (["--ae-params", '{"bogus": 1}'], "--ae-params: unknown parameter(s) bogus"),
    (["--vae-params", '{"lr": -1}'], "--vae-params: The 'lr' parameter"),
    (["--ae-params", "{bad json"], "not valid JSON"),
    (["--ae-params", "[1, 2]"], "expected a JSON object"),
    (["--ae-params", '{"latent_dim": 3}'], "latent_dim is set by --latent-dims"),
    (["--latent-dims", "0"], "--latent-dims must be positive"),
    (["--dataset", "no_such.csv"], "not found"),
])
def test_bad_arguments_exit_2_at_once_without_traceback(args, message):
    start = time.perf_counter()
    result = run(*args)
    assert result.returncode == 2
    assert time.perf_counter() - start < 30  # before any model is fitted
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("skae-compare: error:") or \
        result.stderr.startswith("error:")


def test_missing_matplotlib_is_reported_before_any_work(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'matplotlib':\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, _Block())\n")
    start = time.perf_counter()
    result = run(*TINY, env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2
    assert time.perf_counter() - start < 30
    assert "pip install 'skae[report]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "reports").exists()


def test_latent_sizes_wider_than_the_data_are_reported(tmp_path):
    out = tmp_path / "r"
    result = run("--methods", "PCA", "--latent-dims", "2", "100", "--out", str(out), *TINY)
    assert result.returncode == 0
    assert "latent sizes [100] skipped" in result.stderr
    assert "latent sizes [100] skipped" in (out / "report.md").read_text()
