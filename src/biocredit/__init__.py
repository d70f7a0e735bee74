"""biocredit: recurrent networks trained with BPTT and local learning rules, compared on brain-likeness and curvature.

The library holds all the science; the Snakemake workflow only calls it. Modules:

- :mod:`biocredit.data`        fetching (URL or mirror, SHA-256, atomic) and dataset loaders → NetCDF contract
- :mod:`biocredit.tasks`       task generators (inputs, targets, masks, accuracy)
- :mod:`biocredit.model`       the leaky rate RNN
- :mod:`biocredit.learning`       learning rules behind one interface
- :mod:`biocredit.train`       the training loop
- :mod:`biocredit.activity`    checkpoints → hidden activity as xarray
- :mod:`biocredit.similarity`  Procrustes shape distance and baselines
- :mod:`biocredit.stats`       matched-accuracy interpolation, bootstrap CIs
- :mod:`biocredit.figures`     figures drawn from summary files
"""

__version__ = "0.1.0"
