"""Typed hyper-parameters of the training and VMC stages — the one source of their names,
types, ranges, defaults and help texts.

The stage command lines (:func:`nqsgen.config.cli.add_arguments`), the workflow's `train:` and
`vmc:` sections (:mod:`nqsgen.config.workflow`), the JSON schema of the workflow configuration
(:mod:`nqsgen.config.schema`) and the flags the workflow passes to each job
(:func:`nqsgen.config.cli.flags`) are all derived from these models.  A field whose default is
None is derived from another value when unset (the model's docstring says how).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Activation = Literal["relu", "tanh", "elu", "gelu", "softplus"]


class Settings(BaseModel):
    """A set of named hyper-parameters (unknown names are errors)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class TrainSettings(Settings):
    """One supervised run (paper, "Training procedure"; :mod:`nqsgen.training`).

    ``eps_val`` None means min(εtrain, 0.05); ``mc_samples`` None means ⌈1/mc_se²⌉.
    """

    eps_val: float | None = Field(None, gt=0, le=1, description=(
        "Validation fraction εval in (0, 1] (default min(εtrain, 0.05))."))
    expressibility_mode: Literal["sampled", "weighted"] = Field("sampled", description=(
        "εtrain = 1: sampled (K draws from |ψ|²) or weighted (every state once, loss weight "
        "K|ψ|²)."))
    width: int = Field(64, ge=1, description="Hidden units of the dense layers.")
    channels: int = Field(16, ge=1, description="Channels of the CNN layers.")
    kernel_radius: float = Field(1.5, gt=0, description=(
        "CNN stencil radius in units of |a1| (1.5: the 3x3 / hexagonal stencil)."))
    activation: Activation = Field("relu", description="Hidden-layer activation.")
    gcnn_group: Literal["space", "space+inversion"] = Field("space", description=(
        "G-CNN (arch gcnn): the group - the cluster's space group, or it times spin "
        "inversion."))
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout probability after hidden layers.")
    weight_decay: float = Field(0.0, ge=0, description="Adam L2 weight decay.")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate.")
    batch_size: int = Field(128, ge=1, description="Batch size (the paper uses 64 or 128).")
    max_epochs: int = Field(500, ge=1, description="Maximum epochs.")
    patience: int = Field(20, ge=1, description=(
        "Early stopping after this many epochs without a validation-loss improvement (best "
        "epoch restored)."))
    exact_max_states: float = Field(3e8, ge=0, description=(
        "Largest K whose test overlap is summed exactly (3e8: up to 30 spins); above it a "
        "Monte-Carlo estimate from an independent |ψ|² sample, with its SE."))
    mc_se: float = Field(0.005, gt=0, lt=1, description=(
        "Standard error the Monte-Carlo sign overlap is sized for: ⌈1/SE²⌉ accepted test-set "
        "draws bound it whatever the overlap (0.005: 40,000 draws)."))
    mc_samples: float | None = Field(None, ge=2, description=(
        "Accepted |ψ|² test-set draws of the Monte-Carlo overlap (default ⌈1/mc_se²⌉)."))


class VmcSettings(Settings):
    """One stochastic-reconfiguration run (the paper's Fig. 2 d–f; :mod:`nqsgen.vmc`).

    ``phase_width`` None means ``width``.
    """

    sampler: Literal["metropolis", "exact"] = Field("metropolis", description=(
        "metropolis - Metropolis-Hastings chains; exact - the full |ψ|² sum over the basis "
        "(small clusters)."))
    iterations: int = Field(1000, ge=1, description="SR iterations.")
    samples: int = Field(1024, ge=1, description=(
        "Metropolis samples per iteration, rounded up to a multiple of chains."))
    chains: int = Field(128, ge=1, description="Metropolis chains advanced together.")
    sweep_size: int = Field(0, ge=0, description=(
        "Spin-exchange proposals per sweep; one sample is kept per sweep (0 = N)."))
    burn_in: int = Field(2, ge=0, description="Sweeps discarded at every iteration.")
    initial_burn_in: int = Field(100, ge=0, description="Sweeps discarded when the chains start.")
    final_samples: int = Field(16384, ge=1, description=(
        "Metropolis samples of the final energy estimate."))
    width: int = Field(64, ge=1, description=(
        "Hidden units of both layers of the amplitude network."))
    phase_width: int | None = Field(None, ge=1, description=(
        "Hidden units of both layers of the phase network (default width)."))
    activation: Activation = Field("tanh", description="Hidden-layer activation.")
    dtype: Literal["float64", "float32"] = Field("float64", description=(
        "Network and SR precision."))
    lr: float = Field(0.05, gt=0, description=(
        "Learning rate η0; η(t) = max(lr_min, lr·lr_decay^t)."))
    lr_decay: float = Field(1.0, gt=0, le=1, description="Learning-rate decay per iteration.")
    lr_min: float = Field(0.0, ge=0, description="Smallest learning rate.")
    shift: float = Field(0.1, gt=0, description=(
        "Diagonal shift λ0 of S; λ(t) = max(shift_min, shift·shift_decay^t)."))
    shift_decay: float = Field(0.95, gt=0, le=1, description="Shift decay per iteration.")
    shift_min: float = Field(1e-3, ge=0, description="Smallest diagonal shift.")
    sr_solver: Literal["cg", "dense"] = Field("cg", description=(
        "cg - conjugate gradients, S never formed; dense - S formed and solved (few "
        "parameters)."))
    cg_max_iterations: int = Field(100, ge=1, description=(
        "Conjugate-gradient iterations per SR step at most."))
    cg_tol: float = Field(1e-6, gt=0, lt=1, description="Relative CG residual.")
    overlap_every: int = Field(0, ge=0, description=(
        "Exact overlap every k iterations in the trajectory (0: only at the end)."))
    checkpoint_every: int = Field(50, ge=0, description=(
        "Iterations between checkpoints; a killed job resumes from the last one (0: only "
        "after the last)."))
    log_every: int = Field(10, ge=1, description="Iterations between log lines.")
    exact_max_states: float = Field(3e8, ge=0, description=(
        "Largest K whose overlaps and exact energy are summed over the basis."))
    max_jacobian_mb: float = Field(4096, gt=0, description=(
        "Refuse runs whose per-sample Jacobian (samples × parameters) exceeds this many MB."))
