"""Laterality (Type 2C) and Body Part Examined: our check agrees with dciodvfy, and
inheritance never invents a side yet never writes an error."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import dciodvfy_counts, make_case
from pydicom.uid import generate_uid

from dicomreg.core import DicomREGSave, Geometry, Image
from dicomreg.core.cli.main import main
from dicomreg.core.reg import check_dataset, write_dataset


@pytest.mark.parametrize("body_part", ["", "ABDOMEN", "HEAD", "KNEE", "LUNG", "BREAST"])
@pytest.mark.parametrize("laterality", ["DoNotWriteTagValue", "WriteEmptyTagValue", "L"])
def test_our_check_flags_exactly_what_dciodvfy_calls_an_error(tmp_path, body_part, laterality):
    module = DicomREGSave()
    module.input0 = Image(np.zeros((2, 2, 2, 3), np.float32),
                          Geometry((2, 2, 2), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)))
    module.set_many({"frameOfReferenceUID": generate_uid(),
                     "sourceFrameOfReferenceUID": generate_uid(),
                     "bodyPartExamined": body_part, "laterality": laterality,
                     "studyInstanceUID": generate_uid(), "seriesInstanceUID": generate_uid(),
                     "autoCreateStudyInstanceUID": "FALSE",
                     "autoCreateSeriesInstanceUID": "FALSE"})
    ds, problems, _ = module.compose()  # composed, not written: checks are what we test
    laterality_problems = [p for p in problems if "Laterality" in p.where]
    path = write_dataset(ds, tmp_path / "probe.dcm")  # bypasses our checks on purpose
    errors, _ = dciodvfy_counts(path)
    laterality_errors = [e for e in errors if "Laterality" in e]
    assert bool(laterality_problems) == bool(laterality_errors), (laterality_problems, errors)
    assert check_dataset(ds) == problems


@pytest.mark.parametrize(("body_part", "source_side", "expected_warnings"), [
    ("ABDOMEN", None, 0),   # unpaired: Laterality absent, clean
    ("HEAD", None, 0),
    ("KNEE", "L", 0),       # paired with a side: the side is copied
    ("LUNG", "R", 0),
    (None, "L", 0),
    ("KNEE", None, 1),      # paired, side unknown: empty, dciodvfy's one honest warning
    (None, None, 1),        # no body part, side unknown: likewise
])
def test_inherited_laterality_is_never_an_error(tmp_path, body_part, source_side,
                                                expected_warnings):
    case = make_case(tmp_path, body_part=body_part, laterality=source_side)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out), "--no-dciodvfy"]) == 0
    errors, warnings = dciodvfy_counts(out)
    assert errors == []
    assert len(warnings) == expected_warnings, warnings
    assert all("Laterality" in w for w in warnings)
