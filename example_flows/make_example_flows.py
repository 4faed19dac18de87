"""Make the example flows, headless, with the sample data in example_flows/data.

- ``reg_from_field.json``: a fixed CT, a moving CT and a displacement field; inherit, save
  ``out/reg_from_field.dcm``;
- ``reg_with_modifiers.json``: the same with a chain of the three modifier plugins in front
  of DicomREGSave (de-identification and a site's private block, a registration type code, a
  comment): ``out/reg_with_modifiers.dcm``;
- ``load_and_dump.json``: a REG loaded back and its tag dump, annotated;
- ``register_and_save.json``: the fixed and the moving CT registered inside the flow (the
  Register node, rigid then B-spline), the moving CT warped onto the fixed grid (Warp) and
  fused with the fixed CT (FusedView) to look at before saving, saved
  ``out/register_and_save.dcm``.
- ``pacs_round_trip.json``: fixed and moving retrieved from a PACS, saved, sent back (needs
  a PACS holding the sample series: ``dicomreg run`` with ``--set`` of the addresses).

Run: ``python example_flows/make_example_flows.py`` (all), or with flow names
(``register_and_save``) to remake only those; run a flow with ``dicomreg run FLOW``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dicomreg.nodes.flows import new_session, save_flow

HERE = Path(__file__).resolve().parent
CHAIN = json.loads((HERE / "modifiers" / "deidentify_and_site_block.json").read_text())


def _configure(node, position=None, **settings):
    node.settings.update(settings)
    # The editor places a node by its centre, and its scene starts at 0: keep them inside.
    node.position = None if position is None else (position[0] + 300, position[1] + 150)
    return node


def _new_flow(name: str):
    """A session, its flow ``name``, and ``add(title, position, **settings)`` making a node."""
    session = new_session()
    types = {t.title: t for t in session.nodes}
    flow = session.create_flow(name)

    def add(title: str, position=None, **settings):
        return _configure(flow.create_node(types[title]), position, **settings)
    return session, flow, add


def _field_and_save(flow, add, fixed, moving, values: dict[str, str]):
    """The sample field on the fixed image, saved by DicomREGSave with ``values`` and the
    moving image as input1; the DicomREGSave node."""
    field = add("DisplacementField", (320, 0), fileName="data/field.mha")
    save = add("DicomREGSave", (700, 160))
    save.module.set_many(values)
    flow.connect_nodes(fixed.outputs[1], field.inputs[0])
    flow.connect_nodes(field.outputs[0], save.inputs[0])
    flow.connect_nodes(moving.outputs[1], save.inputs[1])
    return save


def reg_flow(name: str, output: str, modifiers: bool) -> Path:
    session, flow, add = _new_flow(name)
    fixed = add("DicomImport", (0, 0), directory="data/fixed")
    moving = add("DicomImport", (0, 260), directory="data/moving")
    save = _field_and_save(flow, add, fixed, moving, {
        "fileName": output, "contentLabel": "SAMPLE_DIR",
        "contentDescription": "Deformable registration of the sample CTs"})
    if modifiers:
        previous = None
        for number, entry in enumerate(CHAIN):
            settings = {k: v for k, v in entry.items() if k != "plugin"}
            node = add(entry["plugin"], (number * 60, 420 + number * 110), **settings)
            if previous is not None:
                flow.connect_nodes(previous.outputs[0], node.inputs[0])
            previous = node
        flow.connect_nodes(previous.outputs[0], save.inputs[3])
    return save_flow(session, HERE / f"{name}.json")


def dump_flow() -> Path:
    session, flow, add = _new_flow("load_and_dump")
    load = add("RegLoad", (0, 0), fileName="data/sample_reg.dcm")
    dump = add("TagDump", (320, 0), annotate=True)
    flow.connect_nodes(load.outputs[1], dump.inputs[0])
    return save_flow(session, HERE / "load_and_dump.json")


def register_flow() -> Path:
    session, flow, add = _new_flow("register_and_save")
    fixed = add("DicomImport", (0, 0), directory="data/fixed")
    moving = add("DicomImport", (0, 260), directory="data/moving")
    register = add("Register", (320, 0), method="bspline")
    save = add("DicomREGSave", (700, 160))
    save.module.set_many({"fileName": "out/register_and_save.dcm",
                          "contentLabel": "SAMPLE_REGISTER",
                          "contentDescription": "The sample CTs registered by dicomreg"})
    flow.connect_nodes(fixed.outputs[1], register.inputs[0])
    flow.connect_nodes(moving.outputs[1], register.inputs[1])
    flow.connect_nodes(register.outputs[0], save.inputs[0])
    flow.connect_nodes(moving.outputs[1], save.inputs[1])
    warp = add("Warp", (320, 420))
    view = add("FusedView", (700, 480))
    flow.connect_nodes(fixed.outputs[1], warp.inputs[0])
    flow.connect_nodes(moving.outputs[1], warp.inputs[1])
    flow.connect_nodes(register.outputs[0], warp.inputs[2])
    flow.connect_nodes(fixed.outputs[1], view.inputs[0])
    flow.connect_nodes(warp.outputs[0], view.inputs[1])
    return save_flow(session, HERE / "register_and_save.json")


# The sample series' UIDs (data/make_sample_data.py), at an Orthanc's default address: the
# flow runs against a PACS holding them with --set of the addresses.
_PACS = "ORTHANC@127.0.0.1:4242"
_FIXED = ("1.2.826.0.1.3680043.8.498.15373577123128186296102095397453140971",
          "1.2.826.0.1.3680043.8.498.89398202211572808191381986147051565763")
_MOVING = ("1.2.826.0.1.3680043.8.498.39327575396272033005081903395676572527",
           "1.2.826.0.1.3680043.8.498.51526407852151677470288953793930027421")


def pacs_flow() -> Path:
    """Fixed and moving retrieved from a PACS, saved, the REG sent back."""
    session, flow, add = _new_flow("pacs_round_trip")
    fixed = add("PacsRetrieve", (0, 0), series="{}/{}/{}".format(_PACS, *_FIXED))
    moving = add("PacsRetrieve", (0, 260), series="{}/{}/{}".format(_PACS, *_MOVING))
    save = _field_and_save(flow, add, fixed, moving, {"fileName": "out/pacs_round_trip.dcm",
                                                      "contentLabel": "SAMPLE_DIR"})
    send = add("DicomSend", (1000, 160), to=_PACS)
    flow.connect_nodes(save.outputs[0], send.inputs[0])
    return save_flow(session, HERE / "pacs_round_trip.json")


MAKERS = {
    "reg_from_field": lambda: reg_flow("reg_from_field", "out/reg_from_field.dcm", False),
    "reg_with_modifiers": lambda: reg_flow("reg_with_modifiers", "out/reg_with_modifiers.dcm",
                                           True),
    "load_and_dump": dump_flow,
    "register_and_save": register_flow,
    "pacs_round_trip": pacs_flow,
}


def main(names: list[str] | None = None) -> None:
    """Write the example flows next to this script (those named, else all): a flow remade
    gets new IDs, so only the flows that changed are remade."""
    (HERE / "out").mkdir(exist_ok=True)
    for name in names or list(MAKERS):
        if name not in MAKERS:
            raise SystemExit(f"no example flow {name!r}; the flows are {', '.join(MAKERS)}")
        print(f"wrote {MAKERS[name]()}")


if __name__ == "__main__":
    main(sys.argv[1:])
