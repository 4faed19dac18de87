"""DicomREGSave, headless: the fields, the four connectors, and the triggers.

Triggers are methods named after their fields (``save``, ``createStudyInstanceUID``, ...), so
that a node, a widget or a script calls them by the names a user of the original knows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from dicomreg.core.atomic import (
    DICOM_FILE,
    OutputPathError,
    check_output_path,
    refuse_overwriting_inputs,
)
from dicomreg.core.dicom import (
    DumpOptions,
    VolumeError,
    VolumeList,
    dicom_geometry,
    read_dicom_headers,
    tag_dump,
)
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import (
    FIELDS,
    Field,
    FieldType,
    FieldValueError,
    UnknownFieldError,
    field_by_name,
    format_value,
    parse,
)
from dicomreg.core.formats import FIELD_SUFFIXES, TRANSFORM_SUFFIXES, file_suffix
from dicomreg.core.image import Geometry, Image
from dicomreg.core.reg import (
    InstanceReference,
    Problem,
    SaveCancelledError,
    check_dataset,
    check_fields,
    compose,
    reference_fields,
    write_dataset,
)
from dicomreg.core.regsave.inherit import (
    InheritanceReport,
    inherited_values,
    instance_references,
    other_input_tags,
    other_patient_warning,
)

__all__ = ["BadParameterError", "DicomREGSave", "default_values"]

_CONNECTOR_OF = {"ImageConnector #0": "input0", "ImageConnector #1": "input1"}
_CIR_FIELDS = (
    "referencedSeriesSeriesInstanceUID", "referencedSeriesReferencedSOPClassUIDs",
    "referencedSeriesReferencedSOPInstanceUIDs", "commonInstanceReferenceStudyInstanceUID",
    "referencedStudiesSeriesInstanceUID", "referencedStudiesReferencedSOPClassUIDs",
    "referencedStudiesReferencedSOPInstanceUIDs",
)  # fmt: skip


class BadParameterError(DicomRegError):
    """The module refused to act; ``problems`` lists every reason, the message the first."""

    def __init__(self, problems: list[Problem] | list[str]) -> None:
        self.problems = [str(p) for p in problems]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(self.problems[0] + more)


def default_values() -> dict[str, Any]:
    """Every field's typed default value (triggers have none)."""
    return {f.name: parse(f, f.default) for f in FIELDS if f.type is not FieldType.TRIGGER}


