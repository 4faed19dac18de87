"""Hypothesis strategies of hostile field and transform files, as ``(suffix, bytes, options)``.

Each draws a file of one format with its header fields chosen among valid values, edge
values (0, negative, huge, NaN, infinity, text) and junk; voxel data of the claimed size or
not (truncated, extended), with special values (NaN, infinities, beyond float32, subnormal);
compressed streams whole, cut or corrupted; and the convention options of ``dicomreg save``
that make dicomreg compute with the values (push inversion, voxel units, RAS, positions).
The headers are written by :mod:`fuzz_cases`' builders.
"""

from __future__ import annotations

import gzip
import zlib

import numpy as np
from fuzz_cases import mha_bytes, nifti1, nrrd_bytes
from hypothesis import strategies as st

SPECIAL = [0.0, -0.0, 1.5, -2.25, float("nan"), float("inf"), float("-inf"), 1e300, 3.5e38,
           5e-324, 1e-40]
OPTIONS = st.sampled_from([[], [], ["--direction", "push"], ["--units", "voxel"],
                           ["--components", "ras"], ["--kind", "deformation"]])
_SIZE = st.one_of(st.integers(-3, 6), st.sampled_from([0, 65535, 10**6, 2**31, 2**40, 2**63]))
_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from(SPECIAL))
_JUNK = st.sampled_from(["", "x", "a b c", "1e999", "nan", "--", "\u00e9", "3.5", "0x10"])


def _words(element: st.SearchStrategy, least: int = 0, most: int = 5) -> st.SearchStrategy:
    return st.one_of(st.lists(element, min_size=least, max_size=most).map(
        lambda values: " ".join(str(v) for v in values)), _JUNK)


def _voxels(draw: st.DrawFn, count: int, dtype: str) -> bytes:
    """``count`` values of ``dtype`` (at most 100000 of them), specials among them."""
    count = max(0, min(count, 100_000))
    base = draw(st.sampled_from(["zeros", "special", "random"]))
    values = np.zeros(count, "<f8")
    if base == "special" and count:
        picks = draw(st.lists(st.sampled_from(SPECIAL), min_size=1, max_size=8))
        values = np.resize(np.array(picks, "<f8"), count)  # the specials, over and over
    elif base == "random":
        values = np.random.default_rng(draw(st.integers(0, 2**16))).normal(0, 5, count)
    with np.errstate(all="ignore"):  # the cast of specials to the file's type is the test
        return values.astype(dtype).tobytes()


def _cut(draw: st.DrawFn, data: bytes) -> bytes:
    """Whole, cut at a drawn point, extended, or with bytes flipped."""
    how = draw(st.sampled_from(["whole", "whole", "cut", "extend", "flip"]))
    if how == "cut":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if how == "extend":
        return data + b"\0" * draw(st.integers(1, 4096))
    if how == "flip" and data:
        flipped = bytearray(data)
        for at in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=8)):
            flipped[at] ^= 0xFF
        return bytes(flipped)
    return data


_MET_TYPES = {"MET_FLOAT": "<f4", "MET_DOUBLE": "<f8", "MET_SHORT": "<i2", "MET_UCHAR": "u1"}


