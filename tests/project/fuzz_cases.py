"""Hostile inputs for the fuzz suite: each builder writes its files into a folder and returns
the command line to run (without ``dicomreg``).

A builder receives ``(folder, base)``: ``base`` is a valid case (``field``, ``fixed``,
``moving``, ``reg``: a valid REG written from it) that builders copy and damage.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

Builder = Callable[[Path, object], list[str]]
CASES: dict[str, tuple[str, Builder]] = {}  # name -> (category, builder)


def case(category: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        CASES[builder.__name__] = (category, builder)
        return builder
    return register


def save_args(folder: Path, base: object, field: Path, *extra: str) -> list[str]:
    return ["save", str(field), "--fixed", str(base.fixed), "--moving", str(base.moving),
            "-o", str(folder / "out" / "reg.dcm"), "--no-dciodvfy", *extra]


def _save_with(folder: Path, base: object, option: str, source: Path | str) -> list[str]:
    """:func:`save_args` of the base field with ``option`` (``--fixed``, ``--moving``) given
    ``source``."""
    args = save_args(folder, base, base.field)
    args[args.index(option) + 1] = str(source)
    return args


def _file_case(category: str, name: str, file_name: str, content: bytes,
               as_field: bool = True) -> None:
    """A case that writes one file: the field itself, or the modifiers file of the base field
    (``as_field`` False)."""
    def builder(folder: Path, base: object) -> list[str]:
        path = folder / file_name
        path.write_bytes(content)
        if as_field:
            return save_args(folder, base, path)
        return save_args(folder, base, base.field, "--modifiers", str(path))
    builder.__name__ = name
    case(category)(builder)


# --- MetaImage ---------------------------------------------------------------------------

_MHA = {"ObjectType": "Image", "NDims": "3", "DimSize": "4 4 4", "ElementSpacing": "1 1 1",
        "Offset": "0 0 0", "TransformMatrix": "1 0 0 0 1 0 0 0 1",
        "ElementNumberOfChannels": "3", "ElementType": "MET_FLOAT",
        "CompressedData": "False", "ElementDataFile": "LOCAL"}


def mha_bytes(changes: dict[str, str | None] | None = None, data: bytes | None = None) -> bytes:
    fields = dict(_MHA)
    for key, value in (changes or {}).items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    fields["ElementDataFile"] = fields.pop("ElementDataFile", "LOCAL")  # last
    head = "".join(f"{k} = {v}\n" for k, v in fields.items()).encode()
    if data is None:
        data = np.zeros(4 * 4 * 4 * 3, "<f4").tobytes()
        if fields.get("CompressedData") == "True":
            data = zlib.compress(data)
    return head + data


def _mha_case(name: str, changes: dict[str, str | None], data: bytes | None = None) -> None:
    _file_case("metaimage", name, "field.mha", mha_bytes(changes, data))


_mha_case("mha_ndims_1000", {"NDims": "1000"})
_mha_case("mha_ndims_text", {"NDims": "three"})
_mha_case("mha_dimsize_negative", {"DimSize": "-4 4 4"})
_mha_case("mha_dimsize_fraction", {"DimSize": "4.5 4 4"})
_mha_case("mha_dimsize_two", {"DimSize": "4 4"})
_mha_case("mha_dimsize_huge_raw", {"DimSize": "100000 100000 100000"})
_mha_case("mha_offset_text", {"Offset": "a b c"})
_mha_case("mha_spacing_nan", {"ElementSpacing": "nan 1 1"})
_mha_case("mha_spacing_zero", {"ElementSpacing": "0 1 1"})
_mha_case("mha_matrix_short", {"TransformMatrix": "1 0 0"})
_mha_case("mha_channels_text", {"ElementNumberOfChannels": "abc"})
_mha_case("mha_channels_zero", {"ElementNumberOfChannels": "0"})
_mha_case("mha_channels_huge", {"ElementNumberOfChannels": "1000000000"})
_mha_case("mha_type_unknown", {"ElementType": "MET_STRING"})
_mha_case("mha_no_data_file", {"ElementDataFile": None})
_mha_case("mha_truncated", {}, np.zeros(50, "<f4").tobytes())
_mha_case("mha_compressed_claim_1e12", {"DimSize": "10000 10000 10000", "CompressedData": "True"},
          zlib.compress(b"\0" * 700_000)[:768])
_mha_case("mha_compressed_corrupt", {"CompressedData": "True"}, b"\x78\x9c" + os.urandom(300))
_mha_case("mha_compressed_size_negative", {"CompressedData": "True",
                                           "CompressedDataSize": "-5"})
_mha_case("mha_compressed_size_text", {"CompressedData": "True", "CompressedDataSize": "x"})
_mha_case("mha_data_file_etc_passwd", {"ElementDataFile": "/etc/passwd"}, b"")
_mha_case("mha_data_file_parent", {"ElementDataFile": "../../../../etc/hostname"}, b"")
_mha_case("mha_header_size_huge", {"ElementDataFile": "data.raw", "HeaderSize": "99999999999"},
          b"")
_mha_case("mha_header_size_text", {"ElementDataFile": "data.raw", "HeaderSize": "x"}, b"")
_mha_case("mha_binary_false", {"BinaryData": "False"}, b"0 " * 192)
_mha_case("mha_empty", {"ObjectType": None, "NDims": None, "DimSize": None,
                        "ElementSpacing": None, "Offset": None, "TransformMatrix": None,
                        "ElementNumberOfChannels": None, "ElementType": None,
                        "CompressedData": None}, b"")


@case("metaimage")
def mha_random_bytes(folder: Path, base: object) -> list[str]:
    path = folder / "field.mha"
    path.write_bytes(np.random.default_rng(1).bytes(2048))
    return save_args(folder, base, path)


@case("limits")
def mha_over_limit(folder: Path, base: object) -> list[str]:
    """A true 1.5 MB field, with the limit set to 1 MB by the environment."""
    path = folder / "field.mha"
    path.write_bytes(mha_bytes({"DimSize": "50 50 50"}, np.zeros(50**3 * 3, "<f4").tobytes()))
    return save_args(folder, base, path) + ["--env", "DICOMREG_MAX_FIELD_BYTES=1000000"]


@case("limits")
def mha_over_option_limit(folder: Path, base: object) -> list[str]:
    path = folder / "field.mha"
    path.write_bytes(mha_bytes({"DimSize": "50 50 50"}, np.zeros(50**3 * 3, "<f4").tobytes()))
    return save_args(folder, base, path, "--max-field-size", "1MB")


@case("limits")
def mha_compressed_256mib_over_limit(folder: Path, base: object) -> list[str]:
    """A 256 MiB field in a file of 256 KB (zeros compress about 1000:1), with the limit at
    100 MB: refused before anything is inflated."""
    path = folder / "field.mha"
    compressor = zlib.compressobj(9)
    chunk = b"\0" * (1 << 24)
    pieces = [compressor.compress(chunk) for _ in range(16)]  # 256 MiB
    data = b"".join(pieces) + compressor.flush()
    path.write_bytes(mha_bytes({"DimSize": "256 256 256", "ElementNumberOfChannels": "4",
                                "ElementType": "MET_FLOAT", "CompressedData": "True"}, data))
    return save_args(folder, base, path) + ["--env", "DICOMREG_MAX_FIELD_BYTES=100MB"]


# --- NIfTI -------------------------------------------------------------------------------

def nifti1(*, dims=(5, 4, 4, 4, 1, 3, 1, 1), datatype=16, bitpix=32,
           pixdim=(1, 1, 1, 1, 1, 1, 1, 1), vox_offset=352.0, intent=1006,
           data: bytes | None = None, magic=b"n+1\0") -> bytes:
    head = bytearray(352)
    struct.pack_into("<i", head, 0, 348)
    struct.pack_into("<8h", head, 40, *dims)
    struct.pack_into("<hhh", head, 68, intent, datatype, bitpix)
    struct.pack_into("<8f", head, 76, *pixdim)
    struct.pack_into("<f", head, 108, vox_offset)
    struct.pack_into("<ff", head, 112, 1.0, 0.0)
    struct.pack_into("<hh", head, 252, 0, 1)  # qform 0, sform 1
    struct.pack_into("<12f", head, 280, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)
    head[344:348] = magic
    if data is None:
        data = np.zeros(4 * 4 * 4 * 3, "<f4").tobytes()
    return bytes(head) + data


def nifti2(*, dims=(5, 4, 4, 4, 1, 3, 1, 1), datatype=16, bitpix=32, vox_offset=544,
           pixdim=(1,) * 8, data: bytes | None = None) -> bytes:
    head = bytearray(544)
    struct.pack_into("<i", head, 0, 540)
    head[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<hh", head, 12, datatype, bitpix)
    struct.pack_into("<8q", head, 16, *dims)
    struct.pack_into("<8d", head, 104, *pixdim)
    struct.pack_into("<q", head, 168, vox_offset)
    struct.pack_into("<dd", head, 176, 1.0, 0.0)
    struct.pack_into("<ii", head, 344, 0, 1)
    struct.pack_into("<12d", head, 400, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)
    struct.pack_into("<i", head, 504, 1006)
    if data is None:
        data = np.zeros(4 * 4 * 4 * 3, "<f4").tobytes()
    return bytes(head) + data


def _nifti_case(name: str, content: bytes, suffix: str = ".nii") -> None:
    _file_case("nifti", name, f"field{suffix}",
               gzip.compress(content) if suffix == ".nii.gz" else content)


_nifti_case("nii_datatype_rgb", nifti1(dims=(3, 4, 4, 4, 1, 1, 1, 1), datatype=128, bitpix=24,
                                       data=b"\0" * 192))
_nifti_case("nii_datatype_unknown", nifti1(datatype=999))
_nifti_case("nii_pixdim_nan", nifti1(pixdim=(1, float("nan"), 1, 1, 1, 1, 1, 1)))
_nifti_case("nii_pixdim_zero", nifti1(pixdim=(1, 0, 1, 1, 1, 1, 1, 1)))
_nifti_case("nii_pixdim_negative", nifti1(pixdim=(1, -2, 1, 1, 1, 1, 1, 1)))
_nifti_case("nii_vox_offset_nan", nifti1(vox_offset=float("nan")))
_nifti_case("nii_vox_offset_huge", nifti1(vox_offset=1e30))
_nifti_case("nii_vox_offset_small", nifti1(vox_offset=10.0))
_nifti_case("nii_dims_negative", nifti1(dims=(5, -4, 4, 4, 1, 3, 1, 1)))
_nifti_case("nii_dim0_100", nifti1(dims=(100, 4, 4, 4, 1, 3, 1, 1)))
_nifti_case("nii_dims_huge", nifti1(dims=(5, 32767, 32767, 32767, 1, 3, 1, 1)))
_nifti_case("nii_header_cut", nifti1()[:200])
_nifti_case("nii_data_cut", nifti1()[:500])
_nifti_case("nii_bitpix_wrong", nifti1(bitpix=7))
_nifti_case("nii_magic_bad", nifti1(magic=b"xyz\0"))
_nifti_case("niigz_dims_huge", nifti1(dims=(5, 32767, 32767, 32767, 1, 3, 1, 1)), ".nii.gz")
_nifti_case("niigz_pixdim_nan", nifti1(pixdim=(1, float("nan"), 1, 1, 1, 1, 1, 1)), ".nii.gz")
_nifti_case("nii2_dims_huge", nifti2(dims=(5, 2**40, 2**40, 2**40, 1, 3, 1, 1)))
_nifti_case("nii2_datatype_rgb", nifti2(dims=(3, 4, 4, 4, 1, 1, 1, 1), datatype=128,
                                        bitpix=24, data=b"\0" * 192))
_nifti_case("nii2_vox_offset_negative", nifti2(vox_offset=-100))
_nifti_case("nii2_pixdim_nan", nifti2(pixdim=(1, float("nan"), 1, 1, 1, 1, 1, 1)))


@case("nifti")
def niigz_corrupt_stream(folder: Path, base: object) -> list[str]:
    path = folder / "field.nii.gz"
    good = gzip.compress(nifti1())
    path.write_bytes(good[:40] + bytes(b ^ 0x55 for b in good[40:80]) + good[80:])
    return save_args(folder, base, path)


@case("nifti")
def niigz_truncated(folder: Path, base: object) -> list[str]:
    path = folder / "field.nii.gz"
    path.write_bytes(gzip.compress(nifti1(), 1)[:-30])
    return save_args(folder, base, path)


@case("limits")
def niigz_bomb_claim(folder: Path, base: object) -> list[str]:
    """A 12 GiB claim in a stream of a few kilobytes (truly inflating to 1 MB)."""
    path = folder / "field.nii.gz"
    content = nifti1(dims=(5, 1024, 1024, 1024, 1, 3, 1, 1), data=b"\0" * (1 << 20))
    path.write_bytes(gzip.compress(content))
    return save_args(folder, base, path)


@case("limits")
def niigz_true_inflate_over_limit(folder: Path, base: object) -> list[str]:
    """A field that truly inflates to 96 MB, with the limit at 50 MB."""
    path = folder / "field.nii.gz"
    content = nifti1(dims=(5, 200, 200, 200, 1, 3, 1, 1), data=b"\0" * (200**3 * 12))
    path.write_bytes(gzip.compress(content, 1))
    return save_args(folder, base, path, "--max-field-size", "50000000")


# --- NRRD and VTK ------------------------------------------------------------------------

def nrrd_bytes(changes: dict[str, str | None] | None = None, data: bytes | None = None) -> bytes:
    fields = {"type": "float", "dimension": "4", "space": "left-posterior-superior",
              "sizes": "3 4 4 4", "space directions": "none (1,0,0) (0,1,0) (0,0,1)",
              "kinds": "vector domain domain domain", "endian": "little", "encoding": "raw",
              "space origin": "(0,0,0)"}
    for key, value in (changes or {}).items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    head = "NRRD0004\n" + "".join(f"{k}: {v}\n" for k, v in fields.items()) + "\n"
    if data is None:
        data = np.zeros(192, "<f4").tobytes()
    return head.encode() + data


def _nrrd_case(name: str, changes: dict[str, str | None], data: bytes | None = None) -> None:
    _file_case("nrrd", name, "field.nrrd", nrrd_bytes(changes, data))


_nrrd_case("nrrd_data_file_etc", {"data file": "/etc/passwd"}, b"")
_nrrd_case("nrrd_data_file_parent", {"data file": "../../../etc/hostname"}, b"")
_nrrd_case("nrrd_sizes_huge", {"sizes": "3 100000 100000 100000"})
_nrrd_case("nrrd_sizes_negative", {"sizes": "3 -4 4 4"})
_nrrd_case("nrrd_dimension_1000", {"dimension": "1000"})
_nrrd_case("nrrd_type_bogus", {"type": "quaternion"})
_nrrd_case("nrrd_gzip_corrupt", {"encoding": "gzip"}, b"\x1f\x8b\x08\x00" + os.urandom(200))
_nrrd_case("nrrd_gzip_bomb_claim", {"encoding": "gzip", "sizes": "3 1024 1024 1024"},
           gzip.compress(b"\0" * 100000))
_nrrd_case("nrrd_truncated", {}, b"\0" * 100)
_nrrd_case("nrrd_origin_text", {"space origin": "(a,b,c)"})


def _vtk_case(name: str, dims: str, data: bytes, kind: str = "BINARY") -> None:
    _file_case("vtk", name, "field.vtk",
               b"# vtk DataFile Version 3.0\nfield\n" + kind.encode()
               + b"\nDATASET STRUCTURED_POINTS\nDIMENSIONS " + dims.encode()
               + b"\nSPACING 1 1 1\nORIGIN 0 0 0\nPOINT_DATA 64\nVECTORS vectors float\n" + data)


_vtk_case("vtk_dims_huge", "100000 100000 100000", b"\0" * 768)
_vtk_case("vtk_dims_negative", "-4 4 4", b"\0" * 768)
_vtk_case("vtk_dims_text", "a b c", b"\0" * 768)
_vtk_case("vtk_truncated", "4 4 4", b"\0" * 100)
_vtk_case("vtk_ascii_truncated", "4 4 4", b"0 0 0\n" * 10, "ASCII")


# --- transforms --------------------------------------------------------------------------

def _bspline_case(name: str, parameters: str, grid_size: str) -> None:
    _file_case("transform", name, "transform.tfm", (
        "#Insight Transform File V1.0\n#Transform 0\n"
        f"Transform: BSplineTransform_double_3_3\nParameters: {parameters}\n"
        f"FixedParameters: {grid_size} 0 0 0 1 1 1 1 0 0 0 1 0 0 0 1\n").encode())


_bspline_case("tfm_bspline_huge_grid", "0 0 0", "100000 100000 100000")
_bspline_case("tfm_parameters_text", "a b c", "4 4 4")


# --- files that are not regular files ----------------------------------------------------

def _not_regular(path: Path, kind: str) -> Path:
    """``path`` made a FIFO, or a link to /dev/zero."""
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def _series_copy(folder: Path, base: object) -> Path:
    import shutil

    return Path(shutil.copytree(base.fixed, folder / "fixed"))


def _special_cases(kind: str, field_name: str) -> None:
    """The field, the modifiers file and a slice of the fixed series as a ``kind``."""
    def field(folder: Path, base: object) -> list[str]:
        return save_args(folder, base, _not_regular(folder / field_name, kind))

    def modifiers(folder: Path, base: object) -> list[str]:
        path = _not_regular(folder / "mods.json", kind)
        return save_args(folder, base, base.field, "--modifiers", str(path))

    def series(folder: Path, base: object) -> list[str]:
        fixed = _series_copy(folder, base)
        _not_regular(fixed / "zz.dcm", kind)
        return _save_with(folder, base, "--fixed", fixed)

    for builder in (field, modifiers, series):
        builder.__name__ = f"{builder.__name__}_{kind}"
        case("special")(builder)


_special_cases("fifo", "field.mha")
_special_cases("dev_zero", "field.nii")


@case("special")
def scan_fifo(folder: Path, base: object) -> list[str]:
    fixed = _series_copy(folder, base)
    os.mkfifo(fixed / "zz.dcm")
    (fixed / "zero.dcm").symlink_to("/dev/zero")
    return ["scan", str(fixed)]


# --- values and modifiers ----------------------------------------------------------------

def _modifiers_case(name: str, chain: object, raw: bytes | None = None) -> None:
    _file_case("modifiers", name, "mods.json",
               raw if raw is not None else json.dumps(chain).encode(), as_field=False)


def _tags(*operations: dict) -> list[dict]:
    return [{"plugin": "DicomModifyTagsPlugin", "operations": list(operations)}]


_modifiers_case("mod_resize_1e8", _tags({"op": "resize_sequence",
                                         "tag": "ReferencedSeriesSequence", "items": 10**8}))
_modifiers_case("mod_chain_500000", None, b"[" + b",".join(
    [b'{"plugin": "DicomModifyTagsPlugin", "operations": []}'] * 500_000) + b"]")
_modifiers_case("mod_set_vector_grid", _tags({"op": "set", "tag": "VectorGridData",
                                              "value": "x"}))
_modifiers_case("mod_set_pixel_data", _tags({"op": "set", "tag": "PixelData", "value": "x"}))
_modifiers_case("mod_set_item_tag", _tags({"op": "set", "tag": "(FFFE,E000)", "value": "x"}))
_modifiers_case("mod_private_vr_zz", _tags({"op": "set_private", "group": "0011",
                                            "creator": "X", "element": "01", "vr": "ZZ",
                                            "value": "x"}))
_modifiers_case("mod_binary_300", _tags({"op": "set_binary", "tag": "(0011,1001)", "vr": "OB",
                                         "value": [300]}))
_modifiers_case("mod_nested_attributes", _tags({"op": "append_item",
                                                "tag": "ReferencedSeriesSequence",
                                                "attributes": {"A": {"B": {"C": 1}}}}))
_modifiers_case("mod_not_utf8", None, b'[{"plugin": "\xff\xfe\xfa"}]')
_modifiers_case("mod_deep_json", None, b"[" * 100_000 + b"]" * 100_000)
_modifiers_case("mod_filter_groups", [{"plugin": "DicomModifySubTreeSelectorPlugin",
                                       "path": "(" * 5000 + "x" + ")" * 5000, "plugins": []}])


@case("values")
def set_integer_text(folder: Path, base: object) -> list[str]:
    return save_args(folder, base, base.field, "--set", "contentLabel=" + "A" * 50_000)


@case("values")
def set_matrix_huge(folder: Path, base: object) -> list[str]:
    return save_args(folder, base, base.field, "--set",
                     "preDeformationMatrix=" + "1 " * 50_000)


@case("values")
def dump_binary_bytes_huge(folder: Path, base: object) -> list[str]:
    return ["dump", str(base.reg), "--binary-bytes", "999999999999"]


@case("values")
def dump_filter_groups(folder: Path, base: object) -> list[str]:
    return ["dump", str(base.reg), "--filter", "(" * 5000 + "x" + ")" * 5000]


# --- DICOM sources -----------------------------------------------------------------------

def _damaged_slice(folder: Path, base: object, change: Callable) -> list[str]:
    import pydicom

    fixed = _series_copy(folder, base)
    first = sorted(fixed.iterdir())[0]
    ds = pydicom.dcmread(first)
    change(ds)
    ds.save_as(first)
    return _save_with(folder, base, "--fixed", fixed)


@case("dicom")
def ipp_two_values(folder: Path, base: object) -> list[str]:
    return _damaged_slice(folder, base, lambda ds: setattr(ds, "ImagePositionPatient", [1, 2]))


@case("dicom")
def iop_six_ones(folder: Path, base: object) -> list[str]:
    return _damaged_slice(folder, base,
                          lambda ds: setattr(ds, "ImageOrientationPatient", [1] * 6))


@case("dicom")
def rows_huge(folder: Path, base: object) -> list[str]:
    return _damaged_slice(folder, base, lambda ds: setattr(ds, "Rows", 65535))


def deep_sequence_bytes(depth: int) -> bytes:
    """An explicit VR little endian sequence nested ``depth`` deep, undefined lengths."""
    open_ = struct.pack("<HH2sHI", 0x0008, 0x1140, b"SQ", 0, 0xFFFFFFFF) + \
        struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return open_ * depth + close * depth


@case("dicom")
def series_deep_sequence(folder: Path, base: object) -> list[str]:
    import pydicom

    fixed = _series_copy(folder, base)
    first = sorted(fixed.iterdir())[0]
    ds = pydicom.dcmread(first)
    # keep only what sorts before (0008,1140), then the deep sequence, then the rest dropped
    small = pydicom.Dataset()
    for element in ds:
        if element.tag < 0x00081140:
            small.add(element)
    small.file_meta = ds.file_meta
    small.save_as(first, enforce_file_format=True)
    with open(first, "ab") as handle:
        handle.write(deep_sequence_bytes(50_000))
    return _save_with(folder, base, "--fixed", fixed)


@case("dicom")
def moving_frames_1e9(folder: Path, base: object) -> list[str]:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1]))
    import pydicom
    from conftest import write_multiframe

    path = write_multiframe(folder / "mf.dcm", 3)
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = 10**9
    ds.save_as(path)
    return _save_with(folder, base, "--moving", path)


@case("dicom")
def fixed_proc(folder: Path, base: object) -> list[str]:
    return _save_with(folder, base, "--fixed", "/proc/self")


# --- REGs --------------------------------------------------------------------------------

def _damaged_reg(folder: Path, base: object, change: Callable) -> Path:
    import pydicom

    ds = pydicom.dcmread(base.reg)
    change(ds)
    path = folder / "reg.dcm"
    ds.save_as(path)
    return path


def _grid(ds: object) -> object:
    return ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]


def _reg_cases(name: str, change: Callable) -> None:
    for command in ("read", "warp", "map", "dump", "validate"):
        def builder(folder: Path, base: object, command: str = command) -> list[str]:
            path = _damaged_reg(folder, base, change)
            out = str(folder / "out" / ("field.mha" if command == "read" else "warped.mha"))
            return {"read": ["read", str(path), "-o", out],
                    "warp": ["warp", str(path), str(base.moving), "-o", out],
                    "map": ["map", str(path), "0", "0", "0"],
                    "dump": ["dump", str(path)],
                    "validate": ["validate", str(path), "--no-dciodvfy"]}[command]
        builder.__name__ = f"{name}_{command}"
        case("reg")(builder)


_reg_cases("reg_resolution_zero", lambda ds: setattr(_grid(ds), "GridResolution", [0, 0, 0]))
_reg_cases("reg_orientation_ones", lambda ds: setattr(_grid(ds), "ImageOrientationPatient",
                                                       [1] * 6))
_reg_cases("reg_dimensions_huge", lambda ds: setattr(_grid(ds), "GridDimensions",
                                                     [65535, 65535, 65535]))
