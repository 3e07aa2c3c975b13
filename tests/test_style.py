"""The code follows the style configured in setup.cfg ([flake8]): run as part of the suite."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_flake8_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "flake8", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
