"""The one visual style of nqsgen's figures (matplotlib rcParams, colours, markers, labels).

Every figure is drawn inside ``matplotlib.rc_context(RC)`` so that a user's matplotlibrc does
not change the output.  Colours are colour-blind safe (Okabe–Ito); Fig. 4 keeps the paper's
red circles for signs and green squares for amplitudes.
"""

from __future__ import annotations

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 6.5,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.7,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "lines.linewidth": 1.1,
    "lines.markersize": 3.5,
    "errorbar.capsize": 1.5,
    "legend.frameon": False,
    "legend.handlelength": 1.8,
    "pdf.fonttype": 42,          # embed TrueType: text stays text in the PDF
    "savefig.dpi": 300,
}

#: Colour, marker and legend label of each architecture.
ARCH = {
    "dense1": {"color": "#0072B2", "marker": "o", "label": "dense, 1 layer"},
    "dense2": {"color": "#E69F00", "marker": "s", "label": "dense, 2 layers"},
    "cnn": {"color": "#009E73", "marker": "^", "label": "CNN"},
    "gcnn": {"color": "#D55E00", "marker": "v", "label": "G-CNN"},
    "sr": {"color": "#CC79A7", "marker": "D", "label": "SR (2 × dense 2-layer)"},
}
#: Colour, marker and label of each learning target (the paper's Fig. 4 convention).
TARGET = {
    "sign": {"color": "#D55E00", "marker": "o", "label": "sign"},
    "amplitude": {"color": "#009E73", "marker": "s", "label": "amplitude"},
    "state": {"color": "#CC79A7", "marker": "D", "label": "state"},
}
#: Colours of the curves of an εtrain sweep (one per J2 value, in order).
SEQUENCE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
            "#000000")
#: Fill of the frustrated J2/J1 regions.
REGION = {"color": "0.88", "linewidth": 0, "zorder": 0}

PANEL_WIDTH = 2.35   # inches per panel column
PANEL_HEIGHT = 1.95  # inches per panel row
LEGEND_WIDTH = 1.7   # inches right of the panels for the figure legend

J2_LABEL = r"$J_2/J_1$"
EPS_LABEL = r"$\varepsilon_\mathrm{train}$"
OVERLAP_LABEL = "overlap"


def arch_style(arch: str) -> dict:
    return dict(ARCH.get(arch, {"color": "0.3", "marker": "o", "label": arch}))


def target_style(target: str) -> dict:
    return dict(TARGET.get(target, {"color": "0.3", "marker": "o", "label": target}))


def curve_style(target: str, arch: str, several_targets: bool, several_archs: bool) -> dict:
    """Style of one overlap-vs-J2 curve: by architecture (Fig. 2), by target (Fig. 4), or
    colour by architecture and marker by target when both vary."""
    if several_targets and not several_archs:
        style = target_style(target)
        style["label"] = f"{style['label']} ({arch_style(arch)['label']})"
        return style
    style = arch_style(arch)
    if several_targets:
        style["marker"] = target_style(target)["marker"]
        style["label"] = f"{target}, {style['label']}"
    return style
