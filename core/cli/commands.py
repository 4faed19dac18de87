"""The smaller ``dicomreg`` commands: read, warp, map, validate, dump, scan, fields, batch.

Each command imports what it uses when it runs: ``scan`` must not pay for pydicom's import
(longer than scanning thousands of headers), which the others need.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dicomreg.core.atomic import IMAGE_FILE, check_output_path, refuse_overwriting_inputs
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import FIELD_SUFFIXES, file_suffix

__all__ = ["batch", "dump", "fields", "map_point", "read", "scan", "validate", "warp"]


def _report_dciodvfy(path: Path, enabled: bool) -> int:
    from dicomreg.core.reg import dciodvfy_available, print_dciodvfy, run_dciodvfy

    if not enabled:
        return 0
    if not dciodvfy_available():
        print("dciodvfy: not on PATH (Debian package dicom3tools); its check was skipped")
        return 0
    result = run_dciodvfy(path)
    print_dciodvfy(result)
    return 1 if result.errors else 0


def scan(args: argparse.Namespace) -> int:
    from dicomreg.core.dicom import scan_volumes

    volumes = scan_volumes(args.directory)
    if not volumes:
        raise DicomRegError(f"'{args.directory}' holds no DICOM instance")
    print(f"{len(volumes)} volume(s) in {args.directory}:")
    print(volumes.table())
    return 0


def _registration(args: argparse.Namespace):  # noqa: ANN202
    """The REG named on the command line, read with the fault options given, notes shown."""
    from dicomreg.core.reg import read_deformable_registration

    registration = read_deformable_registration(
        args.reg, accept_spatial_registration_class=args.accept_spatial_registration_class,
        vector_units=args.vector_units, ignore_extra_bytes=args.ignore_extra_bytes)
    for note in registration.notes:
        print(f"note: {note}")
    return registration


def _item(registration, number: int | None) -> int | None:  # noqa: ANN001
    if number is None:
        return None
    if not 1 <= number <= len(registration.items):
        raise DicomRegError(f"--item {number}: the file has items 1 to "
                            f"{len(registration.items)}")
    if registration.items[number - 1].grid is None:
        raise DicomRegError(f"item {number} holds no grid")
    return number - 1


def read(args: argparse.Namespace) -> int:
    import numpy as np

    from dicomreg.core.deformation import write_displacement_field
    from dicomreg.core.reg import RegReadError

    registration = _registration(args)
    if args.item is None:
        item = registration.deformable_item
    else:
        if not 1 <= args.item <= len(registration.items):
            raise DicomRegError(f"--item {args.item}: the file has items 1 to "
                                f"{len(registration.items)}")
        item = registration.items[args.item - 1]
        if item.grid is None:
            raise RegReadError(f"item {args.item} of '{args.reg}' holds no grid")
    assert item.grid is not None
    refuse_overwriting_inputs(args.output, {"the REG file": args.reg})
    check_output_path(args.output, IMAGE_FILE)
    write_displacement_field(item.grid, args.output)
    print(f"wrote {args.output}: the grid of {args.reg} "
          f"({'x'.join(str(n) for n in item.grid.geometry.size)} vectors, source frame "
          f"{item.source_frame_of_reference_uid})")
    for which, matrix, kind in (("pre", item.pre_matrix, item.pre_matrix_type),
                                ("post", item.post_matrix, item.post_matrix_type)):
        if matrix is not None and not np.allclose(matrix, np.eye(4)):
            rows = ", ".join(" ".join(f"{v:g}" for v in row) for row in matrix)
            print(f"  note: the {which}-deformation matrix ({kind}) is not the identity and "
                  f"is not part of the field file: {rows}")
    return 0


_DEFORMABLE_SR = "1.2.840.10008.5.1.4.1.1.66.3"


def validate(args: argparse.Namespace) -> int:
    from pydicom.uid import UID

    from dicomreg.core.dicom import read_header
    from dicomreg.core.reg import check_dataset

    path = Path(args.file)
    ds = read_header(path)
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class != _DEFORMABLE_SR and "DeformableRegistrationSequence" not in ds:
        name = UID(sop_class).name if sop_class else "no SOP class"
        raise DicomRegError(f"'{path}' is an instance of {name}, not a Deformable Spatial "
                            "Registration: dicomreg validate checks REG files (dciodvfy "
                            "checks any DICOM file)")
    problems = check_dataset(ds)
    print(f"dicomreg checks: {len(problems)} problem(s)")
    for problem in problems:
        print(f"  {problem}")
    status = 1 if problems else 0
    return max(status, _report_dciodvfy(path, not args.no_dciodvfy))


def dump(args: argparse.Namespace) -> int:
    from dicomreg.core.dicom import DumpOptions, read_header, tag_dump

    options = DumpOptions(annotate=args.annotate, private_values=args.private,
                          binary_bytes=args.binary_bytes, max_size=args.max_size,
                          line_filter=args.filter or "")
    print(tag_dump(read_header(args.file), options))
    return 0


def fields(args: argparse.Namespace) -> int:
    from dicomreg.core.fields import field_reference

    print(field_reference(markdown=args.markdown), end="")
    return 0


def batch(args: argparse.Namespace) -> int:
    from dicomreg.core.regsave import run_batch

    results = run_batch(args.manifest, results=args.results, scheduler=args.scheduler,
                        workers=args.workers, force=args.force,
                        dciodvfy=not args.no_dciodvfy, progress=not args.no_progress)
    counts = {status: sum(r.status == status for r in results)
              for status in ("done", "skipped", "failed")}
    target = args.results or str(Path(args.manifest).with_suffix(".results.csv"))
    print(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed; "
          f"results in {target}")
    for result in results:
        if result.status == "failed":
            print(f"  row {result.case}: {result.error}")
    return 1 if counts["failed"] else 0


def warp(args: argparse.Namespace) -> int:
    import SimpleITK as sitk

    from dicomreg.core.atomic import atomic_output
    from dicomreg.core.image import Geometry
    from dicomreg.core.itk_messages import itk_reason
    from dicomreg.core.reg import read_moving_image, warp_image

    if file_suffix(args.output) not in FIELD_SUFFIXES:
        raise DicomRegError(f"output '{args.output}': the warped image is written as an image "
                            f"file; name it with one of {' '.join(FIELD_SUFFIXES)}")
    refuse_overwriting_inputs(args.output, {"the REG file": args.reg, "the moving image":
                                            args.moving, "the reference": args.reference})
    check_output_path(args.output, IMAGE_FILE)  # before the work, not only after it
    registration = _registration(args)
    item = _item(registration, args.item)
    moving = read_moving_image(args.moving, args.moving_volume)
    reference = None
    if args.reference:
        image = read_moving_image(args.reference)
        reference = Geometry.from_itk(image.GetSize(), image.GetSpacing(), image.GetOrigin(),
                                      image.GetDirection())
    result = warp_image(registration, moving, reference, item, args.undefined_value)
    warped, coverage = result.image, result.coverage
    with atomic_output(args.output, replaces=IMAGE_FILE) as temporary:
        # The output's suffix decides the format; the temporary file keeps it.
        try:
            sitk.WriteImage(warped, str(temporary), useCompression=True)
        except RuntimeError as error:
            raise DicomRegError(f"cannot write '{args.output}': {itk_reason(error)}") from None
    size = "x".join(str(n) for n in warped.GetSize())
    print(f"wrote {args.output}: {args.moving} warped onto the {size} "
          f"{'reference' if reference else 'registration'} grid "
          f"({coverage:.0%} of its points map inside the moving image)")
    if coverage == 0.0:
        print(f"dicomreg warp: warning: no point of the grid maps inside {args.moving}; "
              "is it the registration's moving image?", file=sys.stderr)
    return 0


def map_point(args: argparse.Namespace) -> int:
    from dicomreg.core.reg import map_points

    registration = _registration(args)
    index = _item(registration, args.item)
    chosen = registration.deformable_item if index is None else registration.items[index]
    mapped = map_points(registration, [args.point], index)[0]
    fixed = " ".join(f"{v:g}" for v in args.point)
    if any(v != v for v in mapped):  # NaN: undefined there
        print(f"{fixed} -> undefined (the field is undefined at that point)")
    else:
        print(f"{fixed} -> {' '.join(f'{v:.4f}' for v in mapped)} (mm, LPS, in the moving "
              f"frame {chosen.source_frame_of_reference_uid})")
    return 0
