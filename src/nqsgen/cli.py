"""Command-line helpers shared by the package stages (``python -m nqsgen.<stage>``)."""

from __future__ import annotations

import argparse

from nqsgen.errors import ConfigError


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`ConfigError` (printed as one line by the
    stage's ``main``) instead of a usage block and exit status 2."""

    def error(self, message):
        raise ConfigError(message)
