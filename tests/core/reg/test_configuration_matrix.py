"""The configuration matrix: many ``dicomreg save`` configurations, each file checked by
dciodvfy (conftest's own counter) and read with pydicom.

Every configuration must give 0 errors, and each warning must be one of the explicit,
justified kinds its configuration allows (nothing else), and no Patient ID, Birth Date or Sex
may appear that no source and no ``--set`` gave.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pydicom.data
import pytest
from conftest import (
    MATRICES,
    ROTATED,
    SITE_BLOCK_WARNINGS,
    dciodvfy_counts,
    make_case,
    write_field,
    write_multiframe,
)

from dicomreg.core.cli.main import main

# Why a warning may be there (the only ones allowed; each configuration names its own):
ALLOWED = {
    # No source and no --set names the patient: Type 2, empty when unknown; never invented.
    "patient": re.compile(r"needed to build DICOMDIR - Patient ID$"),
    # The side is unknown (no Body Part Examined, or a paired part without a side): the
    # standard asks for an empty Laterality then (dicom-reg.md); no side is invented.
    "laterality": re.compile(r"permitted to be empty when actually unknown.*<Laterality>"),
    # A private block is legitimate; dciodvfy cannot look its tags up (one warning each).
    "private": re.compile(r"^\(0x0011,0x100[12]\)  \?  - Warning - Unrecognized tag"),
    # copyOtherInputTags copies attributes the IOD lacks: a Standard Extended SOP Class.
    "extended": re.compile(r"not present in standard DICOM IOD"),
}
PATIENT = ("PatientID", "PatientBirthDate", "PatientSex")
FRAMES = ("--set", "frameOfReferenceUID=1.2.826.0.1.3680043.8.498.1",
          "--set", "sourceFrameOfReferenceUID=1.2.826.0.1.3680043.8.498.2")


def _field_on(path: Path, origin, spacing, size=(4, 3, 2)) -> Path:
    x, y, z = size
    vectors = np.random.default_rng(3).standard_normal((z, y, x, 3)).astype(np.float32)
    return write_field(path, vectors, origin=origin, spacing=spacing, direction=np.eye(3))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The inputs, made once: cases by body part and geometry, multi-frame and vendor files."""
    root = tmp_path_factory.mktemp("matrix")
    made = {}
    for name, options in {
        "abdomen": {}, "no_part": {"body_part": None}, "knee": {"body_part": "KNEE"},
        "knee_l": {"body_part": "KNEE", "laterality": "L"},
        "knee_r": {"body_part": "KNEE", "laterality": "R"},
        "same_study": {"same_study": True},
        "oblique": {"orientation": tuple(ROTATED[:, 0]) + tuple(ROTATED[:, 1]),
                    "origin": (12.0, -30.0, 7.5), "spacing": (1.5, 2.0, 2.5)},
        "tiny": {"size": (1, 1, 1)},
    }.items():
        (root / name).mkdir()
        made[name] = make_case(root / name, size=options.pop("size", (5, 4, 3)), **options)
    both = root / "abdomen"  # a tree with two volumes (fixed and moving) for --base-volume
    mf = root / "multiframe"
    mf.mkdir()
    write_multiframe(mf / "fixed.dcm", study="MF FIXED")
    write_multiframe(mf / "moving.dcm", study="MF MOVING",
                     frame_of_reference="1.2.826.0.1.3680043.8.498.77")
    _field_on(mf / "field.mha", (-10.0, -8.0, -6.0), (2.0, 2.0, 3.0), size=(8, 6, 5))
    vendor = {}
    for name in ("CT_small.dcm", "MR_small.dcm"):
        # Copied to a folder of their own: pydicom's folder holds deliberately broken files.
        (root / name[:2]).mkdir()
        copy = shutil.copy(pydicom.data.get_testdata_file(name), root / name[:2] / name)
        ds = pydicom.dcmread(copy, stop_before_pixels=True)
        spacing = (float(ds.PixelSpacing[1]), float(ds.PixelSpacing[0]),
                   float(ds.SliceThickness))
        vendor[name] = (str(copy),
                        _field_on(root / f"{name}.mha", [float(v) for v in
                                                         ds.ImagePositionPatient], spacing))
    seg = _segmentation(made["abdomen"].moving, root / "seg.dcm")
    modifiers = root / "private.json"
    modifiers.write_text(json.dumps([{"plugin": "DicomModifyTagsPlugin", "name": "site block",
                                      "operations": [
        {"op": "set_private", "group": "0011", "creator": "EXAMPLE CLINIC RT", "element": "01",
         "vr": "LO", "value": "registration reviewed"},
        {"op": "set_private", "group": "0011", "creator": "EXAMPLE CLINIC RT", "element": "02",
         "vr": "SH", "value": "PROTOCOL 7"}]}]))
    return {"root": root, "cases": made, "seg": seg, "both": both, "mf": mf, "vendor": vendor,
            "modifiers": modifiers}


