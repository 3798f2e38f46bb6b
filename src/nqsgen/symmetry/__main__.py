"""``python -m nqsgen.symmetry``: the command of earlier releases, kept working; the stage is
:mod:`nqsgen.stages.list_sectors` (``nqsgen-sectors``)."""

from nqsgen.stages.list_sectors import main

if __name__ == "__main__":
    raise SystemExit(main())
