"""``python -m nqsgen.ground_state``: the command of earlier releases, kept working; the stage
is :mod:`nqsgen.stages.ground_state` (``nqsgen-ground-state``)."""

from nqsgen.stages.ground_state import main

if __name__ == "__main__":
    raise SystemExit(main())
