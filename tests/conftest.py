"""Shared fixtures: synthetic fixed and moving CT series and fields of any geometry.

The CT writer is the sample data script's own (``example_flows/data/make_sample_data.py``),
so the tests and the shipped data are made the same way.
"""

from __future__ import annotations

import os

# Qt tests run with PySide6 on a real X server: pytest-xvfb starts Xvfb for the session
# (pytest_configure below picks the platform once it has); set before anything imports qtpy.
os.environ.setdefault("QT_API", "pyside6")

import importlib.util  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import SimpleITK as sitk  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "example_flows" / "data"


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """One Qt platform for the whole session (Qt picks it once per process): the X server
    pytest-xvfb started (xcb), so that the windows are painted, shown, focused and typed into
    as a person's are; offscreen only where no Xvfb is installed, and then the tests that
    need a real display fail, naming what to install (see ``real_display``)."""
    import pytest_xvfb

    if pytest_xvfb.xvfb_instance is not None:
        os.environ["QT_QPA_PLATFORM"] = "xcb"
    else:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def real_display(qapp):
    """The application on a real X server (Xvfb): the tests of the editor as a person uses
    it paint, focus and type, which the offscreen platform does not do faithfully."""
    if qapp.platformName() != "xcb":
        pytest.fail(f"this test needs a real X display, not Qt's {qapp.platformName()!r} "
                    "platform: install Xvfb and the xcb libraries (the README's apt line)")
    return qapp


def focus(qtbot, widget):
    """Bring ``widget``'s window to the front and give ``widget`` the keyboard focus, as a
    person's click does: on a real X server keys go to the active window's focus only."""
    window = widget.window()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    widget.setFocus()
    qtbot.waitUntil(lambda: widget.hasFocus() or widget.isAncestorOf(
        widget.window().focusWidget() or widget), timeout=5000)


def pytest_report_header(config):
    """Say which dicomreg the suite tests: the checkout (editable) or an installed package.

    CI sets DICOMREG_EXPECT_INSTALLED=1 when it runs the suite against a wheel; then a
    ``dicomreg`` imported from this source tree would mean the wheel was never tested.
    """
    import dicomreg.core

    where = Path(dicomreg.core.__file__).resolve().parent
    installed = ROOT not in where.parents
    if os.environ.get("DICOMREG_EXPECT_INSTALLED") == "1" and not installed:
        raise pytest.UsageError(f"dicomreg is imported from the source tree ({where}), "
                                "not from the installed package under test")
    return f"dicomreg: {where} ({'installed' if installed else 'source tree'})"

_spec = importlib.util.spec_from_file_location("make_sample_data",
                                               SAMPLE / "make_sample_data.py")
sample_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample_data)


@dataclass
class Case:
    """Paths of one synthetic registration case."""

    field: Path
    fixed: Path
    moving: Path
    vectors: np.ndarray  # (Z, Y, X, 3) as written to the field file


def write_field(path: Path, vectors: np.ndarray, *, origin, spacing, direction) -> Path:
    """A displacement field file as ITK writes one."""
    image = sitk.GetImageFromArray(vectors, isVector=True)
    image.SetOrigin(tuple(float(v) for v in origin))
    image.SetSpacing(tuple(float(v) for v in spacing))
    image.SetDirection(tuple(float(v) for v in np.asarray(direction).ravel()))
    sitk.WriteImage(image, str(path))
    return path


def make_case(tmp_path: Path, *, size=(8, 6, 4), spacing=(2.0, 2.0, 3.0),
              orientation=(1, 0, 0, 0, 1, 0), origin=(-10.0, -8.0, -6.0),
              same_study: bool = False, dtype=np.float32, seed: int = 0,
              body_part: str | None = "ABDOMEN", laterality: str | None = None) -> Case:
    """Fixed and moving CT series of the same patient, and a field on the fixed grid."""
    rng = np.random.default_rng(seed)
    x, y, z = size
    fixed_hu = rng.integers(-1000, 1000, size=(z, y, x)).astype(float)
    moving_hu = rng.integers(-1000, 1000, size=(z, y, x)).astype(float)
    tag = f"{tmp_path.name}-{seed}"
    sample_data.write_series(tmp_path / "fixed", fixed_hu, origin=origin, spacing=spacing,
                             orientation=orientation, study=f"FIXED {tag}", series_number=2,
                             study_date="20260105", description="Fixed CT",
                             body_part=body_part, laterality=laterality)
    moving_study = f"FIXED {tag}" if same_study else f"MOVING {tag}"
    sample_data.write_series(tmp_path / "moving", moving_hu, origin=origin, spacing=spacing,
                             orientation=orientation, study=moving_study, series_number=3,
                             study_date="20260212", description="Moving CT",
                             frame_of_reference=sample_data.uid(f"moving frame {tag}"),
                             body_part=body_part, laterality=laterality)
    vectors = (rng.standard_normal((z, y, x, 3)) * 3).astype(dtype)
    row, column = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    direction = np.column_stack([row, column, np.cross(row, column)])
    field = write_field(tmp_path / "field.mha", vectors, origin=origin, spacing=spacing,
                        direction=direction)
    return Case(field=field, fixed=tmp_path / "fixed", moving=tmp_path / "moving",
                vectors=vectors)


