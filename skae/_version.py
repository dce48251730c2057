"""skae's version: the installed package's metadata, whose one source is
``version`` in pyproject.toml."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("skae")
except PackageNotFoundError:  # a source tree imported without being installed
    __version__ = "0+unknown"
