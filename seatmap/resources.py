"""Data shipped inside the packages (migrations, schemas, viewer), found via importlib.resources.

Nothing is looked up beside the source tree: an installed wheel and an editable
checkout resolve the same way, through the package that owns the data.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """The filesystem path of data shipped inside `package` (which may not exist yet).

    Packages are installed as plain folders (wheels unpack; zip imports are not
    supported), so the resource is a real path that servers can open by name.
    """
    root = resources.files(package)
    if not isinstance(root, Path):
        raise RuntimeError(f"package {package!r} is not installed as a folder: {root!r}")
    return root.joinpath(*parts)
