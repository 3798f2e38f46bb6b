"""Stage ``list_sectors`` (being moved here from nqsgen.symmetry.__main__)."""

from nqsgen.symmetry.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
