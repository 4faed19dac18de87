"""The dicomreg nodes in the Ryven editor.

Imported only inside the package's ``on_gui_load`` hook, so the nodes run without Qt.
DicomREGSave's inspector is the module's panel (:mod:`dicomreg.widgets.panel`) with a
Deformation tab; its triggers are context-menu actions too, beside "Show field as input..."
and "Hide field input..." (a field picked from a searchable list becomes an input port).
The other nodes' inspectors are a form of their settings (paths with a file chooser), and
the field sources also show their field. A flow's saved actions are dropped on loading
(:func:`~dicomreg.nodes.flows.load_flow`): each GUI builds its own menu again.
"""

from __future__ import annotations

import json
from typing import Any

from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from ryven.gui_env import NodeGUI, NodeInspectorWidget, NodeMainWidget, node_gui

from dicomreg.core.errors import DicomRegError
from dicomreg.core.registration import with_voxels
from dicomreg.widgets.deformation_preview import DeformationPreview
from dicomreg.widgets.field_picker import pick_field
from dicomreg.widgets.fused_view import FusedView
from dicomreg.widgets.panel import DicomREGSavePanel
from dicomreg.widgets.tasks import BackgroundTask

from .catalogue import NODE_TYPES
from .register_node import RegisterNode
from .regsave_node import DicomREGSaveNode, trigger_menu
from .source_nodes import DisplacementFieldNode, RegLoadNode
from .view_nodes import FusedViewNode

__all__ = ["HIDE_FIELD", "SHOW_FIELD", "DicomNodeGUI", "DicomREGSaveGUI",
           "DicomREGSaveInspector", "FusedViewGUI", "FusedViewInspector", "SettingsInspector",
           "StatusBody"]

#: The context-menu entries that show a field as an input port and hide it again.
SHOW_FIELD = "Show field as input..."
HIDE_FIELD = "Hide field input..."

# The nodes whose inspector shows their field, and the input of those with a fixed image.
_PREVIEWED = (DisplacementFieldNode, RegLoadNode, RegisterNode)
_FIXED_INPUT = {DisplacementFieldNode: 0, RegisterNode: 0}


def _follow_timer(widget: QWidget, follow: Any) -> QTimer:
    """A short timer calling ``follow`` on the GUI thread: a node may change what it holds
    off that thread (the sources read when a flow opens), and a view follows by looking."""
    timer = QTimer(widget)
    timer.timeout.connect(follow)
    timer.start(250)
    return timer


def _pixels_or_problem(fixed: Any) -> tuple[Any, str | None]:
    """The fixed image with its pixels, or why they cannot be read: returned, not raised, so
    that the answer arrives with the image it belongs to."""
    try:
        return with_voxels(fixed), None
    except DicomRegError as error:
        return None, str(error)


class DicomREGSaveInspector(NodeInspectorWidget, QWidget):
    """The module's panel and a picture of the field at input0."""

    def __init__(self, params: Any) -> None:
        NodeInspectorWidget.__init__(self, params)
        QWidget.__init__(self)
        node = self.node
        self.panel = DicomREGSavePanel(node.module, fire=node.fire, set_field=node.set_field,
                                       on_saved=node.saved)
        self.preview = DeformationPreview(node.module.input0)
        tabs = QTabWidget()
        tabs.addTab(self.panel, "Fields")
        tabs.addTab(self.preview, "Deformation")
        QVBoxLayout(self).addWidget(tabs)
        node.listeners.append(self.follow)

    def follow(self) -> None:
        """The node changed: show its fields, and its new field if it has one."""
        self.panel.refresh()
        if self.preview.image is not self.node.module.input0:
            self.preview.set_image(self.node.module.input0)


