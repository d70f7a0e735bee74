"""Stages of ``rules/networks.smk``: the measurements of study A that run trained networks, each written as a small
NetCDF summary that the figure and claim jobs read (they load no checkpoint and run no model):

- :func:`network_outputs` (rule ``network_outputs``, figure A1): one analysis batch of a task and the final
  outputs of one trained network per rule on it;
- :func:`network_dynamics` (rule ``network_dynamics``, figure and claim A5): for each run, its recurrent
  eigenvalues at the first checkpoint reaching the matched level, and the DSA and eigenvalue-matching distances
  between every pair of runs there."""

from __future__ import annotations

import json

import numpy as np
import torch
import xarray as xr

from biocredit import __version__
from biocredit.dynamics import activity_at_level, level_accuracy, pairwise_dynamics, recurrent_spectrum
from biocredit.io import write_netcdf
from biocredit.model import RateRNN
from biocredit.stages.job import load_netcdf
from biocredit.tasks import build_task
from biocredit.train import load_checkpoints

__all__ = ["network_outputs", "network_dynamics"]


def _model_at(path: str, step: int | None = None) -> RateRNN:
    """The network of a ``checkpoints.pt`` file at checkpoint ``step`` (None: the last one)."""
    config, steps, states = load_checkpoints(path)
    model = RateRNN(config)
    model.load_state_dict(states[-1] if step is None else states[steps.index(step)])
    return model


def network_outputs(data: str, checkpoints: list[str], out: str, *, task: str, task_cfg: dict,
                    rules: list[str]) -> None:
    """One analysis batch of ``task`` (inputs ``x(trial, time, input)``, targets ``y`` and loss mask ``mask``) and
    the final outputs ``output(rule, trial, time, output)`` of the network in each of ``checkpoints`` (one per
    rule of ``rules``, in that order) on it. Input and output labels, when the task has them, are coordinates; the
    step in ms is ``attrs['dt_ms']``."""
    if len(checkpoints) != len(rules):
        raise ValueError(f"network_outputs: {len(checkpoints)} checkpoint files for {len(rules)} rules {rules}")
    recordings = load_netcdf(data)
    t = build_task(task, task_cfg, recordings)
    batch = t.analysis_batch()
    outputs = []
    for path in checkpoints:
        with torch.no_grad():
            outputs.append(_model_at(path)(batch.x)[0].numpy())
    y = batch.y.numpy()
    y_dims = ("trial", "time", "target")[: y.ndim]  # class labels: (trial, time)
    coords: dict = {"rule": list(rules)}
    for dim, labels in (("input", getattr(t, "input_labels", None)), ("output", getattr(t, "output_labels", None))):
        if labels:
            coords[f"{dim}_label"] = (dim, [str(x) for x in labels])
    ds = xr.Dataset(
        {"x": (("trial", "time", "input"), batch.x.numpy()), "y": (y_dims, y),
         "mask": (("trial", "time"), batch.mask.numpy()),
         "output": (("rule", "trial", "time", "output"), np.stack(outputs))},
        coords=coords,
        attrs={"task": task, "dt_ms": float(t.dt_ms), "dataset": str(recordings.attrs.get("dataset", "")),
               "biocredit_version": __version__},
    )
    write_netcdf(ds, out)


def network_dynamics(summary: str, activities: list[str], checkpoints: list[str], out: str, *, arch: str,
                     rules: list[str], level: float, rank: int, dsa: dict | None = None) -> None:
    """A5's measurements for one dataset: the accuracy at fraction ``level`` of the summary's matched range
    (``attrs['level_accuracy']``); for each run of ``rules`` that reaches it (``activities`` and ``checkpoints``
    pair up run by run), the checkpoint where it first does (``step(run)``) and the eigenvalues of its effective
    recurrent matrix there (``eig_real``, ``eig_imag`` over ``(run, eigenvalue)``, by decreasing modulus); and the
    DSA and eigenvalue-matching distances between every pair of those runs
    (:func:`biocredit.dynamics.pairwise_dynamics`)."""
    if len(activities) != len(checkpoints):
        raise ValueError(f"network_dynamics: {len(activities)} activity files but {len(checkpoints)} checkpoint files")
    summary_ds = load_netcdf(summary, arch).sel(rule=rules)
    target = level_accuracy(summary_ds, level)
    at_level = activity_at_level(activities, target, rules)
    ckpt_of = dict(zip(activities, checkpoints, strict=True))
    spectra = []
    for path, step, _ in at_level.values():
        w_rec = _model_at(ckpt_of[path], step).effective_w_rec().detach().double().numpy()  # with Dale, masks
        spectra.append(recurrent_spectrum(w_rec))
    ds = pairwise_dynamics({k: rate for k, (_, _, rate) in at_level.items()}, rank=rank, dsa=dsa)
    eig = np.stack(spectra) if spectra else np.zeros((0, 0), dtype=np.complex128)
    ds["step"] = ("run", np.asarray([step for _, step, _ in at_level.values()], dtype=int))
    ds["eig_real"] = (("run", "eigenvalue"), eig.real)
    ds["eig_imag"] = (("run", "eigenvalue"), eig.imag)
    ds.attrs.update({"arch": arch, "level": float(level), "level_accuracy": target, "rank": int(rank),
                     "dsa": json.dumps(dict(dsa or {}), sort_keys=True), "biocredit_version": __version__})
    write_netcdf(ds, out)
