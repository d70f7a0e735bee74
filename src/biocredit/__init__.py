"""biocredit: recurrent networks trained with BPTT and local learning rules, compared on brain-likeness and curvature.

The library holds all the science; the Snakemake workflow only calls it (docs/architecture.md). Layers, top down:

- :mod:`biocredit.stages`      one module per workflow stage (rules/<stage>.smk): plain arguments in, files out
- :mod:`biocredit.figures`     figures drawn from summaries and claim rows
- :mod:`biocredit.claims`      statistics → claim rows, per study
- analysis: :mod:`biocredit.similarity`, :mod:`biocredit.curvature`, :mod:`biocredit.dynamics`,
  :mod:`biocredit.stats`, :mod:`biocredit.generalization`, :mod:`biocredit.activity`, :mod:`biocredit.scorecard`
- :mod:`biocredit.train`       the training loop (:mod:`biocredit.batched`: several seeds as one model)
- :mod:`biocredit.learning`    learning rules behind one interface
- :mod:`biocredit.data`, :mod:`biocredit.tasks`, :mod:`biocredit.model`, :mod:`biocredit.runs` (run names and grids)
"""

__version__ = "0.1.0"
