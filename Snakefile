# biocredit: reproduction workflow for bio-plausible temporal credit assignment studies.
# This file is the table of contents: the helpers (rules/common*.smk), then one file per stage (rules/<stage>.smk,
# whose rules run scripts/<rule>.py, which call biocredit.stages.<stage>; see docs/architecture.md).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "rules/report/workflow.rst"


include: "rules/common.smk"  # study A's grid, paths, lib()
include: "rules/common_b.smk"  # study B's grid, paths and figure outputs
include: "rules/common_group.smk"  # config group_seeds
include: "rules/common_calibration.smk"
include: "rules/common_scorecard.smk"
include: "rules/common_settle.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/train_group.smk"  # config group_seeds: batched seed groups
include: "rules/activity.smk"
include: "rules/similarity.smk"
include: "rules/networks.smk"  # trained networks of study A → outputs (A1), dynamics at the matched level (A5)
include: "rules/curvature.smk"
include: "rules/generalization.smk"
include: "rules/claims_a.smk"
include: "rules/claims_b.smk"
include: "rules/figures_a.smk"
include: "rules/figures_b.smk"
include: "rules/claims.smk"
include: "rules/calibration.smk"  # `snakemake calibration`; not part of `all`
include: "rules/calibration_b.smk"  # `snakemake calibration_b`; not part of `all`
include: "rules/scorecard.smk"
include: "rules/settle.smk"  # `snakemake settle`; not part of `all`


rule all:
    default_target: True
    input:
        final_outputs(),
        final_outputs_b(),
        "results/scorecard.csv",
        "results/report/landing.rst",
