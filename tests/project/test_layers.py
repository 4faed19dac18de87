"""The layers of the design card, proven on the installed package by import-linter and grimp.

The contracts live in pyproject.toml (``[tool.importlinter]``): the core imports neither Qt
nor Ryven nor the node package or the widgets; the widgets never import Ryven or the nodes;
the nodes reach Qt and the widgets only through their GUI module; the core's folders import
only the folders below them. Within one folder, no two modules may import each other in a
cycle (import-linter has no contract for that, so grimp's graph is walked here).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest
from conftest import ROOT

CORE_FOLDERS = ("cli", "regsave", "net", "modifiers", "registration", "reg", "deformation",
                "dicom", "fields", "input", "itk", "output")


def test_import_linter_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    completed = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "4 kept, 0 broken" in completed.stdout


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("dicomreg.core", "dicomreg.nodes", "dicomreg.widgets",
                             exclude_type_checking_imports=True, cache_dir=None)


def _cycle(graph, modules: set[str]) -> list[str] | None:
    """One import cycle among ``modules`` (as a list of names), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module) & modules):
            if state.get(imported) == 1:
                return path[path.index(imported):] + [imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(modules):
        if module not in state and (found := visit(module)):
            return found
    return None


@pytest.mark.parametrize("folder", ["dicomreg.core", *(f"dicomreg.core.{f}" for f in
                                                       CORE_FOLDERS), "dicomreg.nodes",
                                    "dicomreg.widgets"])
def test_no_folder_imports_itself_in_a_cycle(graph, folder):
    modules = {m for m in graph.find_children(folder)
               if m.rsplit(".", 1)[-1] not in CORE_FOLDERS or folder != "dicomreg.core"}
    modules.add(folder)
    assert _cycle(graph, modules) is None


def test_core_names_neither_the_node_package_nor_the_editor():
    """Strings and docstrings included: the core never knows what is built on it."""
    hits = [f"{path.relative_to(ROOT)}:{number}"
            for path in sorted((ROOT / "core").rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "dicomreg.nodes" in line or "ryven" in line]
    assert hits == []


def test_every_module_of_the_core_is_in_a_layer():
    """A new folder or root module outside the layers contract would escape it unseen."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in contracts["tool"]["importlinter"]["contracts"]
                  if c["type"] == "layers")["layers"]
    named = {name.strip() for layer in layers for name in layer.split(":")}
    present = {p.stem for p in (ROOT / "core").glob("*.py") if p.stem != "__init__"}
    present |= {p.name for p in (ROOT / "core").iterdir() if (p / "__init__.py").is_file()}
    assert named == present
    assert set(CORE_FOLDERS) == {p.name for p in (ROOT / "core").iterdir()
                                 if (p / "__init__.py").is_file()}


@pytest.mark.parametrize("folder", [f for f in CORE_FOLDERS if f not in ("cli", "modifiers")])
def test_each_face_offers_its_modules_names_once(folder):
    """A face offers every name its modules declare in ``__all__``, each from one module."""
    import importlib

    face = importlib.import_module(f"dicomreg.core.{folder}")
    names = face.__all__
    assert len(names) == len(set(names)) > 3
    for name in names:
        assert getattr(face, name) is not None
