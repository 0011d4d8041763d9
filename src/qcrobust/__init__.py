"""qcrobust: how robust is ML screening of disordered crystals to the choice of training data."""

__version__ = "0.1.0"
