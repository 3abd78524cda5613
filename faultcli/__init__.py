"""faultcli: deep-learning fault diagnosis for bearing vibration and steel surface images."""

__version__ = "0.1.0"
