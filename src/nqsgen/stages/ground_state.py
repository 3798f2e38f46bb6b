"""Stage ``ground_state`` (being moved here from nqsgen.ground_state)."""

from nqsgen.ground_state import main

if __name__ == "__main__":
    raise SystemExit(main())
