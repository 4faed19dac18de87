"""The tag dump: as Save writes, annotated, private values, binary heads, filter, clamp."""

from __future__ import annotations

import re
import time

import pytest
from conftest import SAMPLE, sample_module

from dicomreg.core.cli.main import main
from dicomreg.core.dicom import SHORTENED, DumpOptions, FileRegion, read_header, tag_dump
from dicomreg.core.fields import FieldValueError, LineFilter, LineFilterError
from dicomreg.core.modifiers import DicomModifyTagsPlugin


@pytest.fixture
def module():
    m = sample_module()
    m.inheritDICOMTags()
    m.updateReferencedImageSequenceUIDInheritance()
    # Text that the documentation's filter examples look for, and the source's other tags
    # (Acquisition Time (0008,0032) among them).
    m.set_many({"contentDescription": "logo check, see image.JPG and scan.jpg",
                "seriesDescription": "lower and UPPER", "copyOtherInputTags": "TRUE"})
    return m


_MOMENTS = re.compile(r"Instance Creation (Date|Time)|Content (Date|Time)")


def comparable(text: str) -> list[str]:
    """Dump lines without the moments of composing, which differ between two composings."""
    return [line for line in text.splitlines() if not _MOMENTS.search(line)]


def test_dump_is_what_save_writes(module, tmp_path):
    dump = module.get("tagDump")
    module.set("fileName", str(tmp_path / "reg.dcm"))
    written = tag_dump(read_header(module.save()))
    assert comparable(dump) == comparable(written)
    assert "1.2.840.10008.5.1.4.1.1.66.3 = Deformable Spatial Registration Storage" in dump


def test_dump_follows_fields_inputs_and_plugins(module):
    first = module.get("tagDump")
    module.set("contentLabel", "CHANGED")
    assert "CHANGED" in module.get("tagDump") and "CHANGED" not in first
    module.inputModifierList = [DicomModifyTagsPlugin([{"op": "set", "tag": "PatientID",
                                                        "value": "FROM-PLUGIN"}])]
    assert "FROM-PLUGIN" in module.get("tagDump")
    module.input1 = None
    module.clearReferencedImageSequenceFields()
    assert "Referenced Image Sequence" not in module.get("tagDump")
    module.input0 = None
    assert module.get("tagDump").startswith("# nothing to dump yet")


def test_problems_show_at_the_top(module):
    module.set("contentLabel", "")
    assert module.get("tagDump").startswith("# not written as it is: ContentLabel (0070,0080)")


def test_size_clamp_appends_the_documented_message(module):
    module.set("tagDumpSize", "500")
    dump = module.get("tagDump")
    assert dump.endswith("\n" + SHORTENED) and len(dump) <= 500 + len(SHORTENED) + 1


def test_binary_bytes_and_the_vectors_are_never_read_whole(tmp_path, monkeypatch):
    path = tmp_path / "reg.dcm"
    assert main(["save", str(SAMPLE / "field.mha"), "-o", str(path), "--no-dciodvfy",
                 "--set", "frameOfReferenceUID=1.2.3", "--set",
                 "sourceFrameOfReferenceUID=1.2.4"]) == 0
    read = []
    real = FileRegion.readinto

    def counting(self, buffer):
        count = real(self, buffer)
        read.append(count)
        return count

    monkeypatch.setattr(FileRegion, "readinto", counting)
    ds = read_header(path)
    for count, shown in ((3, "276480 bytes: "), (0, "276480 bytes")):
        line = next(li for li in tag_dump(ds, DumpOptions(binary_bytes=count)).splitlines()
                    if "Vector Grid Data" in li)
        assert line.split("Vector Grid Data")[1].strip().startswith(shown)
        assert len(re.findall(r"\b[0-9a-f]{2}\b", line.split("bytes")[1])) == count
    assert sum(read) <= 64 * 1024  # one buffered read at most, never the 276 kB


def test_private_values_decoded_when_asked(module):
    module.inputModifierList = [DicomModifyTagsPlugin([
        {"op": "set_private", "group": "0029", "creator": "SIEMENS CSA HEADER",
         "element": "08", "vr": "UN", "value": b"IMAGE NUM 4 "}])]
    plain = module.get("tagDump")
    assert "[SIEMENS CSA HEADER] private" in plain and "49 4d 41 47" in plain  # raw bytes
    module.set("dumpPrivateTagValues", "TRUE")
    decoded = module.get("tagDump")
    line = next(li for li in decoded.splitlines() if "(0029,1008)" in li)
    assert "CS [SIEMENS CSA HEADER] CSA Image Header Type" in line
    assert line.endswith("IMAGE NUM 4")


def test_annotation_shows_every_type_with_its_meaning(module):
    module.set("annotate", "TRUE")
    lines = module.get("tagDump").splitlines()

    def line(name):
        return next(li for li in lines if f" {name} " in li)

    assert line("Content Label").endswith(
        "[Type 1: Mandatory; in deformable spatial registration]")
    assert "[Type 2: Mandatory, may have zero length or no item; in general study]" in \
        line("Study Date")
    module.set_many({"laterality": "WriteEmptyTagValue", "bodyPartExamined": ""})
    lines = module.get("tagDump").splitlines()
    assert "Type 2C: Conditionally Mandatory, but may be empty" in line("Laterality")
    assert "Type 1C: Conditionally Mandatory" in line("Referenced Image Sequence")
    assert "Type 3: Optional" in line("Instance Creation Date")


