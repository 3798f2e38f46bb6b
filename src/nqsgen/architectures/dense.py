"""``dense1`` (N → h → 1) and ``dense2`` (N → h → h → 1): fully connected networks of ``width``
hidden units per layer, the configured activation, then dropout (the paper's dense
networks)."""

from __future__ import annotations

from torch import nn

from nqsgen.architectures import ACTIVATIONS, CPU_INFERENCE_BATCH, register


class Dense(nn.Module):
    """Fully connected network N → h (→ h …) → 1 with ``depth`` hidden layers."""

    inference_batch = CPU_INFERENCE_BATCH

    def __init__(self, n_sites: int, width: int, depth: int, activation=nn.ReLU,
                 dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = []
        n_in = n_sites
        for _ in range(depth):
            layers += [nn.Linear(n_in, width), activation()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            n_in = width
        layers.append(nn.Linear(n_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(-1)


def _builder(depth: int):
    def build(config, cluster, context=None) -> Dense:
        return Dense(cluster.n_sites, config.width, depth, ACTIVATIONS[config.activation],
                     config.dropout)
    return build


register("dense1", _builder(1), "dense N -> width -> 1")
register("dense2", _builder(2), "dense N -> width -> width -> 1")
