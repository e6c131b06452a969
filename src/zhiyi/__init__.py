"""Zhiyi (智医): an open-source smart-hospital platform."""

__version__ = "0.1.0"
