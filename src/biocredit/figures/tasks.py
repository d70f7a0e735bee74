"""Figure A1: what each task asks of the network, what trained networks produce, and what the recordings show."""

from __future__ import annotations

import numpy as np
import xarray as xr

from biocredit.figures.style import RULE_LABELS, rule_color, setup

__all__ = ["task_overview"]


def task_overview(
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    outputs: dict[str, np.ndarray],
    recordings: xr.Dataset,
    dt_ms: float,
    title: str,
    trial: int = 0,
    input_labels: list[str] | None = None,
    output_labels: list[str] | None = None,
):
    """Three panels: inputs of one analysis trial; its targets (dashed; grey where the loss ignores them) with
    each trained network's outputs; and the recordings' population-mean rate per condition.

    ``inputs`` (trial, time, n_in), ``targets`` (trial, time, n_out), ``mask`` (trial, time),
    ``outputs`` rule → (trial, time, n_out).
    """
    import matplotlib.pyplot as plt

    setup()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    t = np.arange(inputs.shape[1]) * dt_ms
    ax = axes[0]
    for k in range(inputs.shape[2]):
        label = input_labels[k] if input_labels else f"input {k}"
        ax.plot(t, inputs[trial, :, k], lw=1.4, label=label)
    ax.set_xlabel("time in trial (ms)")
    ax.set_ylabel("input (a.u.)")
    ax.set_title("inputs (one analysis trial)")
    ax.legend(frameon=False, fontsize=7)

    ax = axes[1]
    ylabel = "output (normalised units)"
    if targets.ndim == 2:  # class labels: compare one-hot targets with the outputs' softmax probabilities
        n_classes = next(iter(outputs.values())).shape[-1] if outputs else int(targets.max()) + 1
        targets = np.eye(n_classes)[targets.astype(int)]
        outputs = {r: _softmax(o) for r, o in outputs.items()}
        ylabel = "target (one-hot) and output probability"
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    counted = mask[trial] > 0
    for k in range(targets.shape[2]):
        color = palette[k % len(palette)]
        label = output_labels[k] if output_labels else f"output {k}"
        ax.plot(t[counted], targets[trial, counted, k], ls="--", color=color, lw=1.6, label=f"target: {label}")
        for rule, out in outputs.items():
            ax.plot(t, out[trial, :, k], color=rule_color(rule), lw=1.0, alpha=0.8)
    for rule in outputs:
        ax.plot([], [], color=rule_color(rule), label=f"{RULE_LABELS.get(rule, rule)} output")
    ax.set_xlabel("time in trial (ms)")
    ax.set_ylabel(ylabel)
    ax.set_title("targets and trained outputs")
    ax.legend(frameon=False, fontsize=7)

    ax = axes[2]
    mean_rate = recordings["rate"].mean("unit")
    n_cond = recordings.sizes["condition"]
    colors = plt.cm.RdYlGn(np.linspace(0, 1, n_cond))
    for c in range(n_cond):
        ax.plot(recordings["time"], mean_rate.isel(condition=c), color=colors[c], lw=1.2)
    ax.set_xlabel(f"time re {recordings.attrs.get('alignment_event', 'alignment')} (ms)")
    ax.set_ylabel("mean rate over units (spikes/s)")
    ax.set_title(f"recordings: {n_cond} conditions, {recordings.sizes['unit']} units")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