# The documentation's filter table, each example with an independent statement of what it
# matches (a whole line).
DOCUMENTED_FILTERS = [
    (r".*", lambda s: True),
    (r".*(0008,0032).*", lambda s: "0008,0032" in s),
    (r".*(0020,000D).*", lambda s: "0020,000D" in s),
    (r".*logo.*", lambda s: "logo" in s),
    (r".*[lL][oO][gG][oO].*", lambda s: "logo" in s.lower()),
    (r".*.[jJ][pP][gG]", lambda s: len(s) >= 4 and s[-3:].lower() == "jpg"),
    (r".*.JPG|.*.jpg", lambda s: len(s) >= 4 and s[-3:] in ("JPG", "jpg")),
    (r".*\d.*", lambda s: any(c.isdigit() for c in s)),
    (r".*[[:digit:]].*", lambda s: any(c.isdigit() for c in s)),
    (r".*[[:xdigit:]].*", lambda s: any(c in "0123456789abcdefABCDEF" for c in s)),
    (r".*\l.*", lambda s: any(c.islower() for c in s)),
    (r".*[[:lower:]].*", lambda s: any(c.islower() for c in s)),
    (r".*\u.*", lambda s: any(c.isupper() for c in s)),
    (r".*[[:upper:]].*", lambda s: any(c.isupper() for c in s)),
    (r".*\s.*", lambda s: any(c.isspace() for c in s)),
    (r".*[[:space:]].*", lambda s: any(c.isspace() for c in s)),
    (r".*[[:blank:]].*", lambda s: " " in s or "\t" in s),
    (r".*[[:word:]].*", lambda s: any(c.isalnum() or c == "_" for c in s)),
    (r".*[[:w:]].*", lambda s: any(c.isalnum() or c == "_" for c in s)),
    (r".*[[:graph:]].*", lambda s: any(c.isprintable() and not c.isspace() for c in s)),
    (r".*[5-7].*", lambda s: any(c in "567" for c in s)),
]


@pytest.mark.parametrize(("expression", "expected"), DOCUMENTED_FILTERS,
                         ids=[e for e, _ in DOCUMENTED_FILTERS])
def test_documented_filter_examples_on_a_real_reg_dump(module, expression, expected):
    full = comparable(module.get("tagDump"))
    module.set("regExLineFilter", expression)
    kept = comparable(module.get("tagDump"))
    assert kept == [line for line in full if expected(line)]


def test_every_example_selects_something_and_some_select_less(module):
    full = module.get("tagDump").splitlines()
    counts = {e: len(LineFilter(e).filter(full)) for e, _ in DOCUMENTED_FILTERS}
    assert all(counts.values()), counts
    assert counts[r".*.JPG|.*.jpg"] < counts[r".*"]


def test_invalid_filter_is_refused_when_set(module):
    with pytest.raises(FieldValueError, match=r"^regExLineFilter: '\(\[a' is not a valid"):
        module.set("regExLineFilter", "([a")


def test_a_filter_cannot_hang(module):
    started = time.monotonic()
    with pytest.raises(LineFilterError, match="takes too long"):
        LineFilter("(a|aa)+$").filter(["a" * 60 + "!"] * 50)
    assert time.monotonic() - started < 5


def test_dump_command(tmp_path, capsys):
    path = tmp_path / "reg.dcm"
    assert main(["save", str(SAMPLE / "field.mha"), "--fixed", str(SAMPLE / "fixed"),
                 "-o", str(path), "--no-dciodvfy"]) == 0
    capsys.readouterr()
    assert main(["dump", str(path), "--annotate", "--filter", ".*Content Label.*"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "REGISTRATION  [Type 1: Mandatory" in out[0]
    assert main(["dump", str(SAMPLE / "fixed" / "CT001.dcm"), "--max-size", "300"]) == 0
    assert capsys.readouterr().out.strip().endswith(SHORTENED)
    assert main(["dump", str(path), "--filter", "([a"]) == 1
    assert "not a valid regular expression" in capsys.readouterr().err


# The tag dump fields, their documented defaults, and a value other than the default.
DUMP_FIELDS = {"annotate": (False, "TRUE", True),
               "dumpPrivateTagValues": (False, "TRUE", True),
               "numShownBinaryEntries": (8, "3", 3),
               "tagDumpSize": (1_000_000, "500", 500),
               "regExLineFilter": ("", "Patient", "Patient")}


def test_dump_options_stand_for_every_tag_dump_field():
    from dicomreg.core.fields import FIELDS
    from dicomreg.core.regsave import DicomREGSave

    settable = {f.name for f in FIELDS if f.group == "tag dump" and f.persistent}
    assert set(DumpOptions.field_names().values()) == settable == set(DUMP_FIELDS)
    assert DumpOptions().to_values() == {name: v[0] for name, v in DUMP_FIELDS.items()}
    assert DumpOptions.from_values(DicomREGSave().values()) == DumpOptions()
    for name, (_default, text, typed) in DUMP_FIELDS.items():
        module = DicomREGSave()
        module.set(name, text)
        options = DumpOptions.from_values(module.values())
        (changed,) = [o for o, f in DumpOptions.field_names().items() if f == name]
        assert getattr(options, changed) == typed
        assert options.to_values() == {**DumpOptions().to_values(), name: typed}
        assert DumpOptions.from_values(options.to_values()) == options



def test_undecodable_values_are_escaped_never_raw_control_bytes(tmp_path, capsys):
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.PatientName = "Bad\x00Name"
    ds.StudyDescription = "two\nlines\x1b[31m"
    ds.add_new((0x0011, 0x0010), "LO", "ACME")
    ds.add_new((0x0011, 0x1001), "UN", b"\x00\x01text\x00")
    text = tag_dump(ds, DumpOptions(private_values=True))
    assert not any(ord(c) < 32 for c in text.replace("\n", ""))
    assert "Bad\\x00Name" in text and "two\\nlines\\x1b[31m" in text
    assert len(text.splitlines()) == 4  # one line per attribute, a newline escaped
