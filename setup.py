"""What setup.cfg cannot say: the repository's ``data/`` folder ships as ``disaster_data``.

The sample inputs stay in ``data/`` (no code there); in a wheel they become package data
found through :mod:`importlib.resources` (see ``gis/datafiles.py``).
"""

from setuptools import find_packages, setup

PACKAGES = ["gis", "disaster", "shelters", "stockpile", "web"]

setup(
    packages=[*find_packages(include=[*PACKAGES, *(f"{p}.*" for p in PACKAGES)]), "disaster_data"],
    package_dir={"disaster_data": "data"},
)
