"""Task hooks: how each kind of task turns batches into losses and figures for the one engine."""
