"""Make the small synthetic sample data shipped with ryven-dicomreg.

Writes, next to this script:

- ``fixed/``: a planning CT of a synthetic abdomen phantom, 12 slices of 48x40 pixels
  (2 mm pixels, 3 mm slices), study "PLANNING", its own frame of reference;
- ``moving/``: a follow-up CT of the same patient in another study and another frame of
  reference, the phantom shifted and locally pushed by a known smooth deformation;
- ``field.mha``: that deformation as ITK writes a registration result: on the fixed grid,
  for every fixed voxel centre the vector (mm, LPS) to the same tissue in the moving image
  (a pull-back field, moving = fixed + v);
- ``sample_reg.dcm``: the REG of that field, written by dicomreg, for the example flow that
  loads a REG back (UIDs fixed; only its creation moment changes when made again).

Everything is deterministic (UIDs are derived from names), so running it again reproduces
the same files. Run: ``python example_flows/data/make_sample_data.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

HERE = Path(__file__).resolve().parent
SIZE = (48, 40, 12)  # x (columns), y (rows), z (slices)
SPACING = (2.0, 2.0, 3.0)
FIXED_ORIGIN = (-47.0, -39.0, -16.5)
MOVING_ORIGIN = (-45.0, -41.0, -19.5)  # another scanner session: another grid origin
SHIFT = np.array([4.0, -3.0, 1.5])  # mm: the moving patient lies shifted by this much


def uid(name: str) -> str:
    """A UID derived from a name, so that the sample data are reproducible."""
    return generate_uid(entropy_srcs=["ryven-dicomreg sample data", name])


def phantom(points: np.ndarray) -> np.ndarray:
    """Hounsfield units of a synthetic abdomen at patient positions (..., 3) in mm."""
    x, y = points[..., 0], points[..., 1]
    hu = np.full(points.shape[:-1], -1000.0)  # air
    body = (x / 40.0) ** 2 + (y / 30.0) ** 2 <= 1.0
    hu[body] = 40.0  # soft tissue
    liver = ((x + 15.0) / 14.0) ** 2 + ((y + 4.0) / 10.0) ** 2 <= 1.0
    hu[liver] = 60.0
    spine = (x / 6.0) ** 2 + ((y - 20.0) / 6.0) ** 2 <= 1.0
    hu[spine] = 700.0  # bone
    kidney = ((np.abs(x) - 18.0) / 5.0) ** 2 + ((y - 12.0) / 7.0) ** 2 <= 1.0
    hu[kidney & body] = 30.0
    return hu


def displacement(points: np.ndarray) -> np.ndarray:
    """The pull-back field v (mm): a shift plus a smooth local push near the liver."""
    centre = np.array([-15.0, -4.0, 0.0])
    r2 = np.sum(((points - centre) / np.array([12.0, 10.0, 15.0])) ** 2, axis=-1)
    bump = 3.0 * np.exp(-r2)[..., None] * np.array([1.0, 0.5, 0.0])
    return SHIFT + bump


def grid_points(origin: tuple[float, ...]) -> np.ndarray:
    """Voxel centre positions, shape (Z, Y, X, 3), of a grid with the sample's size."""
    k, j, i = np.meshgrid(*(np.arange(n) for n in SIZE[::-1]), indexing="ij")
    index = np.stack([i, j, k], axis=-1).astype(float)
    return np.asarray(origin) + index * np.asarray(SPACING)


def moving_image() -> np.ndarray:
    """HU of the moving CT: moving(x + v(x)) = fixed(x), solved by fixed-point iteration."""
    y = grid_points(MOVING_ORIGIN)
    x = y - displacement(y)
    for _ in range(10):  # x = y - v(x): converges since v is smooth and small
        x = y - displacement(x)
    return phantom(x)


