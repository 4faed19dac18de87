"""DicomREGSave, headless: the fields, the four connectors, and the triggers.

Triggers are methods named after their fields (``save``, ``createStudyInstanceUID``, ...), so
that a node, a widget or a script calls them by the names a user of the original knows.
:meth:`DicomREGSave.run` is the whole run sequence (inherit, reference, re-apply the values
set by hand, save) that the command line, the node and the panel's Save share.
"""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from dicomreg.core.deformation import LoadedDeformation
from dicomreg.core.dicom import (
    DumpOptions,
    VolumeError,
    VolumeList,
    dataset_files,
    dicom_geometry,
    read_dicom_headers,
    tag_dump,
)
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import (
    FIELDS,
    FieldType,
    FieldValueError,
    UnknownFieldError,
    assignment_problems,
    field_by_name,
    followed_values,
    format_value,
    parse,
    uid_lines,
)
from dicomreg.core.formats import FIELD_SUFFIXES, TRANSFORM_SUFFIXES, file_suffix
from dicomreg.core.image import Geometry, Image
from dicomreg.core.input import resolve_path
from dicomreg.core.output import (
    DICOM_FILE,
    OutputPathError,
    check_output_path,
    refuse_overwriting_inputs,
)
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
from dicomreg.core.regsave.connectors import connector_problem
from dicomreg.core.regsave.inherit import (
    InheritanceReport,
    inherited_values,
    instance_references,
    other_input_tags,
    other_patient_warning,
)

if TYPE_CHECKING:  # the run sequence imports this module
    from dicomreg.core.regsave.sequence import RunResult

__all__ = ["BadParameterError", "DicomREGSave", "default_values"]

_CONNECTOR_OF = {"ImageConnector #0": "input0", "ImageConnector #1": "input1"}
_CIR_FIELDS = (
    "referencedSeriesSeriesInstanceUID", "referencedSeriesReferencedSOPClassUIDs",
    "referencedSeriesReferencedSOPInstanceUIDs", "commonInstanceReferenceStudyInstanceUID",
    "referencedStudiesSeriesInstanceUID", "referencedStudiesReferencedSOPClassUIDs",
    "referencedStudiesReferencedSOPInstanceUIDs",
)  # fmt: skip
_RIS_FIELDS = ("referencedFrameNumbers", "referencedSegmentNumbers",
               "referencedImageSequenceReferencedSOPClassUIDs",
               "referencedImageSequenceReferencedSOPInstanceUIDs")
# A REG that creates a new study: these describe that study, so they are the moment of saving
# (date, time, and as Study ID the two together) unless set by hand; an inherited value is
# the source's study's, not the new one's.
_NEW_STUDY_MOMENT = {"studyDate": slice(0, 8), "studyTime": slice(8, 14),
                     "studyUID": slice(0, 14)}


class BadParameterError(DicomRegError):
    """The module refused to act; ``problems`` lists every reason, the message the first."""

    def __init__(self, problems: list[Problem] | list[str]) -> None:
        self.problems = [str(p) for p in problems]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(self.problems[0] + more)


def _connected(module: Any, name: str, value: Any) -> None:
    """Record whether ``value`` may be connected at connector ``name``: a refused value
    leaves the connector empty and refused (a save and the tag dump name it) until it is
    given something it takes, or nothing; the refusal is raised as a BadParameterError."""
    problem = connector_problem(name, value)
    if problem is None:
        module._refused_connectors.pop(name, None)
        return
    module._refused_connectors[name] = Problem(name, problem.split(": ", 1)[1])
    raise BadParameterError([problem])


