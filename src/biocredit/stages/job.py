"""What every workflow job does first: send its log to the job's log file and its progress to the console
(:func:`configure`), and for the figure stages, call the stage with the job's inputs, outputs, wildcards and params
(:func:`run_job`); and how a stage reads a summary or a claim row (:func:`load_netcdf`, :func:`load_json`)."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
import xarray as xr

from biocredit.io import open_netcdf

__all__ = ["ConsoleProgress", "configure", "console", "load_json", "load_netcdf", "run_job"]

_CONSOLE = None


class ConsoleProgress:
    """A text stream for a tqdm bar that prints one plain line per ``interval`` seconds (and the last one) on the
    console, prefixed with the run's name, and copies each line to the job's log. Parallel jobs' lines interleave
    readably, as whole lines, instead of overwriting each other's ``\r`` updates."""

    def __init__(self, name: str, console, log_stream=None, interval: float = 15.0) -> None:
        self.name, self.console, self.log_stream, self.interval = name, console, log_stream, interval
        self._last_emit = float("-inf")
        self._pending = ""

    def write(self, text: str) -> int:
        import re
        import time

        for part in re.split(r"([\r\n])", text):
            if part == "\n":  # tqdm ends a closed bar with a newline: show where the run ended
                self._emit()
                continue
            status = re.sub(r"\|[^|]*\|", " ", part).strip()  # the bar's blocks: only numbers stay
            if not status:
                continue
            self._pending = status
            if time.monotonic() - self._last_emit >= self.interval:
                self._emit()
        return len(text)

    def _emit(self) -> None:
        import time

        if not self._pending:
            return
        line = f"[{self.name}] {self._pending}\n"
        for stream in (self.console, self.log_stream):
            if stream is not None:
                stream.write(line)
                stream.flush()
        self._pending, self._last_emit = "", time.monotonic()

    def flush(self) -> None:
        pass


def configure(log_path: str | None = None, threads: int | None = None) -> None:
    """Per-job set-up: stderr (logging, warnings) goes to the job's log file, training progress to the console
    (one line per run every few seconds, see :class:`ConsoleProgress`), and torch uses the threads the scheduler
    gave the job."""
    global _CONSOLE
    if _CONSOLE is None:
        _CONSOLE = sys.stderr
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the job
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s", force=True
    )
    if threads:
        torch.set_num_threads(int(threads))
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def _plain(value):
    """Snakemake's named lists (and tuples) as plain lists, mappings as plain dicts; anything else as it is."""
    if isinstance(value, Mapping):
        return dict(value)
    return list(value) if isinstance(value, (list, tuple)) else value


def run_job(
    smk, stage: Callable[..., None], inputs: Sequence[str], outputs: Sequence[str] | None = ("png", "pdf", "claim")
) -> None:
    """Run a figure stage as the Snakemake job ``smk`` (a rule's ``snakemake`` object): :func:`configure` with the
    job's log, then ``stage(*inputs, *outputs, **wildcards, **params)``, with the inputs and outputs named, in that
    order (``outputs=None``: every output in one name → path dict), and the job's wildcards and params as keyword
    arguments of the same names. List and mapping values are passed as plain lists and dicts."""
    configure(smk.log[0])
    args = [_plain(getattr(smk.input, name)) for name in inputs]
    args += [dict(smk.output.items())] if outputs is None else [getattr(smk.output, name) for name in outputs]
    stage(*args, **{k: _plain(v) for k, v in [*smk.wildcards.items(), *smk.params.items()]})


def console():
    """The console stream once :func:`configure` sent stderr to the job's log (None before: progress then goes to
    stderr as usual)."""
    return _CONSOLE if _CONSOLE is not None and _CONSOLE is not sys.stderr else None


def load_netcdf(path: str, arch: str | None = None) -> xr.Dataset:
    """A NetCDF file read into memory and closed, through :func:`biocredit.io.open_netcdf` (a damaged file raises
    an error naming it); with ``arch``, narrowed to that architecture (kept as a length-1 ``arch`` dimension)."""
    with open_netcdf(path) as ds:
        loaded = ds.load()
    return loaded if arch is None else loaded.sel(arch=[arch])


def load_json(path: str):
    """A JSON file (a claim row or a list of rows); one that cannot be parsed raises a ValueError naming it."""
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a readable JSON file ({err}); remake it by rerunning the job that writes it"
                         ) from err
