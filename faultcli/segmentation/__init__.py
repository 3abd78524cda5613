"""Defect segmentation in one place: data, training hooks, tiled inference, post-processing, figures,
output files, the evaluation report and prediction on new images. ``faultcli.tasks.segmentation``
registers the task that wires them into the one training pipeline."""
