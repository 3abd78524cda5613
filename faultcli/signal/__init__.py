"""Signal processing of vibration windows and recordings: ``transforms`` (spectra, in torch),
``augment`` (batched augmentations, in torch) and ``preprocess`` (band-pass, MED, VMD of whole
recordings, in numpy; importable without torch, as ONNX prediction needs)."""
