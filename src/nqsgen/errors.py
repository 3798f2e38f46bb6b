"""Error types of nqsgen.

Every error a user can cause (bad configuration, bad cluster, missing file) is raised as a
subclass of :class:`NqsgenError` whose message is a single line naming the offending key,
cluster or file.  Command-line entry points catch :class:`NqsgenError` and print
``error: <message>`` without a traceback.
"""


class NqsgenError(Exception):
    """Base class of all user-facing nqsgen errors (one-line messages)."""


class ConfigError(NqsgenError):
    """A configuration value is missing, misspelled or out of range."""


class ClusterError(NqsgenError):
    """A cluster definition is invalid (zero area, unknown lattice, coinciding bonds, ...)."""


class SolverError(NqsgenError):
    """An eigensolve failed: not converged, residual too large, or not enough memory."""


class StorageError(NqsgenError):
    """A stored ground state is missing, incomplete, corrupted or belongs to another cluster."""
