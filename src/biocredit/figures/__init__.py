"""Figures, drawn from summary files only. One module per figure family; :mod:`.style` holds shared settings."""
