"""dicomreg batch: many cases on a Dask cluster, failures isolated, reruns skip what is done."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    HOSTILE_KINDS,
    ROOT,
    SITE_BLOCK_WARNINGS,
    assert_clean_refusal,
    dciodvfy_counts,
    fuzz_examples,
    hostile_target,
    make_case,
    snapshot,
    write_field,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomreg.core.cli.main import main
from dicomreg.core.regsave import BatchError, read_manifest, run_batch

BROKEN = {
    5: ("field", "case5/missing.mha", "does not exist"),
    17: ("set:contentLabel", "lower case", "contentLabel: 'lower case' is not a code string"),
    33: ("set:preDeformationMatrix", "2 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1",
         "preDeformationMatrix: it is RIGID_SCALE, not RIGID"),
}


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", silence_logs=40) as local:
        yield local


def write_manifest(folder, count=50):
    rows = []
    for index in range(count):
        make_case(folder / f"case{index}", seed=index)
        row = {"field": f"case{index}/field.mha", "output": f"out/reg{index}.dcm",
               "fixed": f"case{index}/fixed", "moving": f"case{index}/moving",
               "modifiers": "", "set:contentLabel": "", "set:preDeformationMatrix": ""}
        if index % 10 == 3:
            row["modifiers"] = str(ROOT / "example_flows" / "modifiers" /
                                   "deidentify_and_site_block.json")
        if index in BROKEN:
            column, value, _message = BROKEN[index]
            row[column] = value
        rows.append(row)
    (folder / "out").mkdir()
    manifest = folder / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def test_fifty_cases_three_broken_on_a_dask_cluster(tmp_path, cluster):
    manifest = write_manifest(tmp_path)
    results = run_batch(manifest, scheduler=cluster.scheduler_address, progress=False)
    assert len(results) == 50
    failed = {r.case - 2: r for r in results if r.status == "failed"}
    assert set(failed) == set(BROKEN)
    for index, result in failed.items():
        assert BROKEN[index][2] in result.error
        assert not (tmp_path / "out" / f"reg{index}.dcm").exists()
    done = [r for r in results if r.status == "done"]
    assert len(done) == 47
    # Every tenth case from the fourth on carries the modifier chain's private block: its two
    # attributes are dciodvfy's only warnings, and our verdict says why they are there.
    block = {index for index in range(50) if index % 10 == 3}
    for result in done:
        expected = SITE_BLOCK_WARNINGS if result.case - 2 in block else []
        assert dciodvfy_counts(result.output) == ([], expected)
    table = list(csv.DictReader(open(manifest.with_suffix(".results.csv"))))
    assert [row["status"] for row in table].count("failed") == 3
    private = ("0 error(s), 2 warning(s) (2 about private attributes, which dciodvfy cannot "
               "look up)")
    assert all(row["dciodvfy"] == (private if int(row["case"]) - 2 in block
                                   else "0 error(s), 0 warning(s)")
               for row in table if row["status"] == "done")

    # A rerun skips what is done and tries the failed cases again.
    again = run_batch(manifest, scheduler=cluster.scheduler_address, progress=False)
    assert [r.status for r in again].count("skipped") == 47
    assert [r.status for r in again].count("failed") == 3
    forced = run_batch(manifest, scheduler=cluster.scheduler_address, progress=False,
                       force=True)
    assert [r.status for r in forced].count("done") == 47


def test_command_line_on_a_local_cluster(tmp_path, capsys):
    manifest = write_manifest(tmp_path, count=4)
    status = main(["batch", str(manifest), "--workers", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert status == 0 and "4 done, 0 skipped, 0 failed" in out


@pytest.mark.parametrize(("content", "message"), [
    ("output\nx.dcm\n", "expected field, output"),
    ("field,output,colour\na,b,c\n", "unknown: colour"),
    ("field,output,set:contentLable\na,b,c\n", "did you mean contentLabel"),
    ("field,output\na.mha,same.dcm\nb.mha,same.dcm\n", "several cases write same.dcm"),
])
def test_malformed_manifests(tmp_path, content, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text(content)
    with pytest.raises(Exception, match=message):
        read_manifest(manifest)


def test_missing_manifest(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "none.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(BatchError):
        read_manifest(tmp_path / "none.csv")


def test_option_columns_reach_each_case(tmp_path):
    """Volume choice and field convention per row, as 'dicomreg save' takes them."""
    import numpy as np
    import SimpleITK as sitk
    from pydicom import dcmread

    from dicomreg.core.dicom import scan_volumes
    from dicomreg.core.reg import read_deformable_registration
    from dicomreg.core.regsave import run_case

    case = make_case(tmp_path / "c")
    image = sitk.ReadImage(str(case.field))
    ras = sitk.GetArrayFromImage(image) * np.array([-1.0, -1.0, 1.0])
    flipped = sitk.GetImageFromArray(ras.astype(np.float32), isVector=True)
    flipped.CopyInformation(image)
    sitk.WriteImage(flipped, str(tmp_path / "c" / "ras.mha"))
    (tmp_path / "out").mkdir()
    # c/ holds both series; the row picks the moving one by its index, as 'dicomreg scan' lists
    moving = [dcmread(p) for p in sorted((tmp_path / "c" / "moving").iterdir())]
    index = [v.headers[0].series_instance_uid for v in scan_volumes(tmp_path / "c")].index(
        moving[0].SeriesInstanceUID)
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "field,output,fixed,moving,moving_volume,components\n"
        f"c/ras.mha,out/ras.dcm,c/fixed,c,{index},RAS\n"
        "c/ras.mha,out/bad.dcm,c/fixed,c,one,ras\n"
        "c/ras.mha,out/bad2.dcm,c/fixed,c/moving,,nas\n")
    cases = read_manifest(manifest)
    done, bad_volume, bad_convention = (run_case(c, str(tmp_path), dciodvfy=False)
                                        for c in cases)
    assert done.status == "done", done.error
    vectors = np.asarray(read_deformable_registration(done.output).deformable_item.grid.voxels)
    assert np.array_equal(vectors, case.vectors)  # RAS undone: the ITK field's vectors
    written = dcmread(done.output)
    referenced = {item.ReferencedSOPInstanceUID
                  for study in written.StudiesContainingOtherReferencedInstancesSequence
                  for series in study.ReferencedSeriesSequence
                  for item in series.ReferencedInstanceSequence}
    assert referenced == {ds.SOPInstanceUID for ds in moving}
    assert (written.DeformableRegistrationSequence[0].SourceFrameOfReferenceUID
            == moving[0].FrameOfReferenceUID)
    assert "moving_volume: 'one' is not a volume index" in bad_volume.error
    assert "components: 'nas' is not one of lps, ras" in bad_convention.error
    assert "x and y components negated (RAS to LPS)" in done.notes
    assert not (tmp_path / "out" / "bad.dcm").exists()
    assert not (tmp_path / "out" / "bad2.dcm").exists()


def test_manifest_paths_follow_the_one_rule(tmp_path, monkeypatch):
    """Home and variables expanded in a cell, as in a field; relative to the manifest."""
    from dicomreg.core.regsave import run_case

    make_case(tmp_path / "c")
    monkeypatch.setenv("REGOUT", str(tmp_path / "out"))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "out").mkdir()
    manifest = tmp_path / "m.csv"
    manifest.write_text("field,output,fixed\n~/c/field.mha,$REGOUT/r.dcm,c/fixed\n")
    (done,) = (run_case(c, str(tmp_path), dciodvfy=False) for c in read_manifest(manifest))
    assert done.status == "done", done.error
    assert done.output == str(tmp_path / "out" / "r.dcm")
    assert (tmp_path / "out" / "r.dcm").is_file()


def test_rows_numbered_by_line_absolute_outputs_and_directories_made(tmp_path):
    from dicomreg.core.regsave.batch import run_case

    make_case(tmp_path / "a")
    manifest = tmp_path / "m.csv"
    manifest.write_text("field,output,fixed\n\na/field.mha,out/a/reg.dcm,a/fixed\n"
                        "a/missing.mha,out/b/reg.dcm,a/fixed\n")
    good, bad = read_manifest(manifest)
    assert (good.number, bad.number) == (3, 4)  # the lines an editor shows, blank counted
    done = run_case(good, str(tmp_path), dciodvfy=False)
    assert done.status == "done" and done.output == str(tmp_path / "out" / "a" / "reg.dcm")
    assert (tmp_path / "out" / "a" / "reg.dcm").is_file()
    failed = run_case(bad, str(tmp_path), dciodvfy=False)
    assert failed.status == "failed" and failed.case == 4
    assert failed.output == str(tmp_path / "out" / "b" / "reg.dcm")  # absolute, as done rows
    assert not (tmp_path / "out" / "b").exists()  # made for the case, removed when it failed


# --- outputs that would destroy inputs, the manifest or the results ---------------------------

def _hostile_manifest(folder, rows):
    manifest = folder / "m.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["field", "output", "fixed", "moving",
                                                    "modifiers"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _two_cases(folder):
    for index in range(2):
        make_case(folder / f"c{index}", seed=index)
    (folder / "chain.json").write_text("[]")
    (folder / "out").mkdir()
    return [{"field": f"c{i}/field.mha", "output": f"out/r{i}.dcm", "fixed": f"c{i}/fixed",
             "moving": f"c{i}/moving", "modifiers": "chain.json"} for i in range(2)]


# Each: (row index, column, value) changes to the two good rows, and the conflict line.
CONFLICTS = {
    "another row's moving slice": ([(1, "output", "c0/moving/{slice}")],
                                   "row 3: output 'c0/moving/"),
    "another row's field": ([(0, "output", "c1/field.mha")], "is row 3's field file"),
    "its own field, climbing": ([(0, "output", "out/../c0/field.mha")], "row 2's field file"),
    "the modifiers file": ([(1, "output", "chain.json")], "is row 2's modifiers file"),
    "the manifest": ([(0, "output", "m.csv")], "row 2: output 'm.csv' is the manifest"),
    "the manifest, absolute": ([(0, "output", "{folder}/m.csv")], "is the manifest"),
    "another row's output": ([(1, "output", "out/./r0.dcm")], "is also written by row 2"),
    "a link to an input": ([(0, "output", "link.dcm")], "is row 3's field file"),
    "a file inside a fixed directory": ([(1, "fixed", "c1"), (0, "output",
                                                               "c1/moving/{slice}")],
                                        "is row 3's --fixed file"),
}


@pytest.mark.parametrize("name", sorted(CONFLICTS))
def test_conflicting_rows_are_refused_before_any_case_runs(tmp_path, capsys, name):
    rows = _two_cases(tmp_path)
    (tmp_path / "link.dcm").symlink_to(tmp_path / "c1" / "field.mha")
    slice_name = sorted((tmp_path / "c0" / "moving").iterdir())[0].name
    changes, message = CONFLICTS[name]
    for index, column, value in changes:
        rows[index][column] = value.format(slice=slice_name, folder=tmp_path)
    manifest = _hostile_manifest(tmp_path, rows)
    before = snapshot(tmp_path)
    status = main(["batch", str(manifest), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status == 1 and "Traceback" not in err
    assert "conflict(s)" in lines[0] and "no case was run" in lines[0]
    assert any(message in line for line in lines[1:]), err
    assert snapshot(tmp_path) == before  # nothing written, not even the results


@pytest.mark.parametrize("results", ["c0/field.mha", "m.csv", "out/r1.dcm", "chain.json"])
def test_results_that_are_an_input_or_an_output_are_refused(tmp_path, capsys, results):
    manifest = _hostile_manifest(tmp_path, _two_cases(tmp_path))
    before = snapshot(tmp_path)
    status = main(["batch", str(manifest), "--results", str(tmp_path / results),
                   "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and "no case was run" in err
    assert f"--results '{tmp_path / results}' is" in err or "is the results file" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", [*HOSTILE_KINDS, "a field", "a text file"])
def test_results_that_are_not_a_results_table_are_refused(tmp_path, capsys, kind):
    manifest = _hostile_manifest(tmp_path, _two_cases(tmp_path))
    if kind == "a field":
        results = write_field(tmp_path / "other.mha", np.zeros((2, 2, 2, 3), np.float32),
                              origin=(0, 0, 0), spacing=(1, 1, 1), direction=np.eye(3))
    elif kind == "a text file":
        results = tmp_path / "notes.csv"
        results.write_text("my,own,notes\n")
    else:
        results = hostile_target(tmp_path, kind)
    before = snapshot(tmp_path)
    status = main(["batch", str(manifest), "--results", str(results), "--workers", "1",
                   "--no-progress"])
    assert_clean_refusal(status, capsys.readouterr().err, "--results", str(results))
    assert snapshot(tmp_path) == before


@settings(max_examples=fuzz_examples(40), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(outputs=st.lists(st.sampled_from([
    "out/a.dcm", "out/b.dcm", "out/../out/a.dcm", "c0/field.mha", "c1/moving/{slice}",
    "chain.json", "m.csv", "link.dcm", "{folder}/out/a.dcm", "c1", ""]), min_size=2,
    max_size=2))
def test_any_pair_of_outputs_is_refused_or_checked_alone(tmp_path, outputs):
    """Generated pairs of outputs: whenever one names an input, the manifest or the other,
    read_manifest or the path check refuses before a case runs and nothing changes."""
    from dicomreg.core.regsave.batch import _refuse_bad_paths

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    rows = _two_cases(folder)
    (folder / "link.dcm").symlink_to(folder / "c0" / "field.mha")
    slice_name = sorted((folder / "c1" / "moving").iterdir())[0].name
    for row, output in zip(rows, outputs, strict=True):
        row["output"] = output.format(slice=slice_name, folder=folder)
    manifest = _hostile_manifest(folder, rows)
    before = snapshot(folder)
    inputs = {p.resolve() for p in folder.rglob("*") if p.is_file()} - {
        (folder / "out" / name).resolve() for name in ("a.dcm", "b.dcm")}
    targets = [(folder / row["output"]).resolve() for row in rows if row["output"]]
    destroys = len(set(targets)) < len(targets) or any(t in inputs for t in targets)
    try:
        _refuse_bad_paths(read_manifest(manifest), manifest, manifest.with_suffix(".r.csv"))
    except BatchError as error:
        assert destroys and "\n" in str(error) or "several cases write" in str(error)
    else:
        assert not destroys
    assert snapshot(folder) == before


def test_field_size_limit_per_row_and_for_the_batch(tmp_path, cluster, capsys):
    """The max_field_size column limits its row; batch's --max-field-size the rows whose cell
    is empty; a bad cell fails its row, a bad option the batch before any case runs."""
    make_case(tmp_path / "c")  # a field of 8x6x4 float32 vectors: 2304 bytes
    manifest = tmp_path / "m.csv"
    manifest.write_text("field,output,fixed,moving,max_field_size\n"
                        "c/field.mha,out/small.dcm,c/fixed,c/moving,100B\n"
                        "c/field.mha,out/default.dcm,c/fixed,c/moving,\n"
                        "c/field.mha,out/bad.dcm,c/fixed,c/moving,lots\n"
                        "c/field.mha,out/large.dcm,c/fixed,c/moving,1MB\n")
    results = {Path(r.output).name: r for r in run_batch(
        manifest, scheduler=cluster.scheduler_address, dciodvfy=False, progress=False,
        max_field_size="200B")}
    assert results["small.dcm"].status == "failed"
    assert "more than the limit of 100 bytes" in results["small.dcm"].error
    assert "more than the limit of 200 bytes" in results["default.dcm"].error  # the option's
    assert "max_field_size 'lots' is not a size" in results["bad.dcm"].error
    assert results["large.dcm"].status == "done", results["large.dcm"].error
    assert not (tmp_path / "out" / "small.dcm").exists()

    assert main(["batch", str(manifest), "--max-field-size", "-3", "--no-progress"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "--max-field-size '-3' is not a size" in err[0], err


def test_a_method_column_registers_the_row_instead_of_reading_a_field(tmp_path, capsys):
    """A row with ``method`` registers moving to fixed in the worker and saves that (the
    known shift recovered, by the standard's equation written out in the tests); a row with
    both or neither of field and method, or an unknown method, fails alone."""
    import json
    import sys

    sys.path[:0] = [str(ROOT / "tests" / "core" / "registration"),
                    str(ROOT / "tests" / "core" / "reg")]
    from phantom import body_points, make_pair
    from test_standard_equation import decode, standard_map

    from dicomreg.core.regsave import run_case

    size, spacing, shift = (48, 48, 24), (2.5, 2.5, 3.5), np.array([4.0, -3.0, 2.5])
    make_pair(tmp_path / "p", lambda points: points + shift, "batch", size, spacing)
    manifest = tmp_path / "m.csv"
    manifest.write_text("field,method,output,fixed,moving\n"
                        ",rigid,out/reg.dcm,p/fixed,p/moving\n"
                        "f.mha,rigid,out/both.dcm,p/fixed,p/moving\n"
                        ",warp,out/unknown.dcm,p/fixed,p/moving\n"
                        ",rigid,out/alone.dcm,p/fixed,\n")
    done, both, unknown, alone = (run_case(c, str(tmp_path), dciodvfy=True)
                                  for c in read_manifest(manifest))
    assert done.status == "done", done.error
    points = body_points(3, size, spacing)
    error = np.linalg.norm(standard_map(decode(done.output), points) - (points + shift), axis=1)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0, error.mean()
    assert dciodvfy_counts(done.output)[0] == []
    report = json.loads(Path(f"{done.output}.quality.json").read_text())
    assert report["method"] == "rigid" and "quality: rigid:" in done.notes
    assert "either a field or a method" in both.error
    assert "method: 'warp' is not one of rigid, affine" in unknown.error
    assert "needs a fixed and a moving image" in alone.error
    for failed in ("both", "unknown", "alone"):
        assert not (tmp_path / "out" / f"{failed}.dcm").exists()
    with pytest.raises(SystemExit) as leaving:
        main(["batch", "--help"])
    assert leaving.value.code == 0
    assert "method          instead of field" in capsys.readouterr().out


def test_rows_sharing_a_new_output_directory_do_not_pull_it_from_each_other(tmp_path, cluster):
    """Failing rows must not remove the output directory they share with a row still running
    (seen in CI: 'output directory ... does not exist'): the directory stands while any row
    runs, whenever a failed row's result arrives; one made for rows that all failed is gone
    afterwards."""
    make_case(tmp_path / "c")
    rows = "".join(f"c/missing{n}.mha,out/shared/bad{n}.dcm,c/fixed\n" for n in range(6))
    manifest = tmp_path / "m.csv"
    manifest.write_text("field,output,fixed\n" + rows + "c/field.mha,out/shared/good.dcm,c/fixed\n"
                        + "c/missing.mha,out/only_failed/bad.dcm,c/fixed\n")
    shared = tmp_path / "out" / "shared"
    standing = []
    results = run_batch(manifest, scheduler=cluster.scheduler_address, dciodvfy=False,
                        progress=False, on_result=lambda result: standing.append(
                            result.status == "done" or shared.is_dir()))
    good = next(result for result in results if result.output.endswith("good.dcm"))
    assert good.status == "done", good.error
    assert standing == [True] * len(results)
    assert sorted(p.name for p in shared.iterdir()) == ["good.dcm"]
    assert not (tmp_path / "out" / "only_failed").exists()
