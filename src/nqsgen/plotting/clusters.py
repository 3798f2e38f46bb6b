"""Pictures of periodic clusters, in the style of Fig. 1 of Westerhout et al. (2020).

Sites are dots labelled with their index (filled/open by the J1 two-colouring when the J1 graph
is bipartite), J1 bonds are solid, J2 bonds dashed in another colour.  A bond that wraps around
the torus is drawn from each of its two sites halfway toward the periodic image of the other
one, in a lighter tone.  Sites are drawn at their periodic image inside one supercell
parallelogram, which is outlined (its edges pass between sites).

Only the object-oriented matplotlib API is used (no pyplot, no display), so this works on
headless machines and inside worker processes.
"""

from __future__ import annotations

import os

import numpy as np

from nqsgen.publish import atomic_path

__all__ = ["draw_cluster", "plot_cluster", "cluster_title", "layout"]

J1_COLOUR = "#1f4e9c"
J2_COLOUR = "#c0392b"


def cluster_title(cluster) -> str:
    """Two-line title: name, N, lattice (+ J2 orientation for kagome), bipartite yes/no."""
    lat = cluster.lattice.name
    parts = [f"{cluster.name}: N = {cluster.n_sites}, {lat} lattice"]
    if "j2_orientation" in cluster.lattice.options:
        parts.append(f"J2 on the {cluster.lattice.options['j2_orientation']} bonds")
    first = ", ".join(parts)
    second = (
        f"J1 graph bipartite: {'yes' if cluster.bipartite_j1 else 'no'}; "
        f"|point group| = {len(cluster.point_group)}"
    )
    return first + "\n" + second


def _boundary_offset(u: np.ndarray) -> float:
    """Offset s such that the unit interval [s, s + 1) cuts the circle of the values ``u``
    (mod 1) in the middle of their largest gap (the outline then passes between sites).
    Among equally large gaps, the one just below site 0 is chosen (site 0 at the lower left)."""
    v = np.sort(np.mod(np.round(u, 9), 1.0))
    upper = np.concatenate([v[1:], [v[0] + 1.0]])
    gaps = upper - v
    best = gaps >= gaps.max() - 1e-9
    below_site0 = np.mod(np.round(u[0], 9) - upper, 1.0)
    k = int(np.argmin(np.where(best, below_site0, np.inf)))
    s = v[k] + gaps[k] / 2
    return float(s - 1.0 if s > 0.5 else s)


def layout(cluster) -> tuple[np.ndarray, np.ndarray]:
    """Drawing positions of the sites and the corners of the outlined supercell.

    Every site is moved to its periodic image inside one supercell parallelogram whose edges
    pass between sites (in the middle of the largest gap), so the picture shows one copy of
    the torus.  Returns (positions (N, 2), corners (4, 2)).
    """
    lvec = cluster.supercell_vectors  # rows L1, L2
    u = np.linalg.solve(lvec.T, cluster.coordinates.T).T  # supercell coordinates
    shift = np.array([_boundary_offset(u[:, 0]), _boundary_offset(u[:, 1])])
    wrapped = np.mod(np.round(u - shift, 9), 1.0) + shift
    xy = wrapped @ lvec
    origin = shift @ lvec
    corners = np.array([origin, origin + lvec[0], origin + lvec[0] + lvec[1], origin + lvec[1]])
    return xy, corners


def _segments(xy, bonds, disp):
    """Split bonds into full segments (inside the drawn cluster) and wrapped half-segments."""
    if len(bonds) == 0:
        empty = np.zeros((0, 2, 2))
        return empty, empty
    a, b = xy[bonds[:, 0]], xy[bonds[:, 1]]
    inside = np.all(np.abs(a + disp - b) < 1e-6, axis=1)
    full = np.stack([a[inside], b[inside]], axis=1)
    wa, wb, wd = a[~inside], b[~inside], disp[~inside]
    halves = np.concatenate(
        [np.stack([wa, wa + wd / 2], axis=1), np.stack([wb, wb - wd / 2], axis=1)], axis=0
    )
    return full, halves


def plot_cluster(ax, cluster, labels: bool = True, legend: bool = True,
                 title: bool = True) -> None:
    """Draw ``cluster`` on the matplotlib axes ``ax`` (reusable for multi-panel figures)."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon

    xy, corners = layout(cluster)
    ax.add_patch(Polygon(corners, closed=True, fill=True, facecolor="#f4f4f4",
                         edgecolor="0.45", linewidth=0.8, linestyle=":", zorder=0))

    styles = (
        ("J1", cluster.j1_bonds, cluster.j1_displacements, J1_COLOUR, "solid", 1.8),
        ("J2", cluster.j2_bonds, cluster.j2_displacements, J2_COLOUR, (0, (4, 2.5)), 1.4),
    )
    for _, bonds, disp, colour, style, width in styles:
        full, halves = _segments(xy, bonds, disp)
        if len(full):
            ax.add_collection(LineCollection(full, colors=colour, linestyles=style,
                                             linewidths=width, zorder=2))
        if len(halves):
            ax.add_collection(LineCollection(halves, colors=colour, linestyles=style,
                                             linewidths=width, alpha=0.35, zorder=1))

    if cluster.j1_colouring is not None:
        face = np.where(cluster.j1_colouring == 0, "black", "white")
    else:
        face = np.full(cluster.n_sites, "0.6")
    ax.scatter(xy[:, 0], xy[:, 1], s=60, c=list(face), edgecolors="black", linewidths=0.9,
               zorder=3)
    if labels:
        for i, (x, y) in enumerate(xy):
            ax.annotate(str(i), (x, y), xytext=(4, 4), textcoords="offset points",
                        fontsize=7, zorder=4)

    pts = np.concatenate([corners, xy])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.6
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(cluster_title(cluster), fontsize=9)
    if legend:
        j2_label = "J2 (dashed)"
        if "j2_orientation" in cluster.lattice.options:
            j2_label = f"J2 (dashed, {cluster.lattice.options['j2_orientation']} bonds)"
        handles = [
            Line2D([], [], color=J1_COLOUR, lw=1.8, label="J1 (solid)"),
            Line2D([], [], color=J2_COLOUR, lw=1.4, ls=(0, (4, 2.5)), label=j2_label),
            Line2D([], [], color="0.5", lw=1.6, alpha=0.35, label="bond across the boundary"),
            Line2D([], [], color="0.45", lw=0.8, ls=":", label="supercell"),
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                  frameon=False)


def draw_cluster(cluster, path: str | os.PathLike) -> None:
    """Write a vector PDF picture of ``cluster`` to ``path`` atomically."""
    from matplotlib.figure import Figure

    path = os.fspath(path)
    _, corners = layout(cluster)
    span = np.maximum(np.ptp(corners, axis=0), 1.0)
    scale = min(9.0 / span[0], 9.0 / span[1], 0.9)
    width, height = span[0] * scale + 3.0, span[1] * scale + 1.5
    fig = Figure(figsize=(max(width, 5.5), max(height, 3.5)))
    ax = fig.add_subplot(1, 1, 1)
    plot_cluster(ax, cluster)
    fig.tight_layout()

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="pdf", metadata={"CreationDate": None})
