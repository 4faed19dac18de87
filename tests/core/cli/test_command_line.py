"""The command line's shape: its commands, their help, --version, plugin commands, and the
imports a light command does without."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib import metadata

import pytest
from conftest import ROOT, SAMPLE

import dicomreg.core.deformation
from dicomreg.core.cli import main as cli_main
from dicomreg.core.cli import plugins
from dicomreg.core.cli.main import build_parser, main

# Written out here, not taken from the code: what the README documents.
COMMANDS = ["save", "register", "read", "warp", "map", "validate", "dump", "scan", "fields",
            "batch", "echo", "find", "fetch", "send", "run", "editor"]
# The commands that read DICOM through pydicom, whose reading warnings are quieted.
READING_DICOM = {"save", "register", "read", "warp", "map", "validate", "dump", "run"}


def commands_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subparsers.choices)


def test_the_commands_are_the_modules_and_the_entry_points():
    modules = [name for module in cli_main.COMMAND_MODULES for name in module.COMMANDS]
    entry_points = [e.name for e in metadata.entry_points(group="dicomreg.commands")]
    assert {"run", "editor"} <= set(entry_points)
    assert list(commands_of(build_parser())) == modules + entry_points
    assert sorted(modules + entry_points) == sorted(COMMANDS)


def test_the_listing_is_the_same_whether_or_not_every_parser_is_built():
    # main builds only the chosen command's parser in full; the list must not show it.
    assert build_parser("").format_help() == build_parser().format_help()
    assert list(commands_of(build_parser("run"))) == list(commands_of(build_parser()))
    # After one of our own commands' names nothing else is parsed: no plugin is loaded.
    assert list(commands_of(build_parser("scan"))) == cli_main.builtin_commands()


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as ended:
        main([command, "--help"])
    out, err = capsys.readouterr()
    assert ended.value.code == 0, err
    assert out.startswith(f"usage: dicomreg {command}")
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_described_and_every_argument_helped(command):
    parser = commands_of(build_parser())[command]
    assert parser.description
    for action in parser._actions:
        assert action.help, f"{command} {action.dest}"
    assert bool(parser.get_default("reads_dicom")) == (command in READING_DICOM)


def test_map_without_arguments_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as ended:
        main(["map"])
    out, err = capsys.readouterr()
    assert ended.value.code == 2
    assert err.startswith("usage: dicomreg map")
    assert err.rstrip().splitlines()[-1] == (
        "dicomreg map: error: the following arguments are required: reg, X, Y, Z")


def test_version(capsys):
    with open(ROOT / "pyproject.toml", "rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out == f"dicomreg {version}\n"


def test_batch_help_lists_every_manifest_column(capsys):
    from dicomreg.core.regsave.batch import _COLUMNS

    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    out = capsys.readouterr().out
    columns = ["field", "output", "fixed", "moving", "modifiers", "fixed_volume",
               "moving_volume", "components", "units", "kind", "direction", "set:FIELDNAME"]
    for column in [*columns, *_COLUMNS]:
        assert re.search(rf"(^|[\s,]){re.escape(column)}([\s,]|$)", out, re.M), column


def test_convention_choices_come_from_the_conventions(monkeypatch):
    def conventions(parser):
        return {a.dest: (a.choices, a.default) for a in parser._actions
                if a.dest in ("components", "units", "kind", "direction", "handedness")}

    save = commands_of(build_parser("save"))["save"]
    assert conventions(save) == {option: (choices, choices[0]) for option, choices
                                 in dicomreg.core.deformation.CONVENTION_OPTIONS.items()}
    monkeypatch.setattr(dicomreg.core.deformation, "CONVENTION_OPTIONS",
                        {"components": ("ras", "lps"), "handedness": ("right", "left")})
    save = commands_of(build_parser("save"))["save"]
    assert conventions(save) == {"components": (("ras", "lps"), "ras"),
                                 "handedness": (("right", "left"), "right")}


class _MissingModule:
    """An entry point whose module needs one that is not installed."""

    name, value = "ghost", "ghost_plugin:add_parser"
    dist = metadata.distribution("ryven-dicomreg")

    def load(self):
        raise ModuleNotFoundError("No module named 'ryven'", name="ryven")


def test_a_plugin_that_cannot_be_imported_is_listed_and_says_what_to_install(
        monkeypatch, capsys):
    real = plugins.plugin_entry_points()
    monkeypatch.setattr(plugins, "plugin_entry_points", lambda: [*real, _MissingModule()])
    assert "ghost" in commands_of(build_parser(""))
    status = main(["ghost", "flow.json", "--set", "A.b=c"])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    # Where Ryven's marker excludes this Python (3.13), the hint says so too.
    beyond = (" ('ryven-dicomreg[flows]' needs Python < 3.13; this is Python "
              f"{sys.version_info[0]}.{sys.version_info[1]})" if sys.version_info >= (3, 13)
              else "")
    assert err == ("dicomreg ghost: error: needs the module ryven, which is not installed: "
                   f"pip install 'ryven-dicomreg[flows]'{beyond}\n")
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    assert "needs Python < 3.13; this is Python 3.13" in plugins.install_hint(
        _MissingModule(), ModuleNotFoundError(name="ryven"))


def test_run_and_editor_without_ryven_say_what_to_install(tmp_path):
    flow = tmp_path / "flow.json"
    flow.write_text((ROOT / "example_flows" / "reg_from_field.json").read_text())
    script = textwrap.dedent(f"""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("ryven", "ryvencore", "ryvencore_qt"):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, Block())
        from dicomreg.core.cli.main import main
        print("RUN", main(["run", {str(flow)!r}]))
        print("EDITOR", main(["editor"]))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               cwd=tmp_path, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert completed.stdout.split() == ["RUN", "1", "EDITOR", "1"], completed.stderr
    run_line, editor_line = completed.stderr.splitlines()
    beyond = (re.escape(" (Ryven needs Python < 3.13; this is Python "
                        f"{sys.version_info[0]}.{sys.version_info[1]})")
              if sys.version_info >= (3, 13) else "")
    assert re.fullmatch(r"dicomreg run: error: needs ryven(core)?, which is not installed: "
                        r"pip install 'ryven-dicomreg\[flows\]'" + beyond, run_line)
    # Where no Qt binding is installed either (3.13), the editor names that first.
    missing = r"(needs ryven(core)?, which is not installed" + (
        r"|No Qt bindings could be found)" if sys.version_info >= (3, 13) else r")")
    assert re.fullmatch(r"dicomreg editor: error: " + missing + ": "
                        r"pip install 'ryven-dicomreg\[gui\]'" + beyond, editor_line)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [["scan", str(SAMPLE / "fixed")], ["--help"], ["save", "--help"],
                                  ["batch", "--help"]])
