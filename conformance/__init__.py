"""conformance: protocol conformance and fuzz testing for PTZ cameras, cellular
modules and EV charging stations."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("conformance")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
