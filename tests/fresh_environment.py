"""A fresh virtual environment outside the checkout, for tests of what users install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def fresh_environment(root: Path, wheel: Path) -> Path:
    """A new virtual environment, outside the checkout, with the wheel installed in it; its
    dependencies (TensorFlow and the rest, 2.5 GB) come from this interpreter's environment
    through a .pth line, which adds their folder without running its .pth files, so the
    checkout's editable install of the package is not among them. Returns its python."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    (site,) = json.loads(
        subprocess.run(
            [str(python), "-c", "import json, site; print(json.dumps(site.getsitepackages()))"],
            check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    dependencies = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    (Path(site) / "dependencies.pth").write_text(f"{dependencies}\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", site, str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return python