def write_series(folder: Path, hu: np.ndarray, *, origin: tuple[float, ...], study: str,
                 series_number: int, study_date: str, description: str,
                 spacing: tuple[float, float, float] = SPACING,
                 orientation: tuple[float, ...] = (1, 0, 0, 0, 1, 0),
                 frame_of_reference: str | None = None,
                 patient_id: str = "DICOMREG-SAMPLE-01",
                 body_part: str | None = "ABDOMEN",
                 laterality: str | None = None) -> list[Path]:
    """One CT series, one file per slice of ``hu`` (Z, Y, X), headers complete enough for
    any DICOM reader; slices are stacked along the normal of ``orientation``.

    Returns the files written, in slice order.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    pixels = np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.uint16)
    row, column = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    normal = np.cross(row, column)
    files = []
    for k in range(hu.shape[0]):
        position = np.asarray(origin, float) + k * spacing[2] * normal
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = uid(f"{study}/{description}/slice {k}")
        ds.StudyDate = study_date
        ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = study_date
        ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = "093000"
        ds.AccessionNumber = f"ACC{series_number:04d}"
        ds.Modality = "CT"
        ds.Manufacturer = "dicomreg synthetic"
        ds.ReferringPhysicianName = "Referrer^Sample"
        ds.StudyDescription = study
        ds.SeriesDescription = description
        ds.ManufacturerModelName = "phantom"
        ds.PatientName = "Phantom^Abdomen"
        ds.PatientID = patient_id
        ds.PatientBirthDate = "19700315"
        ds.PatientSex = "O"
        if body_part:
            ds.BodyPartExamined = body_part
        if laterality:
            ds.Laterality = laterality
        ds.SliceThickness = spacing[2]
        ds.KVP = 120
        ds.PatientPosition = "HFS"
        ds.StudyInstanceUID = uid(f"study {study}")
        ds.SeriesInstanceUID = uid(f"{study}/{description}")
        ds.StudyID = study[:16]
        ds.SeriesNumber = series_number
        ds.AcquisitionNumber = 1
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [round(float(v), 6) for v in position]
        ds.ImageOrientationPatient = [round(float(v), 8) for v in orientation]
        ds.FrameOfReferenceUID = frame_of_reference or uid(f"frame of reference {study}")
        ds.PositionReferenceIndicator = ""
        ds.SliceLocation = round(float(np.dot(position, normal)), 6)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = hu.shape[1], hu.shape[2]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = 0
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.PixelData = pixels[k].astype("<u2").tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        path = folder / f"CT{k + 1:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


def main() -> None:
    """Write fixed/, moving/ and field.mha next to this script."""
    fixed_points = grid_points(FIXED_ORIGIN)
    write_series(HERE / "fixed", phantom(fixed_points), origin=FIXED_ORIGIN,
                 study="PLANNING", series_number=2, study_date="20260105",
                 description="Planning CT")
    write_series(HERE / "moving", moving_image(), origin=MOVING_ORIGIN,
                 study="FOLLOW UP", series_number=3, study_date="20260212",
                 description="Follow-up CT")
    field = sitk.GetImageFromArray(displacement(fixed_points).astype(np.float32),
                                   isVector=True)
    field.SetOrigin(FIXED_ORIGIN)
    field.SetSpacing(SPACING)
    sitk.WriteImage(field, str(HERE / "field.mha"), useCompression=True)
    write_sample_reg()
    print(f"wrote {HERE / 'fixed'}, {HERE / 'moving'}, {HERE / 'field.mha'} and "
          f"{HERE / 'sample_reg.dcm'}")


def write_sample_reg() -> None:
    """The sample REG, with dicomreg itself."""
    from dicomreg.core.regsave import SaveRequest, save_registration

    save_registration(SaveRequest(
        field=str(HERE / "field.mha"), output=str(HERE / "sample_reg.dcm"),
        fixed=str(HERE / "fixed"), moving=str(HERE / "moving"), dciodvfy=False,
        assignments={"autoCreateSeriesInstanceUID": "FALSE",
                     "seriesInstanceUID": uid("sample REG series"), "seriesNumber": "90",
                     "contentDate": "20260301", "contentTime": "120000",
                     "contentLabel": "SAMPLE_DIR", "seriesDescription": "Sample REG"}))


if __name__ == "__main__":
    main()
