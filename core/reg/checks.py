"""Checks before writing: what dciodvfy checks, and what it does not.

Two stages. :func:`check_fields` looks at the field values and the ``input0`` field before
composing (geometry agreement, matrix types, the vectors themselves, references).
:func:`check_dataset` looks at the composed Dataset, again after the modifier plugins: the
Type 1 and 2 attributes of every mandatory module (from the standard's tables), every text
value against its VR, the grid (one item, orthonormal orientation, data length = dimensions),
the matrices, and the Common Instance Reference covering every referenced image. A dataset
with any problem is not written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import Tag
from pydicom.uid import DeformableSpatialRegistrationStorage, SegmentationStorage

from dicomreg.core.dicom import body_part_is_paired, iod_requirements
from dicomreg.core.fields import (
    FieldValueError,
    PrintListError,
    parse_print_lists,
    patient_birth_date,
    patient_sex,
    uid_lines,
    validate_dicom_text,
)
from dicomreg.core.matrices import MATRIX_TYPES, matrix_problem
from dicomreg.core.reg.common_instance_reference import ReferenceFieldsError, series_groups
from dicomreg.core.reg.deformable_registration import right_handed_grid
from dicomreg.core.reg.grid_geometry import DIRECTION_TOLERANCE, grid_geometry_problems
from dicomreg.core.reg.vector_grid import release_pages

__all__ = ["Problem", "check_dataset", "check_fields", "check_vectors"]

_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UI"}
_MAX_VALUE_LENGTH = 0xFFFFFFFE
_POSITION_TOLERANCE_MM = 1e-3
_DIRECTION_TOLERANCE = DIRECTION_TOLERANCE


@dataclass(frozen=True)
class Problem:
    """One reason not to write: where (a field or an attribute path) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _name(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    return f"{keyword} {Tag(tag)}" if tag is not None else keyword


# --- stage 1: fields and image ----------------------------------------------------------------


def _numbers(values: Any) -> str:
    """Numbers as the fields write them: '1.5 -2 30'."""
    return " ".join(f"{float(v):.6g}" for v in np.asarray(values, float).ravel())


def _stored(chunk: np.ndarray) -> np.ndarray:
    """The components as Vector Grid Data stores them (float32): a float64 beyond float32's
    range becomes infinite there, so it is checked after this cast, not before."""
    with np.errstate(over="ignore", invalid="ignore"):
        return chunk.astype(np.float32, copy=False)


def _first_vector_problem(voxels: np.ndarray, first_slice: int = 0) -> str | None:
    """:func:`check_vectors`'s first problem for a run of slices starting at ``first_slice``
    (as a message), or None."""
    problems = check_vectors(voxels, first_slice)
    return str(problems[0]) if problems else None


def check_vectors(voxels: np.ndarray, first_slice: int = 0) -> list[Problem]:
    """Infinite components (as stored: float32), and vectors only partly NaN, are refused;
    all-NaN means undefined.

    The array is scanned slab by slab, so no full-size temporary is made. ``first_slice``
    is the z index of the array's first slice (a run of a larger field), for the messages.
    """
    if not np.issubdtype(voxels.dtype, np.floating):
        return []  # integers up to 2^64 are finite in float32 (its range is 3.4e38)
    step = max(1, (8 << 20) // max(1, voxels[0].nbytes)) if voxels.shape[0] else 1
    for first in range(0, voxels.shape[0], step):
        chunk = voxels[first : first + step]
        stored = _stored(chunk)
        # Fast path, exact: a chunk with only finite components needs no closer look.
        finite = bool(np.isfinite(stored).all())
        release_pages(chunk)
        if finite:
            continue
        infinite = np.isinf(stored)
        if infinite.any():
            z, y, x, c = np.argwhere(infinite)[0]
            value = float(chunk[z, y, x, c])
            beyond = ("" if np.isinf(value) else f" as stored: {'xyz'[c]} = {value:g} is beyond "
                      f"float32's range ({float(np.finfo(np.float32).max):.4g}), the type of "
                      "Vector Grid Data")
            z = z + first + first_slice
            return [Problem("input0", f"vector at voxel (x={x}, y={y}, z={z}) has an "
                            f"infinite component{beyond}; expected finite millimetres, or NaN "
                            "in all three components for 'undefined'")]
        nan = np.isnan(stored)
        partial = nan.any(axis=-1) & ~nan.all(axis=-1)
        if partial.any():
            z, y, x = np.argwhere(partial)[0]
            z = z + first + first_slice
            return [Problem("input0", f"vector at voxel (x={x}, y={y}, z={z}) is NaN "
                            "in some components only; NaN ('undefined') must fill all three")]
    return []


def _check_image(values: Mapping[str, Any], image: Any) -> list[Problem]:
    if image is None:
        return [Problem("input0", "no displacement field is connected; expected a 3-D image "
                        "with 3 components per voxel")]
    voxels = image.voxels
    if voxels is None or voxels.ndim != 4 or voxels.shape[3] != 3:
        shape = "no voxels" if voxels is None else f"shape {voxels.shape}"
        return [Problem("input0", f"'{image.source or 'image'}' has {shape}; expected a 3-D "
                        "image with 3 components per voxel (Z, Y, X, 3)")]
    if not np.issubdtype(voxels.dtype, np.number) or np.issubdtype(voxels.dtype,
                                                                    np.complexfloating):
        return [Problem("input0", f"voxels of type {voxels.dtype}; expected real numbers")]
    if min(voxels.shape[:3]) < 1:
        return [Problem("input0", f"the grid {image.dimensions} (x by y by z) is empty")]
    if image.geometry is None:
        return [Problem("input0", "the field has no world matrix (origin, spacing, direction)")]
    if hasattr(voxels, "slab_check"):
        # Streamed (inflated as it is written): each slab is checked as it comes out, and a
        # refused one stops the write, which then leaves no file.
        voxels.slab_check = _first_vector_problem
        problems = []
    else:
        problems = check_vectors(voxels)
    if voxels.size * 4 > _MAX_VALUE_LENGTH:
        problems.append(Problem("input0", f"{voxels.size * 4} bytes of vectors exceed the "
                                "4 GiB limit of one DICOM value"))
    spacing = np.asarray(image.geometry.spacing, float)
    if not (np.all(np.isfinite(spacing)) and np.all(spacing > 0)):
        problems.append(Problem("input0", f"spacing {tuple(spacing)} must be positive"))
        return problems
    direction = image.geometry.direction_matrix
    if not np.allclose(direction.T @ direction, np.eye(3), atol=_DIRECTION_TOLERANCE):
        problems.append(Problem("input0", "the field's axes are not orthogonal unit vectors (a "
                                "sheared grid, as from a gantry tilt); a DICOM grid needs "
                                "orthogonal axes: resample the field onto such a grid"))
        return problems
    grid, _ = right_handed_grid(image.geometry)
    position = np.asarray(values["imagePositionPatient"], float)
    if not np.allclose(position, grid.origin, atol=_POSITION_TOLERANCE_MM, rtol=0):
        problems.append(Problem(
            "imagePositionPatient",
            f"'{_numbers(position)}' differs from the field's first voxel position "
            f"'{_numbers(grid.origin)}'; inherit it with "
            "worldMatrixInheritanceSource=IMAGE_INPUT or correct it"))
    orientation = np.asarray(values["imageOrientationPatient"], float)
    expected = np.asarray(grid.image_orientation_patient, float)
    if not np.allclose(orientation, expected, atol=_DIRECTION_TOLERANCE, rtol=0):
        problems.append(Problem(
            "imageOrientationPatient",
            f"'{_numbers(orientation)}' differs from the field's direction "
            f"'{_numbers(expected)}'; inherit it with "
            "worldMatrixInheritanceSource=IMAGE_INPUT or correct it"))
    return problems


# With Label Map Segmentation Storage (PS3.4, 2024), which pydicom 3.0's UID list lacks.
_SEGMENTATION_STORAGE = {SegmentationStorage, "1.2.840.10008.5.1.4.1.1.66.7"}


def _check_numbers(name: str, lists: list[list[int]], instances: list[str],
                   catalogue: Mapping[str, Any]) -> list[Problem]:
    """Frame numbers only for multi-frame instances and within their frames; segment numbers
    only for segmentations and within their segments (where the referenced instances are
    known)."""
    for index, (numbers, uid) in enumerate(zip(lists, instances, strict=False), 1):
        known = catalogue.get(uid)
        if not numbers or known is None:
            continue
        if name == "referencedFrameNumbers":
            if known.number_of_frames <= 1:
                return [Problem(name, f"list {index} gives frame numbers for instance {uid}, "
                                "which is not a multi-frame image")]
            if max(numbers) > known.number_of_frames:
                return [Problem(name, f"list {index}: frame {max(numbers)} is beyond the "
                                f"{known.number_of_frames} frames of instance {uid}")]
        elif known.sop_class_uid not in _SEGMENTATION_STORAGE:
            return [Problem(name, f"list {index} gives segment numbers for instance {uid}, "
                            "which is not a segmentation")]
        elif known.number_of_segments is not None and max(numbers) > known.number_of_segments:
            return [Problem(name, f"list {index}: segment {max(numbers)} is beyond the "
                            f"{known.number_of_segments} segments of instance {uid}")]
    return []


def _check_references(values: Mapping[str, Any],
                      catalogue: Mapping[str, Any]) -> list[Problem]:
    problems = []
    classes = uid_lines(values["referencedImageSequenceReferencedSOPClassUIDs"])
    instances = uid_lines(values["referencedImageSequenceReferencedSOPInstanceUIDs"])
    if len(classes) != len(instances):
        problems.append(Problem(
            "referencedImageSequenceReferencedSOPInstanceUIDs",
            f"{len(instances)} instance UIDs but {len(classes)} class UIDs; give one class "
            "UID per instance UID, line by line"))
    for name in ("referencedFrameNumbers", "referencedSegmentNumbers"):
        try:
            lists = parse_print_lists(values[name])
        except PrintListError as error:
            problems.append(Problem(name, str(error)))
            continue
        if len(lists) > len(instances):
            problems.append(Problem(name, f"{len(lists)} lists for {len(instances)} "
                                    "referenced images; at most one list per image"))
        else:
            problems += _check_numbers(name, lists, instances, catalogue)
    return problems + _check_instance_reference_fields(values, instances, catalogue)


def _listed_instances(values: Mapping[str, Any]) -> tuple[dict[str, tuple[str, str, str]],
                                                          list[Problem]]:
    """Instance UID -> (field, study, series) the Common Instance Reference fields list it
    under (the REG's own study for the referencedSeries fields)."""
    listed: dict[str, tuple[str, str, str]] = {}
    problems = []
    for kind in ("referencedSeries", "referencedStudies"):
        try:
            for study, series, _classes, uids in series_groups(values, kind):
                for uid in uids:
                    listed[uid] = (f"{kind}SeriesInstanceUID",
                                   study or values["studyInstanceUID"], series)
        except ReferenceFieldsError as error:
            problems.append(Problem(*str(error).split(": ", 1)))
    return listed, problems


def _check_instance_reference_fields(values: Mapping[str, Any], instances: list[str],
                                     catalogue: Mapping[str, Any]) -> list[Problem]:
    """The Common Instance Reference fields and the Referenced Image Sequence agree, both
    ways, and each instance is listed under its own series and study where it is known."""
    listed, problems = _listed_instances(values)
    own = values["studyInstanceUID"]
    if values["commonInstanceReferenceStudyInstanceUID"] and own in \
            uid_lines(values["commonInstanceReferenceStudyInstanceUID"]):
        problems.append(Problem("commonInstanceReferenceStudyInstanceUID",
                                "names the REG's own study; its series belong in the "
                                "referencedSeries fields (run updateUIDInheritance)"))
    missing = [uid for uid in instances if uid not in listed]
    if missing:
        remedy = ("run updateUIDInheritance" if missing[0] in catalogue else
                  "their series and study are not known here (typed by hand?): list them in "
                  "the referencedSeries fields (the REG's study) or the referencedStudies "
                  "fields (other studies), or reference the image itself with "
                  "updateReferencedImageSequenceUIDInheritance")
        problems.append(Problem(
            "referencedImageSequenceReferencedSOPInstanceUIDs",
            f"{len(missing)} referenced image(s) (first {missing[0]}) are not in the Common "
            f"Instance Reference fields; {remedy}"))
    referenced = set(instances)
    extra = [uid for uid in listed if uid not in referenced]
    if extra:
        problems.append(Problem(
            listed[extra[0]][0].replace("SeriesInstanceUID", "ReferencedSOPInstanceUIDs"),
            f"{len(extra)} instance(s) (first {extra[0]}) are listed in the Common Instance "
            "Reference but not referenced by the Referenced Image Sequence; run "
            "updateUIDInheritance, or clear them"))
    for uid, (name, study, series) in listed.items():
        known = catalogue.get(uid)
        if known is None or (known.study_instance_uid, known.series_instance_uid) == \
                (study, series):
            continue
        where = "the REG's own study" if study == own else f"study {study}"
        problems.append(Problem(name, (
            f"series {series} is listed under {where}, but instance {uid} is of series "
            f"{known.series_instance_uid} in study {known.study_instance_uid}; run "
            "updateUIDInheritance (autoUpdateOnStudyInstanceUIDChanges keeps them in step "
            "with the REG's study)")))
        break
    return problems


def check_fields(values: Mapping[str, Any], image: Any,
                 catalogue: Mapping[str, Any] | None = None) -> list[Problem]:
    """Problems of the field values and the ``input0`` field, before composing.

    ``catalogue`` maps referenced instance UIDs to what is known of them
    (:class:`~.common_instance_reference.InstanceReference`), for the frame and segment
    number rules.
    """
    problems = _check_image(values, image)
    required = {
        "studyInstanceUID": "switch autoCreateStudyInstanceUID on, or set it",
        "seriesInstanceUID": "switch autoCreateSeriesInstanceUID on, or set it",
        "frameOfReferenceUID": "inherit it from the fixed image, or set it",
        "sourceFrameOfReferenceUID": "inherit it from the moving image, or set it",
    }
    for name, hint in required.items():
        if not values[name]:
            problems.append(Problem(name, f"is empty; {hint}"))
    for which in ("pre", "post"):
        problem = matrix_problem(values[f"{which}DeformationMatrix"],
                                 values[f"{which}DeformationMatrixType"])
        if problem:
            problems.append(Problem(f"{which}DeformationMatrix", problem))
    for compute in (patient_birth_date, patient_sex):
        try:
            compute(values)
        except FieldValueError as error:
            problems.append(Problem(error.field, str(error).split(": ", 1)[1]))
    problems += _check_references(values, catalogue or {})
    return problems


# --- stage 2: the dataset ---------------------------------------------------------------------


def _items_at(ds: Dataset, path: tuple[str, ...]) -> Iterator[tuple[str, Dataset]]:
    """(path text, dataset) for every item reached by following ``path`` from ``ds``."""
    if not path:
        yield "", ds
        return
    keyword, rest = path[0], path[1:]
    for index, item in enumerate(ds.get(keyword) or [], 1):
        for where, inner in _items_at(item, rest):
            yield f"{keyword}[{index}] > {where}", inner


def _is_empty(ds: Dataset, element: DataElement | RawDataElement) -> bool:
    """Emptiness without reading a deferred or buffered bulk value."""
    if isinstance(element, RawDataElement):
        if element.VR == "SQ" or element.length == 0xFFFFFFFF:
            return ds[element.tag].is_empty  # a sequence: count its items
        return element.length == 0
    if element.is_buffered:
        return False
    return element.is_empty


def _check_types(ds: Dataset) -> list[Problem]:
    problems = []
    for requirement in iod_requirements():
        if requirement.module_usage != "M" or requirement.type not in ("1", "2"):
            continue
        for where, item in _items_at(ds, requirement.path):
            element = item.get_item(tag_for_keyword(requirement.keyword))
            name = where + _name(requirement.keyword)
            if element is None:
                problems.append(Problem(name, f"Type {requirement.type} attribute is missing"))
            elif requirement.type == "1" and _is_empty(item, element):
                problems.append(Problem(name, "Type 1 attribute is empty"))
    return problems


def _vr(element: DataElement | RawDataElement) -> str | None:
    if element.VR:
        return str(element.VR)
    try:  # an implicit VR file: the dictionary knows the VR of standard attributes
        return str(dictionary_VR(element.tag))
    except KeyError:
        return None


def _check_values(ds: Dataset, where: str = "") -> Iterable[Problem]:
    # elements() yields raw elements as they are: bulk values are neither converted nor read.
    for raw in ds.elements():
        vr = _vr(raw)
        if vr == "SQ":
            element = ds[raw.tag]
            name = where + (element.keyword or str(element.tag))
            for index, item in enumerate(element.value, 1):
                yield from _check_values(item, f"{name}[{index}] > ")
        elif vr in _TEXT_VRS and not raw.tag.is_private:
            element = ds[raw.tag]
            if element.is_empty:
                continue
            name = where + (element.keyword or str(element.tag))
            values = element.value
            for value in values if isinstance(values, (MultiValue, list, tuple)) else [values]:
                text = str(value) if value is not None else ""
                problem = validate_dicom_text(vr, text)
                if problem:
                    yield Problem(f"{name} {element.tag}", problem)


def _value_length(element: DataElement | RawDataElement) -> int:
    if isinstance(element, RawDataElement):
        if element.value is None:
            return int(element.length)
        return len(element.value)
    if element.is_buffered:
        value = element.value
        position = value.tell()
        length = value.seek(0, 2)
        value.seek(position)
        return length
    return len(element.value)


def _check_grid(where: str, grid: Dataset) -> list[Problem]:
    problems = []
    dims = grid.get("GridDimensions")
    data = grid.get_item(0x00640009)
    expected_vrs = {"GridDimensions": "UL", "GridResolution": "FD", "VectorGridData": "OF"}
    for keyword, vr in expected_vrs.items():
        element = grid.get_item(tag_for_keyword(keyword))
        if element is not None and element.VR and element.VR != vr:
            problems.append(Problem(where + _name(keyword), f"has VR {element.VR}; must be {vr}"))
    geometry = grid_geometry_problems(grid)
    for keyword, message in geometry:
        problems.append(Problem(where + _name(keyword), message))
    if any(keyword == "GridDimensions" for keyword, _ in geometry):
        dims = None
    if dims is not None and data is not None:
        expected = int(np.prod([int(d) for d in dims])) * 12
        actual = _value_length(data)
        if actual != expected:
            problems.append(Problem(
                where + _name("VectorGridData"),
                f"holds {actual} bytes; Grid Dimensions {list(dims)} need {expected} "
                "(3 float32 per voxel)"))
    return problems


def _check_registration(ds: Dataset) -> list[Problem]:
    problems = []
    items = ds.get("DeformableRegistrationSequence") or []
    grids = 0
    for index, item in enumerate(items, 1):
        where = f"DeformableRegistrationSequence[{index}] > "
        for keyword in ("PreDeformationMatrixRegistrationSequence",
                        "PostDeformationMatrixRegistrationSequence",
                        "DeformableRegistrationGridSequence"):
            sequence = item.get(keyword)
            if sequence is not None and len(sequence) != 1:
                problems.append(Problem(where + _name(keyword),
                                        f"has {len(sequence)} items; exactly one is allowed"))
        for keyword in ("PreDeformationMatrixRegistrationSequence",
                        "PostDeformationMatrixRegistrationSequence"):
            for matrix_item in item.get(keyword) or []:
                matrix = matrix_item.get("FrameOfReferenceTransformationMatrix")
                kind = matrix_item.get("FrameOfReferenceTransformationMatrixType")
                name = f"{where}{keyword}[1] > " + _name("FrameOfReferenceTransformationMatrix")
                if matrix is None or kind is None:
                    continue
                if len(matrix) != 16:
                    problems.append(Problem(name, f"has {len(matrix)} values; must have 16"))
                elif kind not in MATRIX_TYPES:
                    problems.append(Problem(name, f"type {kind!r} is not one of "
                                            + ", ".join(MATRIX_TYPES)))
                else:
                    problem = matrix_problem([float(v) for v in matrix], kind)
                    if problem:
                        problems.append(Problem(name, problem))
        for grid in item.get("DeformableRegistrationGridSequence") or []:
            grids += 1
            problems += _check_grid(f"{where}DeformableRegistrationGridSequence[1] > ", grid)
    if items and not grids:
        problems.append(Problem(_name("DeformableRegistrationSequence"),
                                "no item holds a Deformable Registration Grid Sequence"))
    return problems


def _check_common_instance_reference(ds: Dataset) -> list[Problem]:
    problems = []
    listed: set[str] = set()
    for index, series in enumerate(ds.get("ReferencedSeriesSequence") or [], 1):
        if "StudyInstanceUID" in series:
            problems.append(Problem(f"ReferencedSeriesSequence[{index}]",
                                    "holds a Study Instance UID, which does not belong there"))
        listed |= {r.get("ReferencedSOPInstanceUID") for r in
                   series.get("ReferencedInstanceSequence") or []}
    for study in ds.get("StudiesContainingOtherReferencedInstancesSequence") or []:
        if study.get("StudyInstanceUID") == ds.get("StudyInstanceUID"):
            problems.append(Problem(
                _name("StudiesContainingOtherReferencedInstancesSequence"),
                "names the REG's own study; its instances belong in the Referenced Series "
                "Sequence"))
        for series in study.get("ReferencedSeriesSequence") or []:
            listed |= {r.get("ReferencedSOPInstanceUID") for r in
                       series.get("ReferencedInstanceSequence") or []}
    referenced: set[str] = set()
    for index, item in enumerate(ds.get("DeformableRegistrationSequence") or [], 1):
        uids = [r.get("ReferencedSOPInstanceUID") for r in
                item.get("ReferencedImageSequence") or []]
        referenced.update(uids)
        missing = [uid for uid in uids if uid and uid not in listed]
        if missing:
            problems.append(Problem(
                f"DeformableRegistrationSequence[{index}] > ReferencedImageSequence",
                f"instance {missing[0]} is not listed in the Common Instance Reference Module"))
    # The other way (dciodvfy: "ReferencedSeriesSequence present but Instance does not
    # reference Instances"): the module lists only what the REG references.
    extra = sorted(uid for uid in listed - referenced if uid)
    if extra:
        problems.append(Problem(
            "Common Instance Reference Module",
            f"lists {len(extra)} instance(s) (first {extra[0]}) that no Referenced Image "
            "Sequence references; it must list exactly the instances the REG references"))
    return problems


def _check_laterality(ds: Dataset) -> list[Problem]:
    """Laterality (0020,0060), Type 2C, as dciodvfy applies the condition: required (L, R,
    or empty when unknown) without Body Part Examined or with a paired body part; absent
    with an unpaired one."""
    body_part = str(ds.get("BodyPartExamined") or "").strip()
    paired = body_part_is_paired(body_part) if body_part else True
    present = "Laterality" in ds
    name = _name("Laterality")
    if paired is None:
        return []  # a body part the table does not know: the condition cannot be decided
    if paired and not present:
        reason = f"the paired body part {body_part!r}" if body_part else "no Body Part Examined"
        return [Problem(name, f"Type 2C attribute is missing: with {reason} it must be "
                        "present (laterality L or R, or WriteEmptyTagValue if unknown)")]
    if not paired and present:
        return [Problem(name, f"must be absent with the unpaired body part {body_part!r} "
                        "(laterality DoNotWriteTagValue)")]
    return []


def _check_deidentification(ds: Dataset) -> list[Problem]:
    """Patient module, Type 1C: a de-identified patient needs the method that did it."""
    if str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        return []
    if ds.get("DeidentificationMethod") or ds.get("DeidentificationMethodCodeSequence"):
        return []
    return [Problem(_name("DeidentificationMethod"), "Type 1C attribute is missing: Patient "
                    "Identity Removed is YES, so De-identification Method (or its code "
                    "sequence) must say how")]


def check_dataset(ds: Dataset) -> list[Problem]:
    """Problems of a composed (and possibly modified) REG Dataset."""
    problems = []
    if ds.get("SOPClassUID") != DeformableSpatialRegistrationStorage:
        problems.append(Problem(_name("SOPClassUID"),
                                f"{ds.get('SOPClassUID')!r} is not Deformable Spatial Registration "
                                f"Storage ({DeformableSpatialRegistrationStorage})"))
    if ds.get("Modality") != "REG":
        problems.append(Problem(_name("Modality"), f"{ds.get('Modality')!r} must be REG"))
    problems += _check_types(ds)
    problems += list(_check_values(ds))
    problems += _check_registration(ds)
    problems += _check_common_instance_reference(ds)
    problems += _check_laterality(ds)
    problems += _check_deidentification(ds)
    return problems