class _Connector:
    """A connector of DicomREGSave as an attribute, checked by :func:`_connected` (a value
    kept from before a refusal would be used by a later save without a word)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_{name}"

    def __get__(self, module: Any, owner: type | None = None) -> Any:
        return self if module is None else module.__dict__.get(self.slot)

    def __set__(self, module: Any, value: Any) -> None:
        empty: Any = [] if self.name == "inputModifierList" else None
        module.__dict__[self.slot] = empty
        _connected(module, self.name, value)
        if value is not None:
            module.__dict__[self.slot] = list(value) if empty == [] else value


def _trigger(method: Callable[..., Any]) -> Callable[..., Any]:
    """A trigger honours postBadParamErrors: a refusal is always shown in the status, and
    raised only when the field is on (the trigger then returns None)."""

    @functools.wraps(method)
    def fire(self: DicomREGSave, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except BadParameterError as error:
            self._set_status(f"{method.__name__} not done: " + "; ".join(error.problems))
            if self._values["postBadParamErrors"]:
                raise
            return None

    return fire


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
    overrides
        The fields set by hand since the last Inherit DICOM Information, as text: a
        :meth:`run` inherits again and then re-applies them, so that a hand-written value is
        never lost to a run's inheritance.
    """

    def __init__(self, base_dir: str | os.PathLike[str] | None = None) -> None:
        self._values = default_values()
        self._refused_connectors: dict[str, Problem] = {}  # by connector, see _connected
        self.input0 = self.input1 = None
        self._input_base: Dataset | VolumeList | None = None
        self.inputModifierList = []
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.last_inheritance: InheritanceReport | None = None
        self.overrides: dict[str, str] = {}
        self._undo: tuple[dict[str, Any], Dataset, dict[str, str]] | None = None
        self._references: list[InstanceReference] = []
        # The source's other attributes, written when copyOtherInputTags is on.
        self._other_tags = Dataset()
        # UIDs the next save will use when the auto flags are on, so that the tag dump shows
        # exactly what Save writes; a successful save uses them up.
        self._pending: dict[str, str] = {}
        self._dump_key: tuple | None = None
        # What the last inheritance gave (to tell an inherited study date from one set), and
        # the Study Instance UID createStudyInstanceUID made (a new study, as Auto makes).
        self._inherited: dict[str, Any] = {}
        self._created_study = ""

    input0: Image | None = _Connector()
    input1: Image | None = _Connector()
    inputModifierList: list[Any] = _Connector()

    @property
    def inputBase(self) -> Dataset | VolumeList | None:
        """A DICOM tree (Dataset) or a volume list (:class:`~.volume_list.VolumeList`)."""
        return self._input_base

    @inputBase.setter
    def inputBase(self, value: Dataset | VolumeList | None) -> None:
        self._input_base = None
        self._values["numVolumes"] = 0
        _connected(self, "inputBase", value)
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

    def set(self, name: str, value: Any, *, by_hand: bool = False) -> None:
        """Set a field (by name or deprecated name) from text or a typed value.

        ``by_hand`` (a person's edit, a ``--set``): the value is also remembered in
        :attr:`overrides`, for :meth:`run` to re-apply after it inherits.

        Raises
        ------
        FieldValueError
            If the value breaks the field's rule; the field keeps its value.
        UnknownFieldError
            If no field has that name.
        """
        self.set_many({name: value}, by_hand=by_hand)

    def set_many(self, values: Mapping[str, Any], *, by_hand: bool = False) -> None:
        """Set several fields at once, as :meth:`set` does one: every value is parsed (once)
        and checked first, then all are set, so that a refused value changes nothing.

        Outputs (non-persistent fields) are refused, and so is a String twin set while its
        enum is not User Defined (:mod:`dicomreg.core.fields.rules`); a twin follows its
        enum otherwise.

        Raises
        ------
        BadParameterError
            Listing every assignment the rules refuse; nothing is set then.
        """
        parsed = self._parsed(values)
        problems = assignment_problems(parsed, self._values)
        if problems:
            raise BadParameterError(problems)
        self._assign(parsed, by_hand)

    @staticmethod
    def _parsed(values: Mapping[str, Any]) -> dict[str, Any]:
        parsed = {}
        for name, value in values.items():
            f = field_by_name(name)
            if f.type is FieldType.TRIGGER:
                raise FieldValueError(f.name, "is a trigger; call it instead of setting it")
            parsed[f.name] = parse(f, value)
        return parsed

    def _assign(self, parsed: Mapping[str, Any], by_hand: bool) -> None:
        for name, new in parsed.items():
            old = self._values[name]
            self._values[name] = new
            if name == "studyInstanceUID" and new != old:
                self._study_changed()
            elif name == "unresolvedFileName":
                resolved = resolve_path(new, self.base_dir) if new.strip() else ""
                self._values["absoluteFileName"] = str(resolved)
            if by_hand:
                self.overrides[name] = format_value(field_by_name(name), new)
        self._values.update(followed_values(self._values))

    def use_deformation(self, deformation: LoadedDeformation | Image | None) -> None:
        """Connect the field to save at input0.

        A :class:`~dicomreg.core.deformation.LoadedDeformation` from a transform file also
        sets the pre/post-deformation matrix fields to the file's and takes the grid's
        position from the transform (worldMatrixInheritanceSource IMAGE_INPUT; values set by
        hand still win in a :meth:`run`); an Image (or a field image's deformation) leaves
        them.
        """
        if not isinstance(deformation, LoadedDeformation):
            self.input0 = deformation
            return
        self.input0 = deformation.image
        if deformation.has_matrices:
            # A transform's grid is where its vectors were put (carried back by a rigid
            # pre-deformation matrix, say), not necessarily the DICOM source's: take it.
            self.set_many({"worldMatrixInheritanceSource": "IMAGE_INPUT",
                           "preDeformationMatrix": deformation.pre_matrix.ravel(),
                           "preDeformationMatrixType": deformation.pre_matrix_type,
                           "postDeformationMatrix": deformation.post_matrix.ravel(),
                           "postDeformationMatrixType": deformation.post_matrix_type})

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
        parsed = self._parsed(accepted)
        # A twin saved beside an enum that is not User Defined (a flow saved before the
        # string followed its enum) follows the enum: the enum wins, with a note.
        for problem in assignment_problems(parsed, self._values):
            name = problem.split(":", 1)[0]
            notes.append(f"saved value {format_value(field_by_name(name), parsed.pop(name))!r} "
                         f"ignored: {problem}")
        self._assign(parsed, by_hand=False)
        return notes

    @property
    def status(self) -> str:
        """The module's status line."""
        return self._values["status"]

    def _set_status(self, text: str) -> None:
        self._values["status"] = text

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

    @_trigger
    def createStudyInstanceUID(self) -> str | None:
        """Create a new Study Instance UID."""
        self.set("studyInstanceUID", generate_uid())
        self._created_study = self._values["studyInstanceUID"]
        self._set_status("created a new Study Instance UID")
        return self._values["studyInstanceUID"]

    @_trigger
    def createSeriesInstanceUID(self) -> str | None:
        """Create a new Series Instance UID."""
        self.set("seriesInstanceUID", generate_uid())
        self._set_status("created a new Series Instance UID")
        return self._values["seriesInstanceUID"]

    def _connector(self, selector: str) -> Image | None:
        return getattr(self, _CONNECTOR_OF[selector])

    def referenced_image(self) -> Image | None:
        """The image ``inputConnectorSelector`` names, whose instances are referenced."""
        return self._connector(self._values["inputConnectorSelector"])

    def _empty_source(self, why: str, remedy: str) -> BadParameterError:
        selector = self._values["inputSelector"]
        return BadParameterError([f"inputSelector: {why}, so the selected source ({selector}) "
                                  f"is empty; {remedy}, or select another source"])

    def _inheritance_source(self) -> tuple[Dataset, Geometry | None]:
        """The header to inherit from and the voxel grid its DICOM describes."""
        selector = self._values["inputSelector"]
        if selector in _CONNECTOR_OF:
            image = self._connector(selector)
            connector = _CONNECTOR_OF[selector]
            remedy = f"connect an image read from DICOM (or a field given its DICOM) to {connector}"
            if image is None:
                raise self._empty_source(f"{connector} is not connected", remedy)
            if not image.datasets:
                raise self._empty_source(f"the image at {connector} carries no DICOM "
                                         "information to inherit", remedy)
            return image.datasets[0], dicom_geometry(image.datasets)
        if selector == "File":
            text = self._values["unresolvedFileName"]
            if not text.strip():
                raise self._empty_source("no file to inherit from is set in unresolvedFileName",
                                         "set unresolvedFileName to a DICOM file")
            path = resolve_path(text, self.base_dir)
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
            raise self._empty_source("inputBase is not connected",
                                     "connect a DICOM tree or a volume list to inputBase")
        if isinstance(base, Dataset):
            return base, dicom_geometry([base])
        try:
            volume = base.select(self._values["inputVolumeIndex"])
        except VolumeError as error:
            raise BadParameterError([str(error)]) from None
        return volume.first, volume.geometry

    @_trigger
    def inheritDICOMTags(self) -> InheritanceReport | None:
        """Inherit DICOM information from the selected input; returns what changed (None
        when refused with ``postBadParamErrors`` off: the status says why).

        Hand-written values are overwritten, as documented, and no longer count as set by
        hand (:attr:`overrides`), but they are kept: :meth:`undoInheritance` restores them
        exactly. A refusal (no source, an unreadable file, a volume index out of range)
        changes no field.
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
        self._undo = (undo, self._other_tags, self.overrides)
        self._inherited = {name: self._values[name] for name in new}
        self.overrides = {}
        self._other_tags = other_input_tags(source)
        self.last_inheritance = report
        self._set_status(f"inherited {len(report.changes)} field(s) from "
                         f"{self._values['inputSelector']}")
        return report

    @_trigger
    def undoInheritance(self) -> None:
        """Restore the values the last inheritance replaced."""
        if self._undo is None:
            raise BadParameterError(["undoInheritance: there is no inheritance to undo"])
        values, self._other_tags, self.overrides = self._undo
        self._values.update(values)
        self._undo = None
        self._set_status("restored the values before the last inheritance")

    @_trigger
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
        warnings = [other_patient_warning(self._values["patientID"], image)]
        if image.reading_note:  # a referenced series that lost a slice says so
            warnings.append(f"warning: {len(self._references)} instance(s) referenced, but "
                            f"{image.reading_note}")
        warning = "; ".join(w for w in warnings if w) or None
        self._set_status(f"referenced {len(self._references)} instance(s) of "
                         f"{_CONNECTOR_OF[selector]}" + (f"; {warning}" if warning else ""))
        return warning

    @_trigger
    def clearReferencedImageSequenceFields(self) -> None:
        """Clear the four referenced-image fields, and the Common Instance Reference fields
        with them: the module lists exactly the instances the REG references."""
        for name in _RIS_FIELDS + _CIR_FIELDS:
            self._values[name] = ""
        self._references = []

    def _referenced(self, values: Mapping[str, Any]) -> list[InstanceReference] | None:
        """The known instances the Referenced Image Sequence fields name, in their order;
        None when they name none that is known (typed by hand: their series are unknown)."""
        named = uid_lines(values["referencedImageSequenceReferencedSOPInstanceUIDs"])
        if not named:
            return []
        chosen = set(named)
        known = [r for r in self._references if r.sop_instance_uid in chosen]
        return known or None

    @_trigger
    def updateUIDInheritance(self) -> None:
        """Recompute the Common Instance Reference fields for the current Study Instance UID
        from the referenced instances: empty without any; left as they are when the
        referenced UIDs were typed by hand (their series and studies are not known here)."""
        referenced = self._referenced(self._values)
        if referenced is not None:
            self._values.update(reference_fields(referenced, self._values["studyInstanceUID"]))

    @_trigger
    def referencedSeriesClear(self) -> None:
        """Clear the Referenced Series fields of the Common Instance Reference Module."""
        for name in _CIR_FIELDS[:3]:
            self._values[name] = ""

    @_trigger
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
            referenced = self._referenced(values)
            if values["autoUpdateOnStudyInstanceUIDChanges"] and referenced:
                values.update(reference_fields(referenced, values["studyInstanceUID"]))
        if values["autoCreateStudyInstanceUID"] or (
                values["studyInstanceUID"] == self._created_study):
            self._new_study_values(values)
        if values["autoCreateSeriesInstanceUID"]:
            values["seriesInstanceUID"] = self._pending.setdefault("series", generate_uid())
        return values

    def _new_study_values(self, values: dict[str, Any]) -> None:
        """A new study's date, time and ID are the moment of saving (unless set by hand:
        an inherited one is another study's); its series number 1 when none is given."""
        moment = self._pending.setdefault(
            "moment", datetime.datetime.now().strftime("%Y%m%d%H%M%S"))
        for name, part in _NEW_STUDY_MOMENT.items():
            inherited = name in self._inherited and values[name] == self._inherited[name]
            if name not in self.overrides and (not values[name] or inherited):
                values[name] = moment[part]
        if not values["seriesNumber"]:
            values["seriesNumber"] = "1"

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

    def connector_refusals(self) -> list[Problem]:
        """The connectors refused what they were given (each is empty until it is given
        something it takes, or nothing): a save and the tag dump are refused meanwhile."""
        return list(self._refused_connectors.values())

    def compose(self) -> tuple[Dataset | None, list[Problem], dict[str, Any]]:
        """Compose the Dataset Save would write, after the modifier plugins.

        Returns
        -------
        tuple
            The Dataset (None if the fields cannot be composed), the problems found, and the
            field values it was composed from (with any auto-created UIDs).
        """
        values = self._values_for_save()
        refused = self.connector_refusals()
        if refused:
            return None, refused, values
        catalogue = {r.sop_instance_uid: r for r in self._references}
        problems = check_fields(values, self.input0, catalogue)
        if problems:
            return None, problems, values
        assert self.input0 is not None
        ds = compose(values, self.input0, other_tags=self._other_tags,
                     sop_instance_uid=self.next_sop_instance_uid)
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

    @property
    def next_sop_instance_uid(self) -> str:
        """The SOP Instance UID the next save writes (and the tag dump shows)."""
        return self._pending.setdefault("sop", generate_uid())

    def resolved_file_name(self) -> Path:
        """``fileName`` resolved like every path of the module."""
        return resolve_path(self._values["fileName"], self.base_dir)

    def _input_files(self) -> dict[str, str | None]:
        """The files this module reads, by what they are (for the overwrite guard)."""
        inputs: dict[str, str | None] = {}
        for name in ("input0", "input1", "inputBase"):
            value = getattr(self, name)
            # Images and volume lists know their source; a dataset read from a file, its name.
            source = getattr(value, "source", None) or getattr(value, "filename", None)
            inputs[f"the source of {name}"] = source if isinstance(source, str) else None
            # The DICOM headers of the image, read from files (a series' without reading them)
            for number, filename in enumerate(dataset_files(getattr(value, "datasets", [])), 1):
                inputs[f"a DICOM file of {name} (instance {number})"] = filename
        if self._values["unresolvedFileName"].strip():
            inputs["the inherited file (unresolvedFileName)"] = str(
                resolve_path(self._values["unresolvedFileName"], self.base_dir))
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

    def run(self, *, inherit: bool = True, progress: Callable[[float], bool] | None = None,
            verify: Callable[[Path], None] | None = None) -> RunResult:
        """The run sequence: inherit, reference, re-apply the values set by hand, save.

        What ``dicomreg run``, ``dicomreg save``, the DicomREGSave node and the panel's Save
        all do; see :func:`~dicomreg.core.regsave.sequence.run_sequence` for its rules.
        """
        from dicomreg.core.regsave.sequence import run_sequence

        refused = self.connector_refusals()
        if refused:  # before inheriting: a refused connector is the first thing to mend
            raise BadParameterError(refused)

        return run_sequence(self, inherit=inherit, progress=progress, verify=verify)