def _segmentation(series: Path, path: Path) -> Path:
    """A binary SEG (highdicom) of one segment on the slices of ``series``."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    sources = sorted((pydicom.dcmread(p) for p in series.iterdir()),
                     key=lambda ds: float(ds.ImagePositionPatient[2]))
    mask = np.zeros((len(sources), sources[0].Rows, sources[0].Columns), bool)
    mask[:, 1:3, 1:4] = True
    segment = hd.seg.SegmentDescription(
        segment_number=1, segment_label="organ", segmented_property_category=codes.SCT.Organ,
        segmented_property_type=codes.SCT.Liver,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    hd.seg.Segmentation(
        source_images=sources, pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[segment],
        series_instance_uid=hd.UID(), series_number=9, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="test", manufacturer_model_name="test",
        software_versions="1", device_serial_number="1").save_as(path)
    return path


def _std(case, *extra):
    return [str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving), *extra]


def configurations(d) -> dict[str, tuple[list[str], set[str]]]:
    """name -> (save arguments without -o, the warning kinds allowed)."""
    c = d["cases"]
    a = c["abdomen"]
    mf, (ct, ct_field), (mr, mr_field) = d["mf"], d["vendor"]["CT_small.dcm"], \
        d["vendor"]["MR_small.dcm"]
    return {
        # sources present or not; each inheritance source
        "no source": ([str(a.field), *FRAMES], {"patient", "laterality"}),
        "no source, patient set": ([str(a.field), *FRAMES, "--set", "patientID=P1",
                                    "--set", "patientSexEnum=Female",
                                    "--set", "laterality=DoNotWriteTagValue",
                                    "--set", "bodyPartExamined=ABDOMEN"], set()),
        "moving only": ([str(a.field), "--moving", str(a.moving), "--set",
                         f"frameOfReferenceUID={'1.2.826.0.1.3680043.8.498.5'}"],
                        {"patient", "laterality"}),
        "fixed only": ([str(a.field), "--fixed", str(a.fixed)], set()),
        "fixed and moving": (_std(a), set()),
        "inherit file": ([str(a.field), "--inherit-file", str(sorted(a.fixed.iterdir())[0]),
                          "--moving", str(a.moving)], set()),
        "base directory": ([str(a.field), "--base", str(a.fixed), "--moving", str(a.moving)],
                           set()),
        "base volume 0": ([str(a.field), "--base", str(d["both"]), "--base-volume", "0",
                           "--moving", str(a.moving)], set()),
        "base volume 1": ([str(a.field), "--base", str(d["both"]), "--base-volume", "1",
                           "--moving", str(a.moving)], set()),
        "base file": ([str(a.field), "--base", str(sorted(a.fixed.iterdir())[0]),
                       "--moving", str(a.moving)], set()),
        # matrix types
        "pre RIGID, post AFFINE": (_std(a, *MATRICES), set()),
        "pre RIGID_SCALE": (_std(a, "--set", "preDeformationMatrix=2 0 0 1, 0 2 0 0, "
                                 "0 0 2 0, 0 0 0 1", "--set", "preDeformationMatrixType="
                                 "RIGID_SCALE"), set()),
        "pre AFFINE": (_std(a, "--set", "preDeformationMatrix=1 0.2 0 1, 0 1 0 0, 0 0 1 0, "
                            "0 0 0 1", "--set", "preDeformationMatrixType=AFFINE"), set()),
        "post RIGID": (_std(a, "--set", "postDeformationMatrix=0 -1 0 3, 1 0 0 0, 0 0 1 0, "
                            "0 0 0 1"), set()),
        "post RIGID_SCALE": (_std(a, "--set", "postDeformationMatrix=1.5 0 0 0, 0 1.5 0 0, "
                                  "0 0 1.5 0, 0 0 0 1", "--set",
                                  "postDeformationMatrixType=RIGID_SCALE"), set()),
        # grids
        "oblique": (_std(c["oblique"]), set()),
        "oblique, grid from DICOM": (_std(c["oblique"], "--set",
                                          "worldMatrixInheritanceSource=DICOM_INPUT"), set()),
        "tiny 1x1x1": (_std(c["tiny"]), set()),
        "tiny 1x1x1 with matrices": (_std(c["tiny"], *MATRICES), set()),
        # laterality and body part
        "no body part": (_std(c["no_part"]), {"laterality"}),
        "no body part, side set": (_std(c["no_part"], "--set", "laterality=R"), set()),
        "no body part, laterality not written, part set":
            (_std(c["no_part"], "--set", "bodyPartExamined=CHEST", "--set",
                  "laterality=DoNotWriteTagValue"), set()),
        "unpaired part": (_std(a), set()),
        "unpaired part, empty-laterality option off":
            (_std(a, "--set", "useEmptyLateralityTagIfNotFoundOnInheritance=FALSE"), set()),
        "paired part, no side": (_std(c["knee"]), {"laterality"}),
        "paired part, side set": (_std(c["knee"], "--set", "laterality=L"), set()),
        "paired part L": (_std(c["knee_l"]), set()),
        "paired part R": (_std(c["knee_r"]), set()),
        "paired part L, set R": (_std(c["knee_l"], "--set", "laterality=R"), set()),
        # modifiers, copied tags, studies, series
        "private block": (_std(a, "--modifiers", str(d["modifiers"])), {"private"}),
        "copyOtherInputTags": (_std(a, "--set", "copyOtherInputTags=TRUE"), {"extended"}),
        "moving in the same study": (_std(c["same_study"]), set()),
        "moving in another study, REG in a new study":
            (_std(a, "--set", "autoCreateStudyInstanceUID=TRUE"), set()),
        "same study, REG in a new study":
            (_std(c["same_study"], "--set", "autoCreateStudyInstanceUID=TRUE"), set()),
        "reference the fixed image": (_std(a, "--set", "inputConnectorSelector="
                                           "ImageConnector #0"), set()),
        "series number set, not inherited":
            (_std(a, "--set", "inheritSeriesNumber=FALSE", "--set", "seriesNumber=7"), set()),
        "equipment not inherited, content set":
            (_std(a, "--set", "inheritEquipment=FALSE", "--set",
                  "contentCreatorsName=Op^Erator", "--set", "contentLabel=CHECKED"), set()),
        "RAS components, voxel units": (_std(a, "--components", "ras", "--units", "voxel"),
                                        set()),
        # multi-frame
        "multi-frame fixed and moving": ([str(mf / "field.mha"), "--fixed",
                                          str(mf / "fixed.dcm"), "--moving",
                                          str(mf / "moving.dcm")], set()),
        "multi-frame, frames referenced": ([str(mf / "field.mha"), "--fixed",
                                            str(mf / "fixed.dcm"), "--moving",
                                            str(mf / "moving.dcm"), "--set",
                                            "referencedFrameNumbers=1-5"], set()),
        "multi-frame moving, series fixed": ([str(a.field), "--fixed", str(a.fixed),
                                              "--moving", str(mf / "moving.dcm")], set()),
        # a segmentation as the source (moving) image, its segment referenced
        "SEG moving": ([str(a.field), "--fixed", str(a.fixed), "--moving", str(d["seg"]),
                        "--set", "referencedSegmentNumbers=1"], set()),
        # real vendor files (pydicom's test data): no Body Part Examined in either
        "vendor CT fixed, MR moving": ([str(ct_field), "--fixed", ct, "--moving", mr],
                                       {"laterality"}),
        "vendor MR fixed, CT moving": ([str(mr_field), "--fixed", mr, "--moving", ct],
                                       {"laterality"}),
        "vendor CT fixed, series moving": ([str(ct_field), "--fixed", ct, "--moving",
                                            str(a.moving)], {"laterality"}),
        "vendor MR fixed only": ([str(mr_field), "--fixed", mr], {"laterality"}),
    }


def _given(arguments: list[str]) -> set[str]:
    """Every Patient ID, Birth Date and Sex a source file or a --set of the save names."""
    given: set[str] = {"F"} if "patientSexEnum=Female" in arguments else set()
    given |= {a.split("=", 1)[1] for a in arguments if a.startswith("patientID=")}
    for option in ("--fixed", "--moving", "--inherit-file", "--base"):
        if option in arguments:
            path = Path(arguments[arguments.index(option) + 1])
            for file in [path] if path.is_file() else path.rglob("*.dcm"):
                ds = pydicom.dcmread(file, stop_before_pixels=True)
                given |= {str(ds.get(k) or "") for k in PATIENT}
    return given


def test_every_configuration_is_clean_but_for_its_justified_warnings(data, tmp_path, capsys):
    configs = configurations(data)
    assert len(configs) >= 40
    tally: Counter[str] = Counter()
    errors_seen = 0
    for number, (name, (arguments, allowed)) in enumerate(configs.items()):
        out = tmp_path / f"{number}.dcm"
        assert main(["save", *arguments, "-o", str(out), "--no-dciodvfy"]) == 0, name
        errors, warnings = dciodvfy_counts(out)
        errors_seen += len(errors)
        assert errors == [], (name, errors)
        for warning in warnings:
            kinds = [kind for kind, pattern in ALLOWED.items() if pattern.search(warning)]
            assert kinds and kinds[0] in allowed, (name, warning)
            tally[kinds[0]] += 1
        if "private" in allowed:  # exactly the block's two tags
            assert sorted(warnings) == sorted(SITE_BLOCK_WARNINGS), name
        ds = pydicom.dcmread(out, stop_before_pixels=True)
        given = _given(arguments)
        for keyword in PATIENT:
            value = str(ds.get(keyword) or "")
            assert value == "" or value in given, (name, keyword, value)
    capsys.readouterr()
    print(f"{len(configs)} configurations, {errors_seen} errors, warnings {dict(tally)}")