def test_light_commands_import_neither_pydicom_nor_simpleitk(args):
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m",
                                "dicomreg.core.cli.main", *args], capture_output=True,
                               text=True, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()
                if line.startswith("import time:")}
    assert "dicomreg.core.cli.main" in imported or "dicomreg.core.cli" in imported
    assert not {name.split(".")[0] for name in imported} & {"pydicom", "SimpleITK", "numpy"}
    if args[0] == "scan":  # a built-in command loads no plugin (importlib.metadata's cost)
        assert "1 volume(s)" in completed.stdout
        assert "importlib.metadata" not in imported


def test_a_metaimage_save_imports_neither_simpleitk_highdicom_nor_pydicoms_downloaders(
        tmp_path):
    # pydicom imports requests and tqdm for its test-data downloads alone (a sixth of a small
    # save's start-up); they stay importable afterwards for the DICOMweb client.
    script = textwrap.dedent(f"""
        import sys
        from dicomreg.core.cli.main import main
        status = main(["save", {str(SAMPLE / "field.mha")!r}, "--fixed",
                       {str(SAMPLE / "fixed")!r}, "--moving", {str(SAMPLE / "moving")!r},
                       "-o", {str(tmp_path / "reg.dcm")!r}, "--no-dciodvfy"])
        loaded = {{name.split(".")[0] for name, module in sys.modules.items() if module}}
        print(status, sorted(loaded & {{"SimpleITK", "requests", "tqdm", "pydicom",
                                        "highdicom"}}))
        # a local save fetches nothing: the DIMSE and DICOMweb modules stay unimported
        print(sorted(n for n in sys.modules if n.startswith("dicomreg.core.net.")))
        import importlib, importlib.util
        for name in ("requests", "tqdm"):  # importable still, where installed
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        print("imported")
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               cwd=tmp_path)
    assert completed.stdout.splitlines()[-3:] == [
        "0 ['pydicom']", "['dicomreg.core.net.peers']", "imported"], (
        completed.stdout + completed.stderr)
    assert (tmp_path / "reg.dcm").stat().st_size > 0


def test_the_lazy_faces_read_each_modules_all_as_its_source_declares_it():
    # The faces read __all__ with a pattern, not a parse of the whole module; Python's own
    # parser is the oracle, over every module of the core.
    import ast

    from dicomreg.core.lazy_exports import _declared_names

    checked = 0
    for path in sorted((ROOT / "core").rglob("*.py")):
        if path.name == "__init__.py":
            continue
        declared = [ast.literal_eval(node.value) for node in ast.parse(path.read_text()).body
                    if isinstance(node, ast.Assign)
                    and any(getattr(t, "id", "") == "__all__" for t in node.targets)]
        if not declared:
            continue
        module = "dicomreg." + ".".join(path.relative_to(ROOT).with_suffix("").parts)
        assert _declared_names(module) == tuple(declared[0]), module
        checked += 1
    assert checked > 50


def test_without_ryven_on_python_3_13_the_hint_says_ryven_needs_an_older_python(monkeypatch):
    from dicomreg.core.errors import DicomRegError
    from dicomreg.nodes.commands import _needs

    monkeypatch.setattr(sys, "version_info", (3, 13, 1, "final", 0))
    with pytest.raises(DicomRegError) as refused, _needs("flows", {"ryven"}):
        raise ModuleNotFoundError("No module named 'ryven'", name="ryven")
    assert str(refused.value) == ("needs ryven, which is not installed: pip install "
                                  "'ryven-dicomreg[flows]' (Ryven needs Python < 3.13; this "
                                  "is Python 3.13)")
