"""Version checks of the packages this library works with but cannot require (1.x's
``channels.package_checks``): run once when Django starts."""

from __future__ import annotations

import re
from importlib import metadata

#: Distribution name → the oldest version that works. channels_redis is optional (another
#: BACKEND); daphne and channels are required but may be pinned by a project to older ones.
required_versions = {
    "channels": "4.0",
    "channels-redis": "4.0",
    "daphne": "4.0",
}


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def check_all() -> None:
    """Raises RuntimeError for an installed package older than ``required_versions`` says."""
    for package, version in required_versions.items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
        if _release(installed) < _release(version):
            raise RuntimeError(
                f"Your version of {package} is too old - it must be at least {version} "
                f"(installed: {installed}); upgrade it: pip install '{package}>={version}'"
            )