@st.composite
def metaimage(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    """A .mha file: header fields drawn, raw or compressed voxels, cut or not."""
    dims = draw(st.one_of(st.lists(st.integers(1, 6), min_size=3, max_size=3),
                          st.lists(_SIZE, min_size=0, max_size=5)))
    channels = draw(st.sampled_from(["3", "3", "3", "1", "0", "-1", "4", "1000000000", "x"]))
    kind = draw(st.sampled_from([*_MET_TYPES, "MET_STRING", "MET_FLOAT_ARRAY", ""]))
    compressed = draw(st.booleans())
    changes = {
        "NDims": draw(st.one_of(st.just(str(len(dims))), st.integers(-2, 1100).map(str), _JUNK)),
        "DimSize": " ".join(map(str, dims)),
        "ElementSpacing": draw(st.one_of(st.just("1 1 1"), _words(_NUMBER, 0, 4))),
        "Offset": draw(st.one_of(st.just("0 0 0"), _words(_NUMBER, 0, 4))),
        "TransformMatrix": draw(st.one_of(st.just("1 0 0 0 1 0 0 0 1"),
                                          _words(_NUMBER, 0, 10))),
        "ElementNumberOfChannels": channels, "ElementType": kind,
        "CompressedData": "True" if compressed else "False",
    }
    if draw(st.booleans()):
        changes["CompressedDataSize" if compressed else "HeaderSize"] = draw(
            st.one_of(st.integers(-10, 10**12).map(str), _JUNK))
    count = int(np.prod([max(d, 0) for d in dims], dtype=object) or 0) * \
        (int(channels) if channels.lstrip("-").isdigit() else 3)
    data = _voxels(draw, count, _MET_TYPES.get(kind, "<f4"))
    if compressed:
        data = zlib.compress(data)
    return ".mha", mha_bytes(changes, _cut(draw, data)), draw(OPTIONS)


_NIFTI_TYPES = {16: ("<f4", 32), 64: ("<f8", 64), 4: ("<i2", 16), 2: ("u1", 8)}


@st.composite
def nifti(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    """A NIfTI-1 file (.nii or .nii.gz): dims, datatype, pixdim, vox_offset, intent drawn."""
    short = st.integers(-32768, 32767)
    spatial = draw(st.one_of(st.lists(st.integers(1, 5), min_size=3, max_size=3),
                             st.lists(short, min_size=3, max_size=3)))
    dims = (draw(st.one_of(st.just(5), st.integers(-1, 100))), *spatial, 1,
            draw(st.sampled_from([3, 3, 1, 2, 0, -3, 32767])), 1, 1)
    datatype = draw(st.sampled_from([16, 16, 64, 4, 2, 128, 511, 1536, 999, 0, -1]))
    dtype, bits = _NIFTI_TYPES.get(datatype, ("<f4", 32))
    pixdim = (1.0, *draw(st.lists(st.one_of(st.just(1.0), st.floats(width=32)),
                                  min_size=3, max_size=3)), 1.0, 1.0, 1.0, 1.0)
    count = int(np.prod([max(d, 0) for d in dims[1:4]], dtype=object)) * max(dims[5], 0)
    content = nifti1(dims=dims, datatype=datatype,
                     bitpix=draw(st.one_of(st.just(bits), st.integers(-8, 200))),
                     pixdim=pixdim, intent=draw(st.sampled_from([1006, 1006, 1007, 0, 2003])),
                     vox_offset=draw(st.one_of(st.just(352.0), st.floats(width=32))),
                     magic=draw(st.sampled_from([b"n+1\0", b"n+1\0", b"ni1\0", b"xyz\0"])),
                     data=_voxels(draw, count, dtype))
    if draw(st.booleans()):
        return ".nii.gz", _cut(draw, gzip.compress(content, 1)), draw(OPTIONS)
    return ".nii", _cut(draw, content), draw(OPTIONS)


_NRRD_TYPES = {"float": "<f4", "double": "<f8", "short": "<i2", "uchar": "u1"}


@st.composite
def nrrd(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    """A NRRD file: type, dimension, sizes, encoding, directions drawn; data cut or not."""
    sizes = draw(st.one_of(st.lists(st.integers(1, 5), min_size=3, max_size=3),
                           st.lists(_SIZE, min_size=0, max_size=4)))
    kind = draw(st.sampled_from([*_NRRD_TYPES, "quaternion", "int64"]))
    encoding = draw(st.sampled_from(["raw", "raw", "gzip", "ascii", "bzip2", "hex", "bogus"]))
    changes = {"type": kind, "sizes": " ".join(map(str, [3, *sizes])),
               "dimension": draw(st.one_of(st.just(str(len(sizes) + 1)),
                                           st.integers(-1, 1000).map(str))),
               "encoding": encoding,
               "endian": draw(st.sampled_from(["little", "little", "big", "middle"])),
               "space directions": draw(st.sampled_from(
                   ["none (1,0,0) (0,1,0) (0,0,1)", "none (1,0,0) (0,1,0)", "none (nan,0,0) "
                    "(0,1,0) (0,0,1)", "none (0,0,0) (0,0,0) (0,0,0)", "junk"]))}
    count = 3 * int(np.prod([max(s, 0) for s in sizes], dtype=object) or 0)
    data = _voxels(draw, count, _NRRD_TYPES.get(kind, "<f4"))
    if encoding == "gzip":
        data = gzip.compress(data, 1)
    elif encoding == "ascii":
        data = " ".join("0" for _ in range(min(count, 100_000))).encode()
    return ".nrrd", nrrd_bytes(changes, _cut(draw, data)), draw(OPTIONS)


@st.composite
def vtk(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    """A legacy VTK structured-points file: dimensions, type, encoding drawn."""
    dims = draw(st.one_of(st.lists(st.integers(1, 5), min_size=3, max_size=3),
                          st.lists(_SIZE, min_size=0, max_size=4)))
    kind = draw(st.sampled_from(["float", "double", "int", "junk"]))
    binary = draw(st.booleans())
    count = 3 * int(np.prod([max(d, 0) for d in dims], dtype=object) or 0)
    data = (_voxels(draw, count, {"double": ">f8", "int": ">i4"}.get(kind, ">f4")) if binary
            else " ".join("0.5" for _ in range(min(count, 100_000))).encode())
    head = (b"# vtk DataFile Version 3.0\nfield\n" + (b"BINARY" if binary else b"ASCII")
            + b"\nDATASET STRUCTURED_POINTS\nDIMENSIONS " + " ".join(map(str, dims)).encode()
            + b"\nSPACING " + draw(_words(_NUMBER, 3, 3)).encode() + b"\nORIGIN 0 0 0\n"
            + f"POINT_DATA {count // 3}\nVECTORS vectors {kind}\n".encode())
    return ".vtk", head + _cut(draw, data), draw(OPTIONS)


_TRANSFORMS = ["BSplineTransform_double_3_3", "DisplacementFieldTransform_double_3_3",
               "AffineTransform_double_3_3", "Euler3DTransform_double_3_3", "Bogus_double_3_3"]


@st.composite
def _transform_block(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(_TRANSFORMS))
    if kind.startswith("BSpline"):
        grid = draw(st.one_of(st.lists(st.integers(1, 6), min_size=3, max_size=3),
                              st.lists(_SIZE, min_size=0, max_size=4)))
        fixed = [*grid, 0, 0, 0, *draw(st.lists(_NUMBER, min_size=3, max_size=3)),
                 1, 0, 0, 0, 1, 0, 0, 0, 1]
        wanted = 3 * int(np.prod([max(g, 0) for g in grid], dtype=object) or 0)
        count = draw(st.one_of(st.just(wanted), st.integers(0, 300)))
    else:
        fixed = draw(st.lists(_NUMBER, min_size=0, max_size=20))
        count = draw(st.sampled_from([12, 6, 0, 3, 20]))
    count = min(count, 20_000)
    parameters = draw(st.one_of(st.just(" ".join(["0.5"] * count)), _words(_NUMBER, 0, 40)))
    return (f"Transform: {kind}\nParameters: {parameters}\n"
            f"FixedParameters: {' '.join(str(v) for v in fixed)}\n")


@st.composite
def text_transform(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    """An ITK text transform (.tfm or .txt): one transform or a composite of several."""
    blocks = draw(st.lists(_transform_block(), min_size=1, max_size=3))
    text = "#Insight Transform File V1.0\n"
    if len(blocks) > 1:
        text += "#Transform 0\nTransform: CompositeTransform_double_3_3\n"
    for number, block in enumerate(blocks, 1 if len(blocks) > 1 else 0):
        text += f"#Transform {number}\n{block}"
    return (draw(st.sampled_from([".tfm", ".txt"])), _cut(draw, text.encode()),
            draw(OPTIONS))


@st.composite
def damaged_hdf5(draw: st.DrawFn, good: bytes) -> bytes:
    """A valid HDF5 transform with bytes changed (its superblock or anywhere), or cut."""
    content = bytearray(good)
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.one_of(st.integers(0, 95), st.integers(0, len(good) - 1)))
        content[at] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        content = content[: draw(st.integers(0, len(content)))]
    return bytes(content)
