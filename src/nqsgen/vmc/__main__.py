"""``python -m nqsgen.vmc``: the VMC stage (see :mod:`nqsgen.vmc.stage`)."""

import sys

from nqsgen.vmc.stage import main

if __name__ == "__main__":
    sys.exit(main())
