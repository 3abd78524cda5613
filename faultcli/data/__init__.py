"""Data layer: readers, labels, windows, splits and the prepared-dataset cache.

Nothing heavy is imported here; import the module you need (``faultcli.data.vibration``, ...).
"""