class DicomREGSave:
    """The DicomREGSave module without a GUI.

    Parameters
    ----------
    base_dir
        The directory relative file names are resolved against (a flow's directory); the
        working directory when not given.

    Attributes
    ----------
    input0
        The displacement field to save (an :class:`~.image.Image`), with the DICOM headers of
        the image it lives on (the fixed image) when there are any.
    input1
        A second image, typically the moving image whose instances are referenced.
    inputBase
        A DICOM tree (Dataset) or a volume list to inherit from.
    inputModifierList
        Modifier plugins, applied in order to the final Dataset just before it is checked
        and written. Each has ``name`` and ``apply(dataset)``.
    """

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self._values = default_values()
        self.input0: Image | None = None
        self.input1: Image | None = None
        self._input_base: Dataset | VolumeList | None = None
        self.inputModifierList: list[Any] = []
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.last_inheritance: InheritanceReport | None = None
        self._undo: tuple[dict[str, Any], Dataset] | None = None
        self._references: list[InstanceReference] = []
        # The source's other attributes, written when copyOtherInputTags is on.
        self._other_tags = Dataset()
        # UIDs the next save will use when the auto flags are on, so that the tag dump shows
        # exactly what Save writes; a successful save uses them up.
        self._pending: dict[str, str] = {}
        self._dump_key: tuple | None = None

    @property
    def inputBase(self) -> Dataset | VolumeList | None:
        """A DICOM tree (Dataset) or a volume list (:class:`~.volume_list.VolumeList`)."""
        return self._input_base

    @inputBase.setter
    def inputBase(self, value: Dataset | VolumeList | None) -> None:
        if value is not None and not isinstance(value, (Dataset, VolumeList)):
            raise BadParameterError([f"inputBase: a {type(value).__name__} is neither a DICOM "
                                     "tree (Dataset) nor a volume list"])
        self._input_base = value
        count = len(value) if isinstance(value, VolumeList) else int(value is not None)
        self._values["numVolumes"] = count

    # --- fields ----------------------------------------------------------------------------

    def get(self, name: str) -> Any:
        """The typed value of a field (by name or deprecated name).

        ``tagDump`` is brought up to date first when a field, an input or a plugin changed.
        """
        f = field_by_name(name)
        if f.name == "tagDump":
            self._refresh_tag_dump()
        return self._values[f.name]

    def text(self, name: str) -> str:
        """The text form of a field's value, as the documentation writes it."""
        f = field_by_name(name)
        return format_value(f, self.get(f.name))

    def values(self) -> dict[str, Any]:
        """A copy of every field's typed value."""
        return dict(self._values)

    def set(self, name: str, value: Any) -> None:
        """Set a field (by name or deprecated name) from text or a typed value.

        Raises
        ------
        FieldValueError
            If the value breaks the field's rule; the field keeps its value.
        UnknownFieldError
            If no field has that name.
        """
        f = field_by_name(name)
        if f.type is FieldType.TRIGGER:
            raise FieldValueError(f.name, "is a trigger; call it instead of setting it")
        new = parse(f, value)
        old = self._values[f.name]
        self._values[f.name] = new
        if f.name == "studyInstanceUID" and new != old:
            self._study_changed()
        elif f.name == "unresolvedFileName":
            self._values["absoluteFileName"] = str(self._resolve(new)) if new.strip() else ""

    def set_many(self, values: Mapping[str, Any]) -> None:
        """Set several fields at once: all are validated first, then all are set."""
        parsed = {}
        for name, value in values.items():
            f = field_by_name(name)
            parsed[f.name] = parse(f, value)
        for name, value in parsed.items():
            self.set(name, value)

    def get_state(self) -> dict[str, str]:
        """The persistent fields as text: what a flow saves."""
        return {f.name: self.text(f.name) for f in FIELDS
                if f.persistent and f.type is not FieldType.TRIGGER}

    def set_state(self, state: Mapping[str, Any]) -> list[str]:
        """Restore persistent fields (deprecated names accepted); return notes on skipped ones.

        Every value is validated before any is set, so a bad state changes nothing.
        """
        notes, accepted = [], {}
        for name, value in state.items():
            try:
                f = field_by_name(name)
            except UnknownFieldError as error:
                notes.append(str(error))
                continue
            if not f.persistent or f.type is FieldType.TRIGGER:
                notes.append(f"field {name!r} is not persistent; its saved value is ignored")
                continue
            accepted[f.name] = value
        self.set_many(accepted)
        return notes

    @property
    def status(self) -> str:
        """The module's status line."""
        return self._values["status"]

    def _set_status(self, text: str) -> None:
        self._values["status"] = text

    @staticmethod
    def fields() -> tuple[Field, ...]:
        """The field table."""
        return FIELDS

    # --- triggers --------------------------------------------------------------------------

    def trigger(self, name: str) -> Any:
        """Fire the trigger field called ``name``."""
        f = field_by_name(name)
        if f.type is not FieldType.TRIGGER:
            raise FieldValueError(f.name, "is not a trigger")
        method: Callable[[], Any] | None = getattr(self, f.name, None)
        if method is None:
            raise NotImplementedError(f"trigger {f.name!r} is not available yet")
        return method()

    def createStudyInstanceUID(self) -> str:
        """Create a new Study Instance UID."""
        self.set("studyInstanceUID", generate_uid())
        self._set_status("created a new Study Instance UID")
        return self._values["studyInstanceUID"]

    def createSeriesInstanceUID(self) -> str:
        """Create a new Series Instance UID."""
        self.set("seriesInstanceUID", generate_uid())
        self._set_status("created a new Series Instance UID")
        return self._values["seriesInstanceUID"]

    def _connector(self, selector: str) -> Image | None:
        return getattr(self, _CONNECTOR_OF[selector])

    def _inheritance_source(self) -> tuple[Dataset, Geometry | None]:
        """The header to inherit from and the voxel grid its DICOM describes."""
        selector = self._values["inputSelector"]
        if selector in _CONNECTOR_OF:
            image = self._connector(selector)
            connector = _CONNECTOR_OF[selector]
            if image is None:
                raise BadParameterError([f"inputSelector: {connector} is not connected"])
            if not image.datasets:
                raise BadParameterError([f"inputSelector: the image at {connector} carries no "
                                         "DICOM information to inherit"])
            return image.datasets[0], dicom_geometry(image.datasets)
        if selector == "File":
            text = self._values["unresolvedFileName"]
            if not text.strip():
                raise BadParameterError(["unresolvedFileName: no file to inherit from is set"])
            path = self._resolve(text)
            self._values["absoluteFileName"] = str(path)
            if not path.is_file():
                raise BadParameterError([f"absoluteFileName: '{path}' does not exist or is not "
                                         "a file; expected a DICOM file"])
            ds = read_dicom_headers(path)
            if ds is None:
                raise BadParameterError([f"absoluteFileName: '{path}' is not a DICOM file"])
            return ds, dicom_geometry([ds])
        base = self._input_base
        if base is None:
            raise BadParameterError(["inputSelector: inputBase is not connected"])
        if isinstance(base, Dataset):
            return base, dicom_geometry([base])
        try:
            volume = base.select(self._values["inputVolumeIndex"])
        except VolumeError as error:
            raise BadParameterError([str(error)]) from None
        return volume.first, volume.geometry

    def inheritDICOMTags(self) -> InheritanceReport:
        """Inherit DICOM information from the selected input; returns what changed.

        Hand-written values are overwritten, as documented, but kept: :meth:`undoInheritance`
        restores them exactly. A refusal (no source, an unreadable file, a volume index out
        of range) changes no field.
        """
        source, geometry = self._inheritance_source()
        reference_image = self._connector(self._values["inputConnectorSelector"])
        new, notes = inherited_values(self._values, source, source_geometry=geometry,
                                      image=self.input0, reference_image=reference_image)
        report = InheritanceReport(notes=notes)
        undo = {}
        for name, value in new.items():
            try:
                value = parse(field_by_name(name), value)
            except FieldValueError as error:
                # An invalid value in the source is not copied; the field keeps its value.
                report.notes.append(f"not inherited: {error}")
                continue
            if value != self._values[name]:
                report.changes[name] = (self._values[name], value)
                undo[name] = self._values[name]
        study_changed = "studyInstanceUID" in report.changes
        self._values.update({name: new for name, (_old, new) in report.changes.items()})
        if study_changed:
            undo.update({name: self._values[name] for name in _CIR_FIELDS})
            self._study_changed()
        self._undo = (undo, self._other_tags)
        self._other_tags = other_input_tags(source)
        self.last_inheritance = report
        self._set_status(f"inherited {len(report.changes)} field(s) from "
                         f"{self._values['inputSelector']}")
        return report

    def undoInheritance(self) -> None:
        """Restore the values the last inheritance replaced."""
        if self._undo is None:
            raise BadParameterError(["undoInheritance: there is no inheritance to undo"])
        values, self._other_tags = self._undo
        self._values.update(values)
        self._undo = None
        self._set_status("restored the values before the last inheritance")

    def updateReferencedImageSequenceUIDInheritance(self) -> str | None:
        """Reference every instance of the input chosen by ``inputConnectorSelector``.

        Returns the warning also shown in the status when the image is of another patient
        than the REG (not refused: atlas registrations are legitimate), or None.
        """
        selector = self._values["inputConnectorSelector"]
        image = self._connector(selector)
        if image is None or not image.datasets:
            raise BadParameterError([f"inputConnectorSelector: {_CONNECTOR_OF[selector]} "
                                     "carries no DICOM image to reference"])
        self._references = instance_references(image)
        self._values["referencedImageSequenceReferencedSOPClassUIDs"] = "\n".join(
            r.sop_class_uid for r in self._references)
        self._values["referencedImageSequenceReferencedSOPInstanceUIDs"] = "\n".join(
            r.sop_instance_uid for r in self._references)
        self.updateUIDInheritance()
        warning = other_patient_warning(self._values["patientID"], image)
        self._set_status(f"referenced {len(self._references)} instance(s) of "
                         f"{_CONNECTOR_OF[selector]}" + (f"; {warning}" if warning else ""))
        return warning

    def clearReferencedImageSequenceFields(self) -> None:
        """Clear the four referenced-image fields."""
        for name in ("referencedFrameNumbers", "referencedSegmentNumbers",
                     "referencedImageSequenceReferencedSOPClassUIDs",
                     "referencedImageSequenceReferencedSOPInstanceUIDs"):
            self._values[name] = ""
        self._references = []

    def updateUIDInheritance(self) -> None:
        """Recompute the Common Instance Reference fields for the current Study Instance UID."""
        if self._references:
            self._values.update(reference_fields(self._references,
                                                 self._values["studyInstanceUID"]))

    def referencedSeriesClear(self) -> None:
        """Clear the Referenced Series fields of the Common Instance Reference Module."""
        for name in _CIR_FIELDS[:3]:
            self._values[name] = ""

    def referencedStudiesClear(self) -> None:
        """Clear the Referenced Studies fields of the Common Instance Reference Module."""
        for name in _CIR_FIELDS[3:]:
            self._values[name] = ""

    def _study_changed(self) -> None:
        if self._values["autoUpdateOnStudyInstanceUIDChanges"]:
            self.updateUIDInheritance()

    # --- composing and saving --------------------------------------------------------------

    def _values_for_save(self) -> dict[str, Any]:
        """The values a save writes: auto-created UIDs and the references they imply."""
        values = dict(self._values)
        if values["autoCreateStudyInstanceUID"]:
            values["studyInstanceUID"] = self._pending.setdefault("study", generate_uid())
            if values["autoUpdateOnStudyInstanceUIDChanges"] and self._references:
                values.update(reference_fields(self._references, values["studyInstanceUID"]))
        if values["autoCreateSeriesInstanceUID"]:
            values["seriesInstanceUID"] = self._pending.setdefault("series", generate_uid())
        return values

    def _refresh_tag_dump(self) -> None:
        plugins = tuple((id(p), repr(getattr(p, "config", p))) for p in self.inputModifierList)
        key = (tuple((k, v) for k, v in self._values.items() if k not in ("tagDump", "status")),
               id(self.input0), id(self.input1), id(self._input_base), plugins)
        if key == self._dump_key:
            return
        self._dump_key = key
        try:
            ds, problems, _values = self.compose()
            lines = [f"# not written as it is: {p}" for p in problems]
            if ds is None:
                text = "\n".join(["# nothing to dump yet", *lines])
            else:
                text = "\n".join([*lines, tag_dump(ds, DumpOptions.from_values(self._values))])
        except DicomRegError as error:
            text = f"# {error}"
        self._values["tagDump"] = text

    def _refuse(self, problems: list[Problem] | list[str]) -> None:
        error = BadParameterError(problems)
        self._set_status("not saved: " + "; ".join(error.problems))
        if self._values["postBadParamErrors"]:
            raise error

    def compose(self) -> tuple[Dataset | None, list[Problem], dict[str, Any]]:
        """Compose the Dataset Save would write, after the modifier plugins.

        Returns
        -------
        tuple
            The Dataset (None if the fields cannot be composed), the problems found, and the
            field values it was composed from (with any auto-created UIDs).
        """
        values = self._values_for_save()
        catalogue = {r.sop_instance_uid: r for r in self._references}
        problems = check_fields(values, self.input0, catalogue)
        if problems:
            return None, problems, values
        assert self.input0 is not None
        ds = compose(values, self.input0, other_tags=self._other_tags,
                     sop_instance_uid=self._pending.setdefault("sop", generate_uid()))
        problems = check_dataset(ds)
        for plugin in self.inputModifierList:
            if problems:
                break
            name = getattr(plugin, "name", type(plugin).__name__)
            try:
                plugin.apply(ds)
            except Exception as error:  # a plugin's failure is reported, never swallowed
                problems = [Problem(f"modifier {name}", f"failed: {error}")]
                break
            problems = [Problem(f"after modifier {name}: {p.where}", p.message)
                        for p in check_dataset(ds)]
        return ds, problems, values

    def _resolve(self, text: str) -> Path:
        """A path with user home and variables expanded, relative to ``base_dir`` (a flow's
        directory) or else the working directory."""
        path = Path(os.path.expandvars(os.path.expanduser(text.strip())))
        if not path.is_absolute():
            path = (self.base_dir or Path.cwd()) / path
        return path

    def resolved_file_name(self) -> Path:
        """``fileName`` resolved like every path of the module."""
        return self._resolve(self._values["fileName"])

    def _input_files(self) -> dict[str, str | None]:
        """The files this module reads, by what they are (for the overwrite guard)."""
        inputs: dict[str, str | None] = {}
        for name in ("input0", "input1", "inputBase"):
            value = getattr(self, name)
            # Images and volume lists know their source; a dataset read from a file, its name.
            source = getattr(value, "source", None) or getattr(value, "filename", None)
            inputs[f"the source of {name}"] = source if isinstance(source, str) else None
            for number, ds in enumerate(getattr(value, "datasets", None) or [], 1):
                filename = getattr(ds, "filename", None)
                if isinstance(filename, str):  # a DICOM header of the image, read from a file
                    inputs[f"a DICOM file of {name} (instance {number})"] = filename
        if self._values["unresolvedFileName"].strip():
            inputs["the inherited file (unresolvedFileName)"] = str(
                self._resolve(self._values["unresolvedFileName"]))
        return inputs

    def save(self, verify: Callable[[Path], None] | None = None,
             progress: Callable[[float], bool] | None = None) -> Path | None:
        """Compose, check and write the REG file to ``fileName``.

        Nothing is written when anything is wrong: with ``postBadParamErrors`` a
        :class:`BadParameterError` is raised, otherwise the status says why and None is
        returned. ``verify`` (for example a dciodvfy gate) sees the complete file before it
        is moved into place; an error from it writes nothing. ``progress`` sees the fraction
        written and may cancel by returning False (nothing is written then). On success, the
        auto-created UIDs are shown in their fields.
        """
        if not self._values["fileName"].strip():
            self._refuse(["fileName: no output file name is set"])
            return None
        target = self.resolved_file_name()
        if file_suffix(target) in FIELD_SUFFIXES + TRANSFORM_SUFFIXES:
            self._refuse([f"fileName: '{target.name}' has the suffix of a field or transform "
                          "file; a REG is a DICOM file: name it .dcm or give it no suffix"])
            return None
        try:
            refuse_overwriting_inputs(target, self._input_files())
            check_output_path(target, DICOM_FILE)  # before composing, not only at the write
        except OutputPathError as error:
            self._refuse([f"fileName: {error}"])
            return None
        ds, problems, values = self.compose()
        if problems or ds is None:
            self._refuse(problems)
            return None
        try:
            path = write_dataset(ds, target, verify, progress)
        except OutputPathError as error:
            self._refuse([f"fileName: {error}"])
            return None
        except SaveCancelledError as error:  # not a bad parameter: the user's choice
            self._set_status(str(error))
            raise
        except DicomRegError as error:  # the verify step refused the file
            self._refuse([str(error)])
            return None
        except OSError as error:  # a full disk or the like: nothing was written
            self._set_status(f"not saved: {error}")
            raise
        for name in ("studyInstanceUID", "seriesInstanceUID", *_CIR_FIELDS):
            self._values[name] = values[name]
        self._pending = {}  # the next save gets new UIDs
        self._set_status(f"saved {path}")
        return path
