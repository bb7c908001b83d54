"""adloom's HTTP service. ``__version__`` comes from the installed distribution's metadata (the
one copy is pyproject.toml's ``version``)."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("adloom")
except PackageNotFoundError:  # a checkout run without `pip install -e .`
    __version__ = "0+unknown"
