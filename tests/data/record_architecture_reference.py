"""Records tests/data/architecture_reference.json: parameters and outputs of dense1, dense2 and
cnn for fixed seeds (recorded at commit 8cdc5c8, before the registry move;
tests/test_architectures.py compares against it).
Usage: python tests/data/record_architecture_reference.py OUT.json"""
import json
import sys

import torch

from nqsgen.clusters import get_cluster
from nqsgen.datasets import seed_streams
from nqsgen.ensemble import init_member
from nqsgen.models import ModelConfig, StackedNetwork

out = {}
for cname in ("square_16", "kagome_12", "square_10"):
    cluster = get_cluster(cname)
    g = torch.Generator().manual_seed(0)
    x = (torch.randint(0, 2, (6, cluster.n_sites), generator=g) * 2 - 1).float()
    for arch in ("dense1", "dense2", "cnn"):
        cfg = ModelConfig(arch=arch, width=16, channels=4)
        models = []
        for seed in (0, 5):
            model, gen = init_member(seed_streams(seed), cfg, cluster)
            models.append(model)
            with torch.no_grad():
                y = model(x).double().tolist()
            out[f"{cname}/{arch}/seed={seed}"] = {
                "params": {n: [float(p.double().sum()), float((p.double()**2).sum()),
                               float(p.reshape(-1)[0])] for n, p in model.named_parameters()},
                "outputs": y,
                "generator": int(torch.randint(0, 2**31, (1,), generator=gen)),
            }
        net = StackedNetwork(models)
        with torch.no_grad():
            out[f"{cname}/{arch}/stacked"] = net.forward_shared(x).double().tolist()
json.dump(out, open(sys.argv[1], "w"), indent=0)
