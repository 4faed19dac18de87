"""What a peer answered: the series a query found, and each sent file's fate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileIdentity", "SeriesInfo", "StoreOutcome", "file_identities", "series_table"]

# A file's SOP Class UID, SOP Instance UID and transfer syntax UID, from its file meta.
FileIdentity = tuple[str, str, str]


@dataclass(frozen=True)
class SeriesInfo:
    """One series found by a query, with its study and patient."""

    study: str
    series: str
    modality: str = ""
    description: str = ""
    instances: int | None = None
    study_description: str = ""
    patient_id: str = ""
    patient_name: str = ""


@dataclass(frozen=True)
class StoreOutcome:
    """One file sent: whether the peer stored it, and its status and reason when not."""

    path: Path
    sop_instance: str
    stored: bool
    status: str
    reason: str = ""


def series_table(found: list[SeriesInfo]) -> str:
    """One entry per series, as ``dicomreg scan`` lists volumes."""
    lines = []
    for index, info in enumerate(found):
        description = f" '{info.description}'" if info.description else ""
        count = "?" if info.instances is None else str(info.instances)
        study = f"     study {info.study}"
        if info.study_description:
            study += f" '{info.study_description}'"
        patient = info.patient_id + (f" '{info.patient_name}'" if info.patient_name else "")
        lines.append(f"{index:3d}  {info.modality or '?'}{description}, {count} instance(s)\n"
                     f"     series {info.series}\n{study}\n     patient {patient or '?'}")
    return "\n".join(lines)


def file_identities(paths: list[Path]) -> dict[Path, FileIdentity]:
    """Each file's identity, from its file meta header.

    Raises
    ------
    NetError
        For a file that is not DICOM Part 10 with a file meta header.
    """
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError

    from dicomreg.core.net.peers import NetError

    out = {}
    for path in paths:
        try:
            meta = dcmread(path, stop_before_pixels=True).file_meta
            out[path] = (str(meta.MediaStorageSOPClassUID),
                         str(meta.MediaStorageSOPInstanceUID), str(meta.TransferSyntaxUID))
        except (OSError, InvalidDicomError, AttributeError) as error:
            raise NetError(f"'{path}' is not a DICOM Part 10 file with a file meta header "
                           f"({error})") from None
    return out
