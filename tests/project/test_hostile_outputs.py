"""What an output may destroy: nothing that is not a file of its own kind, through any command.

Every command that writes (save, run, read, warp, a batch row, a flow save, the panel's save)
is aimed at generated targets: FIFOs, /dev/null's device numbers, sockets, links, directories,
files of random content, files of another kind, and genuine files of the output's kind. The
outcome is one of two: a clean one-line refusal that changed nothing and left no temporary,
or success with a valid file (read back by pydicom or SimpleITK, not by us).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import SimpleITK as sitk
from conftest import (
    HOSTILE_KINDS,
    ROOT,
    assert_clean_refusal,
    fuzz_examples,
    hostile_target,
    make_case,
    partials,
    snapshot,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydicom import dcmread

from dicomreg.core.cli.main import main

# command -> the suffix its output takes
COMMANDS = {"save": ".dcm", "run": ".dcm", "read": ".mha", "warp": ".nii.gz",
            "batch row": ".dcm", "flow save": ".json", "panel": ".dcm"}
# The writers that need Ryven (a flow run, a flow save, the panel in the editor) are not there
# where Ryven cannot be installed (Python 3.13); the others are tested everywhere.
if importlib.util.find_spec("ryven") is None:
    COMMANDS = {name: suffix for name, suffix in COMMANDS.items()
                if name not in ("run", "flow save", "panel")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A case, a REG made from it, and the example flow with its data."""
    folder = tmp_path_factory.mktemp("world")
    case = make_case(folder)
    reg = folder / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(reg), "--no-dciodvfy"]) == 0
    shutil.copy(ROOT / "example_flows" / "reg_from_field.json", folder / "flow.json")
    shutil.copytree(ROOT / "example_flows" / "data", folder / "data")
    return case, reg, folder


def _quiet(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(args)
    return status, err.getvalue()


def _write(command, target, world):
    """Aim ``command`` at ``target``; (status, stderr) as the command line would give them."""
    case, reg, folder = world
    if command == "save":
        return _quiet(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                       str(case.moving), "-o", str(target), "--no-dciodvfy"])
    if command == "run":
        return _quiet(["run", str(folder / "flow.json"), "--no-dciodvfy",
                       "--set", f"DicomREGSave.fileName={target}"])
    if command == "read":
        return _quiet(["read", str(reg), "-o", str(target)])
    if command == "warp":
        return _quiet(["warp", str(reg), str(case.moving), "-o", str(target)])
    return _write_in_process(command, target, world)


def _write_in_process(command, target, world):
    """The writers that are not commands of their own, with their errors as one line."""
    from dicomreg.core.errors import DicomRegError

    case, _reg, folder = world
    try:
        if command == "batch row":
            from dicomreg.core.regsave import read_manifest, run_case

            manifest = target.parent / "m.csv"
            manifest.write_text(f"field,output,fixed,moving\n{case.field},{target},"
                                f"{case.fixed},{case.moving}\n")
            result = run_case(read_manifest(manifest)[0], str(target.parent), dciodvfy=False)
            manifest.unlink()
            if result.status != "done":
                return 1, f"row 2: {result.error}\n"
        elif command == "flow save":
            from dicomreg.nodes.flows import load_flow, new_session, save_flow

            session = new_session()
            session.load(load_flow(folder / "flow.json"))
            save_flow(session, target)
        else:  # the panel's save: the module's, with the panel's progress callback
            from conftest import sample_module

            module = sample_module()
            module.inheritDICOMTags()
            module.updateReferencedImageSequenceUIDInheritance()
            module.set_many({"fileName": str(target), "postBadParamErrors": "TRUE"})
            module.save(progress=lambda fraction: True)
    except DicomRegError as error:
        return 1, f"{command}: error: {error}\n"
    return 0, ""


def _genuine(command, path, world):
    """A previous output of the command's kind, written by the format's own library (under
    its own suffix, then named ``path``)."""
    made = path.with_name("made" + COMMANDS[command])
    if COMMANDS[command] == ".dcm":
        dcmread(world[1]).save_as(made)
    elif COMMANDS[command] == ".json":
        shutil.copy(world[2] / "flow.json", made)
    else:
        sitk.WriteImage(sitk.Image([3, 3, 3], sitk.sitkVectorFloat32, 3), str(made))
    made.rename(path)


def _valid(command, path):
    if COMMANDS[command] == ".dcm":
        return dcmread(path).Modality == "REG"
    if COMMANDS[command] == ".json":
        from dicomreg.nodes.flows import load_flow

        return bool(load_flow(path)["flows"])
    return sitk.ReadImage(str(path)).GetNumberOfComponentsPerPixel() >= 1


def _target(folder, command, kind, content, world):
    suffix = COMMANDS[command]
    if kind in HOSTILE_KINDS:
        made = hostile_target(folder, kind)
        target = made.with_name(made.stem + suffix)
        made.rename(target)
        return target
    target = folder / f"out{suffix}"
    if kind == "random bytes":
        target.write_bytes(content)
    elif kind == "authorized_keys":
        target.write_text("ssh-ed25519 AAAAC3Nza someone@elsewhere\n")
    elif kind == "another kind":  # a file of another output's kind
        other = next(c for c in COMMANDS if COMMANDS[c] != suffix)
        _genuine(other, target, world)
    elif kind == "genuine":
        _genuine(command, target, world)
    return target  # "nothing": a new path


KINDS = [k for k in HOSTILE_KINDS if k != "device" or os.geteuid() == 0] + [
    "random bytes", "authorized_keys", "another kind", "genuine", "nothing"]


@settings(max_examples=fuzz_examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(command=st.sampled_from(sorted(COMMANDS)), kind=st.sampled_from(KINDS),
       content=st.binary(max_size=300))
def test_every_writer_refuses_what_is_not_its_own_or_writes_a_valid_file(world, command,
                                                                          kind, content):
    folder = Path(tempfile.mkdtemp(dir=world[2]))
    target = _target(folder, command, kind, content, world)
    before = snapshot(folder)
    status, err = _write(command, target, world)
    event(f"{command}: exit {status}")
    assert partials(folder) == [] and partials(world[2]) == []
    if kind in ("genuine", "nothing") or (kind == "random bytes" and status == 0):
        assert status == 0, err
        assert target.is_file() and not target.is_symlink() and _valid(command, target)
    elif kind == "directory" and command in ("save", "batch row"):
        # An existing folder as a REG's output gets REG_<SOPInstanceUID>.dcm in it, beside
        # what it held (plastimatch's --output-dicom habit); nothing there is replaced.
        assert status == 0, err
        (written,) = set(snapshot(folder)) - set(before)
        assert Path(written).name.startswith("REG_") and dcmread(written).Modality == "REG"
        assert all(snapshot(folder)[name] == value for name, value in before.items())
    else:
        line = assert_clean_refusal(status, err)
        assert str(target) in line or repr(str(target)) in line, line
        assert snapshot(folder) == before
    shutil.rmtree(folder)
