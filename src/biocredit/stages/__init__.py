"""The workflow's stages: one module per ``rules/*.smk`` file, one function per rule, each taking plain arguments
(paths, config values) and writing its outputs atomically. ``scripts/<rule>.py`` unpacks Snakemake's job and calls
the function; nothing here imports Snakemake. A stage module imports at its top every library module its jobs use,
so that ``lib()`` in ``rules/common.smk`` can name exactly those files as the rule's inputs.
"""
