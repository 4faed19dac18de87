"""The one path rule: ~ and variables expanded, blanks dropped, relative to a base directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomreg.core.input import resolve_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REGDIR", str(tmp_path / "data"))
    monkeypatch.delenv("DICOMREG_UNSET", raising=False)
    return tmp_path


@pytest.mark.parametrize(("text", "expected"), [
    ("~/a.dcm", "home/a.dcm"),
    ("$REGDIR/a.dcm", "data/a.dcm"),
    ("${REGDIR}/sub/a.dcm", "data/sub/a.dcm"),
    ("  rel/a.dcm \n", "base/rel/a.dcm"),
    ("$DICOMREG_UNSET/a.dcm", "base/$DICOMREG_UNSET/a.dcm"),  # an unset variable stays
    ("../up/a.dcm", "up/a.dcm"),  # normalised lexically (as a shell's cd), links not followed
])
def test_the_rule(home, text, expected):
    assert resolve_path(text, home / "base") == home / expected


def test_absolute_paths_ignore_the_base_and_none_is_the_working_directory(home, monkeypatch):
    assert resolve_path(str(home / "x.dcm"), "/elsewhere") == home / "x.dcm"
    monkeypatch.chdir(home)
    assert resolve_path("x.dcm") == Path.cwd() / "x.dcm"
    assert resolve_path(Path("y") / "x.dcm", str(home)) == home / "y" / "x.dcm"



def test_the_module_follows_it(home):
    from dicomreg.core.regsave import DicomREGSave

    module = DicomREGSave(base_dir=home / "base")
    module.set("fileName", "~/out.dcm")
    assert module.resolved_file_name() == home / "home" / "out.dcm"
    module.set("unresolvedFileName", " $REGDIR/in.dcm ")
    assert module.get("absoluteFileName") == str(home / "data" / "in.dcm")
