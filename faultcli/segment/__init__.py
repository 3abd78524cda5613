"""Segmentation building blocks: tiled inference, post-processing, figures and output files.

Libraries only (flat arguments, no config, no printing); ``faultcli.services.segment`` wires them.
"""