def write_multiframe(path: Path, frames: int = 5, *, size=(8, 6), spacing=(2.0, 2.0, 3.0),
                     origin=(-10.0, -8.0, -6.0), study: str = "MULTIFRAME",
                     frame_of_reference: str | None = None) -> Path:
    """An Enhanced CT multi-frame instance with per-frame plane positions."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    uid = sample_data.uid
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT Image Storage
    ds.SOPInstanceUID = uid(f"{study} multiframe instance")
    ds.Modality = "CT"
    ds.PatientName, ds.PatientID = "Phantom^Abdomen", "DICOMREG-SAMPLE-01"
    ds.PatientBirthDate, ds.PatientSex = "19700315", "O"
    ds.StudyInstanceUID = uid(f"study {study}")
    ds.SeriesInstanceUID = uid(f"series {study} multiframe")
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20260301", "1000", "MF", ""
    ds.SeriesNumber, ds.InstanceNumber = 5, 1
    ds.FrameOfReferenceUID = frame_of_reference or uid(f"frame of reference {study}")
    ds.BodyPartExamined = "ABDOMEN"
    ds.Rows, ds.Columns = size[1], size[0]
    ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    measures, orientation = Dataset(), Dataset()
    measures.PixelSpacing = [spacing[1], spacing[0]]
    measures.SliceThickness = measures.SpacingBetweenSlices = spacing[2]
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared = Dataset()
    shared.PixelMeasuresSequence, shared.PlaneOrientationSequence = [measures], [orientation]
    ds.SharedFunctionalGroupsSequence = [shared]
    ds.PerFrameFunctionalGroupsSequence = []
    for k in range(frames):
        position, group = Dataset(), Dataset()
        position.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[2]]
        group.PlanePositionSequence = [position]
        ds.PerFrameFunctionalGroupsSequence.append(group)
    ds.PixelData = np.zeros((frames, size[1], size[0]), "<u2").tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, \
        ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def case(tmp_path: Path) -> Case:
    """A small default case."""
    return make_case(tmp_path)


# dciodvfy's messages, read here independently of dicomreg's own parser: "Kind - " opening a
# line or following "  - " (as in "(0x0011,0x1001)  ?  - Warning - Unrecognized tag").
DCIODVFY_MESSAGE = re.compile(r"(?:^|  - )(?P<kind>Error|Warning|Abort) - ", re.MULTILINE)
# What dciodvfy honestly says about the private block of the shipped modifier chain (and of
# the example flow reg_with_modifiers.json): it cannot look up private tags, one warning each.
SITE_BLOCK_WARNINGS = [f"(0x0011,0x100{n})  ?  - Warning - Unrecognized tag - assuming explicit "
                       "value representation OK" for n in (1, 2)]


def dciodvfy_counts(path: Path) -> tuple[list[str], list[str]]:
    """dciodvfy's Error (and Abort) and Warning lines for a file, by running the dciodvfy
    binary here and counting with this file's own expression (dciodvfy must be installed)."""
    executable = shutil.which("dciodvfy")
    assert executable, "dciodvfy is a test tool: apt-get install dicom3tools"
    completed = subprocess.run([executable, str(path)], capture_output=True, text=True,
                               errors="replace", check=False)
    errors, warnings = [], []
    for line in (completed.stdout + completed.stderr).splitlines():
        for found in DCIODVFY_MESSAGE.finditer(line):
            (warnings if found["kind"] == "Warning" else errors).append(line)
    return errors, warnings


@pytest.fixture
def flow_window(qtbot):
    """A window with a ryvencore_qt session of this package (the editor's flow views).

    On teardown the node items' animations are stopped: ryvencore_qt leaves them running
    when a window closes, and they then paint items Qt has already deleted.
    """
    from qtpy.QtWidgets import QMainWindow
    from ryvencore_qt import SessionGUI

    from dicomreg.nodes.flows import register

    window = QMainWindow()
    qtbot.addWidget(window)
    session_gui = SessionGUI(window)
    register(session_gui.core_session, gui=True)
    yield window, session_gui
    for view in session_gui.flow_views.values():
        for item in view.node_items.values():
            item.animator.stop()


def sample_module():
    """A DicomREGSave module wired to the shipped sample: field (with the fixed series' DICOM)
    at input0, the moving series at input1, the grid from the field's own world matrix."""
    from dicomreg.core import DicomREGSave
    from dicomreg.core.deformation import read_displacement_field
    from dicomreg.core.dicom import read_volume

    module = DicomREGSave()
    module.input0 = read_displacement_field(SAMPLE / "field.mha")
    module.input0.datasets = read_volume(SAMPLE / "fixed").datasets
    module.input1 = read_volume(SAMPLE / "moving")
    module.set("worldMatrixInheritanceSource", "IMAGE_INPUT")
    return module


