"""piramide: the public value pyramid of the INPS 2021-2023 performance plan, from raw extracts to the VPI."""

__version__ = "0.1.0"
