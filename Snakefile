# biocredit: reproduction workflow for bio-plausible temporal credit assignment studies.
# This file is the table of contents; helpers live in rules/common.smk, one stage per rules/*.smk file.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "rules/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/train_group.smk"  # config group_seeds: batched seed groups
include: "rules/activity.smk"
include: "rules/similarity.smk"
include: "rules/curvature.smk"
include: "rules/generalization.smk"
include: "rules/figures.smk"
include: "rules/calibration.smk"  # `snakemake calibration`; not part of `all`
include: "rules/scorecard.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        final_outputs_b(),
        "results/scorecard.csv",
        "results/report/landing.rst",