# --- shared by the interoperability tests (conventions, transform files, applying, reading) ---

ROTATED = np.array([[0.8, -0.6, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
# Matrices for --set: a RIGID pre (90 degrees about z, then a shift), an AFFINE post.
PRE = "0 -1 0 10, 1 0 0 -5, 0 0 1 2, 0 0 0 1"
POST = "1.05 0.1 0 3, 0 0.95 0.05 -2, 0 0 1.02 1, 0 0 0 1"
MATRICES = ("--set", f"preDeformationMatrix={PRE}", "--set", f"postDeformationMatrix={POST}",
            "--set", "postDeformationMatrixType=AFFINE")


def matrix(text: str) -> np.ndarray:
    """A 4x4 matrix from the field's text form ("a b c d, e f g h, ...")."""
    return np.array([[float(v) for v in row.split()] for row in text.split(",")])


def save(case, field, out, *extra):
    """``dicomreg save`` of FIELD with the case's fixed and moving series; the REG read back."""
    from dicomreg.core.cli.main import main
    from dicomreg.core.reg import read_deformable_registration

    assert main(["save", str(field), "--fixed", str(case.fixed), "--moving", str(case.moving),
                 "-o", str(out), "--no-dciodvfy", *extra]) == 0, extra
    return read_deformable_registration(out)


def save_on_fixed(case, out: Path, *extra: str) -> Path:
    """``dicomreg save`` of the case's field with its fixed series alone (no dciodvfy)."""
    from dicomreg.core.cli.main import main

    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy", *extra]) == 0, extra
    return out


def fields_but_status(module) -> dict:
    """A module's field values but its status (an output that says what the last action did)."""
    values = module.values()
    values.pop("status")
    return values


def grid(registration):
    return np.asarray(registration.deformable_item.grid.voxels)


@pytest.fixture
def rotated_case(tmp_path):
    orientation = tuple(ROTATED[:, 0]) + tuple(ROTATED[:, 1])
    return make_case(tmp_path, size=(10, 8, 6), orientation=orientation,
                     spacing=(1.5, 2.0, 2.5), origin=(12.0, -30.0, 7.5))


# --- shared by the hostile-input tests (outputs, flows, batches) ---

def fuzz_examples(count: int) -> int:
    """A bulk test's budget: ``count`` examples, twenty times as many with DICOMREG_FUZZ=long."""
    return count * 20 if os.environ.get("DICOMREG_FUZZ") == "long" else count


def assert_clean_refusal(status: int, stderr: str, *fragments: str) -> str:
    """Exit 1, one line on stderr, no traceback, naming each fragment; the line."""
    lines = stderr.strip().splitlines()
    assert status == 1, stderr
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def partials(folder: Path) -> list[str]:
    """Hidden working directories of atomic writes left in ``folder`` (recursively)."""
    return [str(p) for p in folder.rglob(".*.partial")]


def hostile_target(folder: Path, kind: str) -> Path:
    """A path in ``folder`` that no output may replace, of the given kind: a FIFO, a character
    device (/dev/null's numbers; root only), a socket, links to a file and to nowhere, a
    directory. Made only inside ``folder``."""
    import socket
    import stat

    path = folder / f"hostile-{kind}.dcm"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        if os.geteuid() != 0:
            pytest.skip("a device node needs root")
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    elif kind == "socket":
        server, here = socket.socket(socket.AF_UNIX), os.getcwd()
        os.chdir(folder)  # a socket's path is limited to 108 bytes: bind the short name
        try:
            server.bind(path.name)
        finally:
            os.chdir(here)
            server.close()
    elif kind == "link":
        (folder / "linked.txt").write_text("the link's target")
        path.symlink_to(folder / "linked.txt")
    elif kind == "dangling link":
        path.symlink_to(folder / "nowhere")
    elif kind == "directory":
        path.mkdir()
    else:
        raise ValueError(kind)
    return path


HOSTILE_KINDS = ("fifo", "device", "socket", "link", "dangling link", "directory")


def snapshot(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under ``folder``: its type bits and, for a regular file, its bytes."""
    import stat

    out = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        out[str(path)] = (stat.S_IFMT(info.st_mode),
                          path.read_bytes() if stat.S_ISREG(info.st_mode) else None)
    return out


def full_header_reads(monkeypatch) -> list[Path]:
    """The files whose full header pydicom reads from now on (through the series reader),
    appended as they are read."""
    import dicomreg.core.dicom.series as series

    read: list[Path] = []
    real = series.dcmread

    def counted(path, **options):
        read.append(Path(path))
        return real(path, **options)

    monkeypatch.setattr(series, "dcmread", counted)
    return read