class SettingsInspector(NodeInspectorWidget, QWidget):
    """A node's settings as a form: text, numbers, JSON for lists and mappings; a file
    chooser beside paths. A changed setting updates the node."""

    def __init__(self, params: Any) -> None:
        NodeInspectorWidget.__init__(self, params)
        QWidget.__init__(self)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        for name, default in self.node.defaults.items():
            edit = QLineEdit(self._text(self.node.settings[name], default))
            edit.editingFinished.connect(lambda n=name: self._changed(n))
            self.edits[name] = edit
            row: QWidget = edit
            if name in ("directory", "fileName"):
                row = QWidget()
                line = QHBoxLayout(row)
                line.setContentsMargins(0, 0, 0, 0)
                line.addWidget(edit)
                choose = QPushButton("...")
                choose.clicked.connect(lambda _=False, n=name: self._choose(n))
                line.addWidget(choose)
            form.addRow(name, row)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.progress = QProgressBar()
        self.cancel = QPushButton("Cancel")
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel)
        layout.addLayout(busy)
        self.progress.hide()
        self.cancel.hide()
        self.task: BackgroundTask | None = None
        self.preview: DeformationPreview | None = None
        self._underlay_of: Any = None
        if isinstance(self.node, _PREVIEWED):
            self.preview = DeformationPreview()
            layout.addWidget(self.preview, 1)
            self.follow()
            self.timer = _follow_timer(self, self.follow)

    def follow(self) -> None:
        """Show the node's field, and the fixed image under it, when they changed (a flow's
        sources are read after the inspector is made)."""
        assert self.preview is not None
        if self.preview.image is not self.node.image:
            self.preview.set_image(self.node.image)
        index = _FIXED_INPUT.get(type(self.node))
        fixed = None if index is None else self.node.payload(index)
        if fixed is not self._underlay_of:
            self._underlay_of = fixed
            self.preview.set_underlay(None)
            if fixed is not None:
                self._read_underlay(fixed)

    def _read_underlay(self, fixed: Any) -> None:
        """The fixed image's pixels read in a thread (a CT series takes seconds, which the
        window would stand still for): the field shows at once, the underlay when read,
        unless the node's fixed image changed meanwhile."""
        task = BackgroundTask(lambda _progress: (fixed, *_pixels_or_problem(fixed)), self)
        # Bound methods of this widget: Qt delivers them in the GUI thread.
        task.done.connect(self._underlay_read)
        task.failed.connect(self._underlay_failed)
        self._underlay_task = task  # kept: the task's signals live while it runs
        task.start()

    def _underlay_read(self, result: tuple[Any, Any, str | None]) -> None:
        fixed, image, problem = result
        if fixed is not self._underlay_of or self.preview is None:
            return  # read for a fixed image the node no longer has: neither shown nor said
        if problem is not None:
            self.message.setText(f"fixed image: {problem}")
        else:
            self.preview.set_underlay(image)

    def _underlay_failed(self, text: str) -> None:  # an internal error only
        self.message.setText(f"fixed image: {text}")

    @staticmethod
    def _text(value: Any, default: Any) -> str:
        return json.dumps(value) if isinstance(default, (list, dict)) else str(value)

    def _choose(self, name: str) -> None:
        if name == "directory":
            chosen = QFileDialog.getExistingDirectory(self, "Directory")
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "File")
        if chosen:
            self.edits[name].setText(chosen)
            self._changed(name)

    def _changed(self, name: str) -> None:
        try:
            self.node.set_setting(name, self.edits[name].text())
        except (DicomRegError, ValueError) as error:
            self.message.setText(f"{name}: {error}")
            return
        prepare = getattr(self.node, "prepare", None)
        if prepare is None:
            self._update()
            return
        # The slow reading off the GUI thread, then the update (fast, from the cache) on it.
        self.task = BackgroundTask(prepare, self)
        self.task.progressed.connect(lambda f: self.progress.setValue(int(100 * f)))
        self.task.done.connect(lambda _result: self._update())
        self.task.failed.connect(self._update)  # the node reports the error itself
        self.task.cancelled.connect(lambda: self._ended("cancelled"))
        self.cancel.clicked.connect(self.task.cancel)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel.show()
        self.message.setText("reading...")
        self.task.start()

    def _update(self, *_args: object) -> None:
        self.node.update()
        self._ended(self.node.status)
        if self.preview is not None:
            self.follow()

    def _ended(self, message: str) -> None:
        self.progress.hide()
        self.cancel.hide()
        self.message.setText(message)


