"""The panel that leads (issue #14, item 4), as a person sees it on a real X server: the
first section holds what a save needs in a save's order; every visible title is distinct;
String twins appear only while their enum says User Defined; the marks are readable in a
light theme and in Ryven's dark one (WCAG contrast >= 4.5, measured on the painted pixels).
"""

from __future__ import annotations

import re

import pytest
from conftest import dciodvfy_counts, focus, sample_module


@pytest.fixture
def module():
    return sample_module()


@pytest.fixture
def panel(qtbot, real_display, module):
    from dicomreg.widgets.panel import DicomREGSavePanel

    widget = DicomREGSavePanel(module)
    qtbot.addWidget(widget)
    widget.resize(900, 900)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _top(widget) -> int:
    return widget.mapTo(widget.window(), widget.rect().topLeft()).y()


def test_the_first_section_holds_what_a_save_needs_in_order(panel, module):
    order = [panel.held["input0"], panel.held["input1"], panel.held["inputBase"],
             panel.held["inputModifierList"], panel.editors["inputSelector"],
             panel.editors["unresolvedFileName"], panel.buttons["inheritDICOMTags"],
             panel.editors["fileName"], panel.buttons["save"], panel.status, panel.verdict]
    assert all(w.isVisible() for w in order)
    tops = [_top(w) for w in order]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), tops
    assert _top(panel.tabs) > tops[-1]  # all the other fields below the section
    # what each input holds, in x by y by z
    field = module.input0
    assert panel.held["input0"].text().startswith(
        "{}x{}x{} of 3-vectors".format(*field.voxels.shape[2::-1]))
    assert "DICOM header(s)" in panel.held["input1"].text()
    assert panel.held["inputBase"].text() == "empty"
    assert panel.verdict.text() == "no file written yet"


def test_all_fields_collapse_and_open_again(panel, qtbot):
    from qtpy.QtCore import Qt

    qtbot.mouseClick(panel.all_fields, Qt.MouseButton.LeftButton)
    assert not panel.tabs.isVisible() and panel.buttons["save"].isVisible()
    qtbot.mouseClick(panel.all_fields, Qt.MouseButton.LeftButton)
    assert panel.tabs.isVisible()


def test_no_two_visible_titles_coincide(panel):
    from qtpy.QtWidgets import QFormLayout, QLabel

    titles = []
    for form in panel.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel) and item.widget().text():
                titles.append(item.widget().text())
    titles += [b.text() for b in panel.buttons.values()]
    # every editor's row, every button, the four connectors, the result and the verdict
    assert len(titles) == len(panel.editors) + len(panel.buttons) + 4 + 2
    assert len(set(titles)) == len(titles), sorted(t for t in titles if titles.count(t) > 1)
    assert "File Name (fileName)" in titles and "File Name (unresolvedFileName)" in titles


def test_string_twins_are_shown_only_while_their_enum_is_user_defined(panel, module, qtbot):
    from qtpy.QtWidgets import QFormLayout

    from dicomreg.core.fields import FIELDS

    twins = [f for f in FIELDS if f.follows]
    assert len(twins) == 4
    patient = panel.tabs.widget([panel.tabs.tabText(i) for i in range(panel.tabs.count())]
                                .index("Patient"))
    panel.tabs.setCurrentWidget(patient)
    form = patient.widget().layout()
    assert isinstance(form, QFormLayout)

    def shown(name: str) -> bool:
        label = form.labelForField(panel.editors[name])
        return panel.editors[name].isVisible() and label.isVisible()

    for twin in twins:
        enum_value = module.get(twin.follows)
        assert shown(twin.name) == (enum_value == "User Defined"), (twin.name, enum_value)
    combo = panel.editors["patientSexEnum"].combo
    assert module.get("patientSexEnum") == "User Defined" and shown("patientSexString")
    combo.setCurrentIndex(combo.findData("Male"))
    assert module.get("patientSexEnum") == "Male"
    qtbot.waitUntil(lambda: not shown("patientSexString"), timeout=2000)
    combo.setCurrentIndex(combo.findData("User Defined"))
    qtbot.waitUntil(lambda: shown("patientSexString"), timeout=2000)
    assert panel.editors["patientSexString"].edit.isEnabled()


