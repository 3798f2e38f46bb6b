"""The identity of an ensemble's composition (:mod:`nqsgen.ensemble`): which runs are trained
together in one process, and in which order.  A run's numbers are reproducible for a given
composition (CPU, fixed threads), so the workflow plans compositions from the configuration
alone (:meth:`nqsgen.plan.Plan.ensembles`) and every metrics row records its composition's
id (``ensemble_id``).  Torch-free, so that planning stays fast.
"""

from __future__ import annotations

import hashlib
import json


def ensemble_id(cluster: str, target: str, arch: str, members) -> str:
    """12 hex digits naming a composition: cluster, target, architecture and the members'
    (J2, εtrain, seed) in order (``members``: tuples, or objects with ``j2``, ``eps``,
    ``seed``)."""
    rows = [m if isinstance(m, tuple | list) else (m.j2, m.eps, m.seed) for m in members]
    key = json.dumps([cluster, target, arch,
                      [[float(j2), float(eps), int(seed)] for j2, eps, seed in rows]])
    return hashlib.sha1(key.encode()).hexdigest()[:12]