class StatusBody(NodeMainWidget, QLabel):
    """A node's body: what it holds, or its error, as its status line says.

    The node may change its status off the GUI thread (a background read); the label reads
    it on the GUI thread, on a short timer, instead of being called from that thread.
    """

    def __init__(self, params: Any) -> None:
        NodeMainWidget.__init__(self, params)
        QLabel.__init__(self)
        self.setWordWrap(True)
        self.setMaximumWidth(280)
        self.setMinimumWidth(160)
        self._shown: str | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.follow)
        self.timer.start(250)
        self.follow()

    def follow(self) -> None:
        """Show the node's status if it changed."""
        status = getattr(self.node, "status", "") or _held(self.node)
        if status == self._shown:
            return
        self._shown = status
        shown = status if len(status) <= 160 else status[:157] + "..."
        self.setText(shown)
        self.setToolTip(status)
        self.adjustSize()
        if hasattr(self.node_item, "widget"):  # laid out already: grow with the text
            self.node_gui.update_shape()


def _held(node: Any) -> str:
    """What a node holds before it has said anything: DicomREGSave its connectors."""
    module = getattr(node, "module", None)
    if module is None:
        return "not read yet"
    held = [f"{name}: {'connected' if getattr(module, name, None) is not None else 'empty'}"
            for name in ("input0", "input1", "inputBase")]
    return "; ".join(held) + f"; fileName: {module.get('fileName') or '(not set)'}"


class DicomNodeGUI(NodeGUI):
    """The dicomreg nodes' look; settings in the inspector, the status on the body."""

    color = "#3c7ea3"
    inspector_widget_class = SettingsInspector
    main_widget_class = StatusBody


@node_gui(DicomREGSaveNode)
class DicomREGSaveGUI(DicomNodeGUI):
    """DicomREGSave: the panel in the inspector, the triggers in the context menu."""

    color = "#b35c1e"
    inspector_widget_class = DicomREGSaveInspector

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        for title, name in trigger_menu().items():
            self.actions[title] = {"method": getattr(self.node, name)}
        # Methods of this GUI, not of the node: Ryven finds a saved action's method by name
        # on the GUI.
        self.actions[SHOW_FIELD] = {"method": self.show_field_input}
        self.actions[HIDE_FIELD] = {"method": self.hide_field_input}

    def show_field_input(self) -> None:
        """Pick a field from a searchable list; it becomes an input port of the node."""
        name = pick_field(self.node.showable_fields, SHOW_FIELD.rstrip("."),
                          self.flow_view())
        if name is not None:
            self.node.show_field_as_input(name)

    def hide_field_input(self) -> None:
        """Pick a field shown as an input; its port (and its connection) go."""
        if not self.node.exposed_fields:
            self.node.report("no field is shown as an input", error=True)
            return
        name = pick_field(self.node.exposed_fields, HIDE_FIELD.rstrip("."), self.flow_view())
        if name is not None:
            self.node.hide_field_input(name)


class FusedViewInspector(NodeInspectorWidget, QWidget):
    """The fused view of the node's fixed and warped images."""

    def __init__(self, params: Any) -> None:
        NodeInspectorWidget.__init__(self, params)
        QWidget.__init__(self)
        self.view = FusedView()
        QVBoxLayout(self).addWidget(self.view)
        self._shown: tuple = (None, None)
        self.follow()
        self.timer = _follow_timer(self, self.follow)

    def follow(self) -> None:
        """Show the node's images when they changed."""
        images = (self.node.fixed, self.node.warped)
        if images[0] is not self._shown[0] or images[1] is not self._shown[1]:
            self._shown = images
            self.view.set_images(*images)


@node_gui(FusedViewNode)
class FusedViewGUI(DicomNodeGUI):
    """FusedView: the fused view in the inspector."""

    color = "#4a8f4a"
    inspector_widget_class = FusedViewInspector


for _node_type in NODE_TYPES:
    if _node_type not in (DicomREGSaveNode, FusedViewNode):
        node_gui(_node_type)(type(f"{_node_type.__name__}GUI", (DicomNodeGUI,), {
            "__module__": __name__, "__doc__": f"The {_node_type.title} node's GUI."}))
