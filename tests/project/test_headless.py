"""dicomreg.core imports neither Qt nor Ryven (proven with those imports blocked), and names
neither them nor the node package."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from conftest import ROOT, SAMPLE

BLOCKED = ("qtpy", "PySide6", "PySide2", "PyQt5", "PyQt6", "ryven", "ryvencore",
           "ryvencore_qt")


def test_core_imports_and_runs_with_qt_and_ryven_blocked(tmp_path):
    script = textwrap.dedent(f"""
        import importlib, pkgutil, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {BLOCKED!r}:
                    raise ImportError("blocked in the headless test: " + name)

        sys.meta_path.insert(0, Block())
        import dicomreg.core
        for module in pkgutil.walk_packages(dicomreg.core.__path__, "dicomreg.core."):
            importlib.import_module(module.name)
        from dicomreg.core.cli.main import main
        status = main(["save", {str(SAMPLE / "field.mha")!r}, "--fixed",
                       {str(SAMPLE / "fixed")!r}, "-o", {str(tmp_path / "reg.dcm")!r},
                       "--no-dciodvfy"])
        loaded = sorted(n for n in sys.modules if n.split(".")[0] in {BLOCKED!r})
        print("LOADED", loaded)
        sys.exit(status)
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True,
                               text=True, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    assert "LOADED []" in completed.stdout
    assert (tmp_path / "reg.dcm").exists()


def test_core_names_neither_the_node_package_nor_ryven():
    # As `grep -rn "dicomreg.nodes\|ryven" core/` would: code, strings and docstrings alike.
    named = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sorted((ROOT / "core").rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts
             for number, line in enumerate(path.read_text(encoding="utf-8",
                                                          errors="replace").splitlines(), 1)
             if "ryven" in line or re.search(r"dicomreg.nodes", line)]
    assert named == []