def _painted(widget):
    """The painted colours of a line edit: its commonest (the background) and the one that
    stands out most from it (the text)."""
    from collections import Counter

    from qtpy.QtGui import QColor

    from dicomreg.widgets.marks import contrast_ratio

    image = widget.grab().toImage()
    colours = Counter(image.pixel(x, y) for x in range(4, image.width() - 4)
                      for y in range(4, image.height() - 4))
    background = QColor.fromRgb(colours.most_common(1)[0][0])
    text = max((QColor.fromRgb(c) for c in colours),
               key=lambda c: contrast_ratio(c, background))
    return text, background


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_marks_are_readable_in_light_and_ryvens_dark_theme(qtbot, real_display, module, theme):
    from qtpy.QtGui import QPalette
    from qtpy.QtWidgets import QApplication
    from ryven.gui.styling.window_theme import apply_stylesheet

    from dicomreg.widgets.marks import MIN_CONTRAST, contrast_ratio, mark_colours
    from dicomreg.widgets.panel import DicomREGSavePanel

    app = QApplication.instance()
    apply_stylesheet(theme)  # Ryven's own themes, as its window applies them
    try:
        widget = DicomREGSavePanel(module)
        qtbot.addWidget(widget)
        widget.resize(900, 900)
        widget.show()
        qtbot.waitExposed(widget)
        base = widget.editors["patientsName"].palette().color(QPalette.ColorRole.Base)
        assert (base.lightness() < 80) == (theme == "dark"), base.name()
        module.set("patientsName", "Hand^Written")
        widget.trigger("inheritDICOMTags")
        marked = widget.editors["patientsName"]
        problem = widget.editors["studyInstanceUID"]
        qtbot.keyClicks(problem.edit, "1.02")
        assert marked.marked and problem.problem
        for editor, kind in ((marked, "marked"), (problem, "problem")):
            text, background = mark_colours(editor.palette(), kind)
            assert contrast_ratio(text, background) >= MIN_CONTRAST, (theme, kind)
            widget.tabs.setCurrentWidget(editor.parentWidget().parentWidget().parentWidget())
            qtbot.waitUntil(editor.edit.isVisible, timeout=2000)
            painted_text, painted_background = _painted(editor.edit)
            assert painted_background.name() == background.name(), (theme, kind)
            assert contrast_ratio(painted_text, painted_background) >= MIN_CONTRAST
            if theme == "dark":
                assert painted_background.lightness() < 128, painted_background.name()
        widget.grab().save(f"/tmp/marks_{theme}.png")
    finally:
        app.setStyleSheet("")


def test_save_in_the_lead_shows_the_result_and_dciodvfys_verdict(panel, module, qtbot,
                                                                 tmp_path):
    from qtpy.QtCore import Qt

    target = tmp_path / "reg.dcm"
    edit = panel.editors["fileName"].edit
    focus(qtbot, edit)
    edit.selectAll()
    qtbot.keyClicks(edit, str(target))
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert module.get("fileName") == str(target)
    qtbot.mouseClick(panel.buttons["save"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.task.running, timeout=60000)
    qtbot.waitUntil(panel.tabs.isEnabled, timeout=5000)
    assert target.exists() and panel.status.text().startswith("saved"), panel.status.text()
    errors, warnings = dciodvfy_counts(target)
    shown = re.match(r"dciodvfy: (\d+) error\(s\), (\d+) warning\(s\)", panel.verdict.text())
    assert shown, panel.verdict.text()
    assert (int(shown[1]), int(shown[2])) == (len(errors), len(warnings)) and not errors
    assert panel.verdict.text().endswith("(reg.dcm)")


def test_the_field_picker_searches_titles_and_names(qtbot, real_display):
    from qtpy.QtCore import Qt

    from dicomreg.core.fields import FIELDS, FieldType
    from dicomreg.widgets.field_picker import FieldPicker

    names = [f.name for f in FIELDS if f.type is not FieldType.TRIGGER and f.persistent]
    picker = FieldPicker(names, "Show field as input")
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    assert picker.shown_names() == names
    qtbot.keyClicks(picker.search, "file name")  # both File Names, by their distinct titles
    assert picker.shown_names() == ["unresolvedFileName", "fileName"]
    assert picker.chosen == "unresolvedFileName"
    picker.search.clear()
    qtbot.keyClicks(picker.search, "PATIENTSEXSTR")  # a field name, whatever the case
    assert picker.shown_names() == ["patientSexString"]
    picker.search.clear()
    qtbot.keyClicks(picker.search, "no such field")
    assert picker.shown_names() == [] and picker.chosen is None and not picker.ok.isEnabled()
    picker.search.clear()
    qtbot.keyClicks(picker.search, "content label")
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert picker.result() == picker.DialogCode.Accepted and picker.chosen == "contentLabel"
