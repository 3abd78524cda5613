"""Image augmentation (joint with masks and edge maps); image models live in ``faultcli.models.vision``."""
