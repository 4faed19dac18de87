"""The Qt panels (offscreen): the module's panel, the tag dump viewer, the preview."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import SAMPLE, focus, make_case, sample_module
from pydicom import dcmread

from dicomreg.core import Geometry, Image, read_displacement_field
from dicomreg.core.dicom import DumpOptions, tag_dump


@pytest.fixture
def module():
    return sample_module()


@pytest.fixture
def panel(qtbot, module):
    from dicomreg.widgets.panel import DicomREGSavePanel

    widget = DicomREGSavePanel(module)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_every_visible_field_has_an_editor_in_its_groups_tab(panel):
    from dicomreg.core.fields import FIELDS, FieldType

    dump_fields = {"tagDump", "tagDumpSize", "dumpPrivateTagValues", "numShownBinaryEntries",
                   "annotate", "regExLineFilter"}  # the dump viewer's toggles instead
    expected = {f.name for f in FIELDS if f.type is not FieldType.TRIGGER} - dump_fields
    assert set(panel.editors) == expected
    triggers = {f.name for f in FIELDS if f.type is FieldType.TRIGGER}
    assert set(panel.buttons) == triggers
    titles = [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
    assert titles[:4] == ["Inheritance", "Tag dump", "Save", "Patient"]


def test_editing_a_field_sets_the_module_and_back(panel, module, qtbot):
    editor = panel.editors["contentLabel"]
    editor.edit.setText("MY_LABEL")
    editor.edit.editingFinished.emit()
    assert module.get("contentLabel") == "MY_LABEL"
    module.set("contentDescription", "set in the module")
    panel.refresh()
    assert panel.editors["contentDescription"].text() == "set in the module"
    matrix = panel.editors["preDeformationMatrix"]
    matrix.spins[3].setValue(12.5)
    matrix.spins[3].editingFinished.emit()
    assert module.get("preDeformationMatrix")[3] == 12.5


def test_an_invalid_value_is_marked_at_once_with_its_rule(panel, module, qtbot):
    editor = panel.editors["studyInstanceUID"]
    qtbot.keyClicks(editor.edit, "1.02.3")
    assert editor.problem and "leading zero" in editor.problem
    assert "leading zero" in panel.status.text() and "leading zero" in editor.toolTip()
    editor.edit.editingFinished.emit()
    assert module.get("studyInstanceUID") != "1.02.3"  # refused, the field keeps its value
    editor.edit.setText("1.2.3")
    editor.edit.editingFinished.emit()
    assert editor.problem is None and module.get("studyInstanceUID") == "1.2.3"


def test_user_defined_strings_and_read_only_outputs(panel, module):
    year_string = panel.editors["patientBirthDateYearString"].edit
    combo = panel.editors["patientBirthDateYearEnum"].combo
    # The year defaults to unknown (User Defined, empty); a chosen year disables the string.
    assert module.get("patientBirthDateYearEnum") == "User Defined" and year_string.isEnabled()
    combo.setCurrentIndex(combo.findData("1970"))
    assert module.get("patientBirthDateYearEnum") == "1970"
    assert not year_string.isEnabled()
    combo.setCurrentIndex(combo.findData("User Defined"))
    assert module.get("patientBirthDateYearEnum") == "User Defined" and year_string.isEnabled()
    for name in ("absoluteFileName", "numVolumes", "status"):
        assert not any(w.isEnabled() for w in panel.editors[name].findChildren(type(year_string)))


def test_inherit_marks_the_changed_fields_and_undo_is_one_click(panel, module, qtbot):
    module.set("patientsName", "Hand^Written")
    panel.refresh()
    from qtpy.QtCore import Qt

    qtbot.mouseClick(panel.buttons["inheritDICOMTags"], Qt.MouseButton.LeftButton)
    assert module.get("patientsName") == "Phantom^Abdomen"
    assert panel.editors["patientsName"].marked and not panel.editors["contentLabel"].marked
    assert "inherited" in panel.status.text()
    qtbot.mouseClick(panel.buttons["undoInheritance"], Qt.MouseButton.LeftButton)
    assert module.get("patientsName") == "Hand^Written"
    assert not panel.editors["patientsName"].marked


def test_each_trigger_button(panel, module, qtbot):
    from qtpy.QtCore import Qt

    def click(name):
        qtbot.mouseClick(panel.buttons[name], Qt.MouseButton.LeftButton)

    for name, field in (("createStudyInstanceUID", "studyInstanceUID"),
                        ("createSeriesInstanceUID", "seriesInstanceUID")):
        before = module.get(field)
        click(name)
        assert module.get(field) != before and panel.editors[field].text() == module.get(field)
    click("inheritDICOMTags")
    click("updateReferencedImageSequenceUIDInheritance")
    assert module.get("referencedImageSequenceReferencedSOPInstanceUIDs").count("\n") == 11
    click("referencedStudiesClear")
    assert module.get("commonInstanceReferenceStudyInstanceUID") == ""
    click("updateUIDInheritance")
    assert module.get("commonInstanceReferenceStudyInstanceUID") != ""
    click("referencedSeriesClear")
    assert module.get("referencedSeriesSeriesInstanceUID") == ""
    click("clearReferencedImageSequenceFields")
    assert panel.editors["referencedImageSequenceReferencedSOPInstanceUIDs"].text() == ""


def test_save_runs_in_the_background_and_a_cancel_leaves_no_file(panel, module, qtbot,
                                                                 tmp_path):
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    module.inheritDICOMTags()
    module.updateReferencedImageSequenceUIDInheritance()
    module.set("fileName", str(tmp_path / "reg.dcm"))
    focus(qtbot, panel.editors["contentLabel"].edit)  # a person clicks into the panel
    QTest.keyClick(panel.focusWidget(), "s", Qt.KeyboardModifier.ControlModifier)  # Ctrl+S
    assert panel.task is not None
    qtbot.waitUntil(lambda: not panel.task.running, timeout=20000)
    qtbot.waitUntil(lambda: panel.tabs.isEnabled(), timeout=5000)
    assert (tmp_path / "reg.dcm").exists() and "saved" in panel.status.text()
    assert dcmread(tmp_path / "reg.dcm").Modality == "REG"

    module.set("fileName", str(tmp_path / "cancelled.dcm"))
    original = module.save

    def cancelled_at_once(verify=None, progress=None):  # Cancel before the first chunk
        panel.cancel()
        return original(verify=verify, progress=progress)

    module.save = cancelled_at_once
    try:
        panel.trigger("save")
        qtbot.waitUntil(lambda: not panel.task.running, timeout=20000)
        qtbot.waitUntil(lambda: panel.tabs.isEnabled(), timeout=5000)
    finally:
        module.save = original
    assert "cancelled" in panel.status.text()
    assert not (tmp_path / "cancelled.dcm").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ctrl_r_inherits(panel, module, qtbot):
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    focus(qtbot, panel.editors["contentLabel"].edit)
    QTest.keyClick(panel.focusWidget(), "r", Qt.KeyboardModifier.ControlModifier)
    assert module.get("patientID") == "DICOMREG-SAMPLE-01"


def test_the_filter_box_filters_as_you_type(panel, module, qtbot):
    panel.trigger("inheritDICOMTags")
    view = panel.dump_view
    everything = view.text.toPlainText().splitlines()
    view.filter.setText(".*[[:digit:]]{8}.*")  # a date, or any 8 digits
    kept = view.text.toPlainText().splitlines()
    assert 0 < len(kept) < len(everything)
    assert all(any(ch.isdigit() for ch in line) for line in kept)
    assert module.get("regExLineFilter") == ".*[[:digit:]]{8}.*"
    view.filter.setText("([a")
    assert "not a valid regular expression" in view.message.text()
    assert view.text.toPlainText().splitlines() == kept  # the last valid filter stays
    view.filter.setText("")
    view.search.setText("Content Label")
    assert view.find_next()
    assert view.text.textCursor().selectedText() == "Content Label"


def test_dump_view_for_any_file(qtbot):
    from dicomreg.core.dicom import read_header
    from dicomreg.widgets.tag_dump_view import TagDumpView

    ds = read_header(SAMPLE / "sample_reg.dcm")
    view = TagDumpView(lambda options: tag_dump(ds, options), DumpOptions())
    qtbot.addWidget(view)
    view.annotate.setChecked(True)
    assert "[Type 1: Mandatory" in view.text.toPlainText()
    view.binary.setValue(2)
    line = next(li for li in view.text.toPlainText().splitlines() if "Vector Grid Data" in li)
    shown = line.split("bytes:")[1].split("[")[0]
    assert len(re.findall(r"\b[0-9a-f]{2}\b", shown)) == 2 and "..." in shown


def preview_of(qtbot, image):
    from dicomreg.widgets.deformation_preview import DeformationPreview

    preview = DeformationPreview(image)
    qtbot.addWidget(preview)
    preview.show()
    assert preview.wait_for_statistics()
    return preview


def test_preview_shows_the_magnitude_of_a_known_field(qtbot):
    vectors = np.zeros((6, 8, 10, 3), np.float32)
    vectors[..., 0], vectors[..., 1] = 3.0, 4.0
    vectors[:, :, 5:, 2] = 12.0  # |(3, 4, 12)| = 13 on half of each slice
    preview = preview_of(qtbot, Image(vectors, Geometry((10, 8, 6), (1.0, 1.0, 2.0),
                                                        (0.0, 0.0, 0.0))))
    shown = preview.slice_values()
    assert shown.shape == (8, 10)
    assert np.allclose(shown[:, :5], 5.0) and np.allclose(shown[:, 5:], 13.0)
    assert "max 13 mm" in preview.info.text()
    preview.axis.setCurrentText("Sagittal")
    assert preview.slice_values().shape == (6, 8)
    assert preview.canvas.image is not None and preview.canvas.arrows is not None


def test_preview_counts_the_folds_of_a_folding_field(qtbot):
    size = (12, 10, 8)
    k, j, i = np.meshgrid(*(np.arange(n) for n in size[::-1]), indexing="ij")
    x = i * 1.5
    vectors = np.zeros((*size[::-1], 3), np.float32)
    folded = i >= 6  # x -> -x there: the mapping turns space inside out
    vectors[..., 0] = np.where(folded, -2.0 * x, 0.0)
    preview = preview_of(qtbot, Image(vectors, Geometry(size, (1.5, 1.0, 1.0),
                                                        (0.0, 0.0, 0.0))))
    # Every voxel with i >= 6 folds (det = -1); by central differences the voxel just
    # before the jump (i = 5) sees it too: (-18 - 0) / 2 / 1.5 mm = -6, det = -5.
    expected = int(np.count_nonzero(i >= 5))
    assert preview.folding.count == expected
    preview.view.setCurrentText("Jacobian determinant")
    assert f"whole field: {expected} folding voxel(s)" in preview.info.text()
    assert "magenta" in preview.info.text()
    calm = preview_of(qtbot, read_displacement_field(SAMPLE / "field.mha"))
    assert calm.folding.count == 0


def test_widgets_import_no_ryven():
    script = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("ryven", "ryvencore", "ryvencore_qt"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        from qtpy.QtWidgets import QApplication
        app = QApplication([])
        from dicomreg.core import DicomREGSave
        from dicomreg.widgets.panel import DicomREGSavePanel
        from dicomreg.widgets.deformation_preview import DeformationPreview
        DicomREGSavePanel(DicomREGSave()); DeformationPreview()
        print("OK", [m for m in sys.modules if m.startswith("ryven")])
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "OK []" in completed.stdout, completed.stderr[-2000:]


def test_the_node_inspector_is_the_panel(flow_window, tmp_path):
    case = make_case(tmp_path)
    _window, session_gui = flow_window
    session = session_gui.core_session
    flow = session.create_flow("panel")
    types = {t.title: t for t in session.nodes}
    field = flow.create_node(types["DisplacementField"])
    node = flow.create_node(types["DicomREGSave"])
    flow.connect_nodes(field.outputs[0], node.inputs[0])
    field.settings["fileName"] = str(case.field)
    field.update()
    inspector = session_gui.flow_views[flow].node_items[node].node_gui.inspector_widget
    panel = inspector.panel if hasattr(inspector, "panel") else inspector.child.panel
    panel.editors["contentLabel"].edit.setText("FROM_PANEL")
    panel.editors["contentLabel"].edit.editingFinished.emit()
    assert node.module.get("contentLabel") == "FROM_PANEL"
    assert node.overrides["contentLabel"] == "FROM_PANEL"  # remembered for dicomreg run
    assert (inspector.preview if hasattr(inspector, "preview") else inspector.child.preview
            ).image is node.module.input0


def test_a_source_reads_off_the_gui_thread(qtbot, flow_window, tmp_path):
    make_case(tmp_path)
    _window, session_gui = flow_window
    session = session_gui.core_session
    flow = session.create_flow("sources")
    node = flow.create_node({t.title: t for t in session.nodes}["DicomImport"])
    inspector = session_gui.flow_views[flow].node_items[node].node_gui.inspector_widget
    inspector = getattr(inspector, "child", inspector)
    inspector.edits["directory"].setText(str(tmp_path / "fixed"))
    inspector._changed("directory")
    assert inspector.task is not None
    qtbot.waitUntil(lambda: not inspector.task.running, timeout=20000)
    qtbot.waitUntil(lambda: "volume(s)" in inspector.message.text(), timeout=5000)
    assert node.error == "" and not inspector.progress.isVisible()


def test_a_scan_can_be_cancelled(tmp_path):
    from dicomreg.core.dicom import VolumeError, scan_volumes

    case = make_case(tmp_path)
    source = next(case.fixed.iterdir())
    (tmp_path / "many").mkdir()
    for number in range(70):
        (tmp_path / "many" / f"{number}.dcm").write_bytes(source.read_bytes())
    seen = []
    with pytest.raises(VolumeError, match="was cancelled"):
        scan_volumes(tmp_path / "many", progress=lambda f: seen.append(f) or False)
    assert seen == [64 / 70]


def test_insensitive_fields_are_greyed_until_their_state_enables_them(panel, module, qtbot,
                                                                      tmp_path):
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QLineEdit

    file_name = panel.editors["unresolvedFileName"].findChildren(QLineEdit)[0]
    volume = panel.editors["inputVolumeIndex"]
    assert module.get("inputSelector") == "ImageConnector #0"
    assert not file_name.isEnabled()
    assert not any(w.isEnabled() for w in volume.findChildren(QLineEdit))
    combo = panel.editors["inputSelector"].combo
    panel.tabs.setCurrentIndex(0)
    combo.setCurrentIndex(combo.findData("File"))
    assert module.get("inputSelector") == "File" and file_name.isEnabled()
    qtbot.mouseClick(file_name, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(file_name, "x.dcm")
    qtbot.keyClick(file_name, Qt.Key.Key_Return)
    assert module.get("unresolvedFileName") == "x.dcm"
    panel.grab().save(str(tmp_path / "file_selected.png"))
    combo.setCurrentIndex(combo.findData("BaseConnector"))
    assert not file_name.isEnabled()
    assert all(w.isEnabled() for w in volume.findChildren(QLineEdit))
