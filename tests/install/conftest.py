"""The package as users get it: `make dist`, then the wheel installed into a new virtualenv.

Built and installed once per run, in a temp dir; commands then run from a
directory outside the repository with a clean environment, so nothing of the
checkout (sources, migrations, node_modules) can be found by accident.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.install.served import clean_environ

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    """A virtualenv with the built wheel installed, and a working directory outside the repo."""

    venv: Path
    wheel: Path
    workdir: Path

    @property
    def seatmap(self) -> Path:
        """The installed `seatmap` console script."""
        return self.venv / "bin" / "seatmap"

    @property
    def site_packages(self) -> Path:
        """Where the wheel's packages were installed."""
        return next((self.venv / "lib").glob("python3*/site-packages"))

    def run(
        self, *args: str, env: dict[str, str], timeout_s: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run `seatmap ARGS` from the working directory with only `env` as SEATMAP_* settings."""
        return subprocess.run(
            [str(self.seatmap), *args],
            cwd=self.workdir,
            env=clean_environ(env),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )


def _run(command: Sequence[str | Path], cwd: Path, timeout_s: float) -> None:
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert result.returncode == 0, f"{command}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """`make dist`, then a new virtualenv with the wheel (dependencies from the pip cache/PyPI)."""
    _run(["make", "dist"], ROOT, timeout_s=300)
    wheels = sorted((ROOT / "dist").glob("seatmap-*.whl"))
    assert len(wheels) == 1, wheels
    assert list((ROOT / "dist").glob("seatmap-*.tar.gz")), "make dist made no sdist"
    home = tmp_path_factory.mktemp("installed")
    wheel = Path(shutil.copy(wheels[0], home))
    venv = home / "venv"
    _run([sys.executable, "-m", "venv", venv], home, timeout_s=120)
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], home, timeout_s=300)
    workdir = home / "work"
    workdir.mkdir()
    return Installed(venv, wheel, workdir)
