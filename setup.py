"""Which packages the distribution holds: every package below the three source folders.

The source folders sit at the top of the repository, as the design card asks, and are
installed as sub-packages of one distinctive import name (``dicomreg.core``, ``dicomreg.nodes``,
``dicomreg.widgets``), never as top-level ``core`` or ``nodes``. ``pyproject.toml`` cannot
discover packages under such a mapping, so they are found here: a new folder with an
``__init__.py`` is in the wheel without anyone listing it (a test builds the wheel and checks
that every source file is in it). All other metadata is in ``pyproject.toml``.
"""

from setuptools import find_packages, setup

SOURCE_FOLDERS = {"dicomreg.core": "core", "dicomreg.nodes": "nodes",
                  "dicomreg.widgets": "widgets"}

setup(
    package_dir=SOURCE_FOLDERS,
    packages=[f"{name}.{sub}" if sub else name
              for name, folder in SOURCE_FOLDERS.items()
              for sub in ("", *find_packages(folder))],
)
