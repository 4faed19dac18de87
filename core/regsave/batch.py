"""``dicomreg batch``: one save per row of a manifest, in parallel, on a Dask cluster.

The manifest is a CSV file with a header row. Columns:

- ``field`` and ``output`` (required): the displacement field and the REG to write;
- ``method`` (optional, instead of ``field``): register ``moving`` to ``fixed`` with this
  method (rigid, affine, bspline, demons, elastix; its defaults and fixed seed) and save
  that, as ``dicomreg register``; the quality report is written beside the REG
  (``OUTPUT.quality.json``) and its line joins the notes. Registration rows need local
  fixed and moving images;
- ``fixed``, ``moving`` (optional): DICOM files or directories, or PACS series
  (``AET@HOST:PORT/STUDY_UID/SERIES_UID``, a DICOMweb series URL), as ``--fixed``/``--moving``;
- ``modifiers`` (optional): a modifier chain, as ``--modifiers``;
- ``fixed_volume``, ``moving_volume`` (optional): which volume of a directory holding
  several, as ``--fixed-volume``/``--moving-volume``;
- ``max_field_size`` (optional): the largest field the row may read (``500MB``), as
  ``--max-field-size``; an empty cell is batch's ``--max-field-size`` (``max_field_size``),
  else the default;
- ``components``, ``units``, ``kind``, ``direction`` (optional): the field's convention, as
  the options of the same names (an empty cell is ITK's: lps, mm, displacement, pull);
- ``send_to`` (optional): a peer (``AET@HOST:PORT`` or a DICOMweb URL) each written REG is
  then sent to, as ``dicomreg save --send-to``; a refusal fails the case (the file stays);
- ``set:NAME`` (optional, any number): a field value, as ``--set NAME=VALUE``; an empty cell
  sets nothing.

Relative paths are relative to the manifest's directory. Cases run in parallel worker
processes: on a Dask ``LocalCluster`` of this machine by default, or on an existing cluster
given by its scheduler address (its workers must have dicomreg installed and see the
same paths). A failing case never stops the others. The results, one row per case with its
status (done, skipped, failed), output, error, time and notes, are written to a CSV file (by default
beside the manifest). A rerun skips the cases already done (their output exists and the last
results say done) unless ``force`` is given. A row is numbered by its line in the manifest
(the header on line 1, blank lines counted): the ``case`` column and the messages ("row 4")
agree. The ``output`` column is the absolute path for every status. A row's missing output
directories are created (``out/<case>/reg.dcm``), and removed when the case fails.
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from dicomreg.core.cores import usable_cores
from dicomreg.core.deformation import CONVENTION_OPTIONS
from dicomreg.core.distribution import distribution_name
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import field_by_name
from dicomreg.core.input import parse_size, resolve_path
from dicomreg.core.output import OutputPathError, atomic_output, check_output_path, csv_table

__all__ = ["BatchError", "CaseResult", "read_manifest", "run_batch", "run_case"]

_OPTION_COLUMNS = ("fixed_volume", "moving_volume", "max_field_size", *CONVENTION_OPTIONS)
_COLUMNS = ("field", "method", "output", "fixed", "moving", "modifiers", "send_to",
            *_OPTION_COLUMNS)
RESULT_COLUMNS = ("case", "status", "output", "error", "seconds", "dciodvfy", "notes")
# An existing results file is replaced only when it is one (not a field, not the manifest).
RESULTS_TABLE = csv_table("a dicomreg batch results table", RESULT_COLUMNS)


class BatchError(DicomRegError):
    """A manifest that cannot be run; the message says why."""


@dataclass
class Case:
    """One row of the manifest."""

    # The row's line in the manifest (the header on line 1), as an editor shows it: the
    # results' case column and every message ("row 4") give this number.
    number: int
    field: str
    output: str
    method: str = ""  # register fixed and moving with it instead of reading a field
    fixed: str = ""
    moving: str = ""
    modifiers: str = ""
    send_to: str = ""
    assignments: dict[str, str] | None = None
    options: dict[str, str] | None = None  # the non-empty option columns, as written


@dataclass
class CaseResult:
    """What became of one case."""

    case: int
    status: str  # done, skipped or failed
    output: str
    error: str = ""
    seconds: float = 0.0
    dciodvfy: str = ""
    notes: str = ""  # what dicomreg save would print as notes (warnings among them), joined


def read_manifest(path: str | os.PathLike[str]) -> list[Case]:
    """The cases of a manifest; a clear error for a malformed one."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            # csv skips blank lines: the line a row ends on, not its index, is its number.
            rows = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise BatchError(f"manifest '{path}' does not exist") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise BatchError(f"manifest '{path}' is not a CSV file ({error})") from None
    unknown = [c for c in columns if c not in _COLUMNS and not c.startswith("set:")]
    if unknown or "output" not in columns or not {"field", "method"} & set(columns):
        raise BatchError(f"manifest '{path}': columns {', '.join(columns) or '(none)'}; "
                         "expected field, output, and optionally method (instead of field: "
                         "register fixed and moving), fixed, moving, modifiers, send_to, "
                         f"{', '.join(_OPTION_COLUMNS)} and set:FIELDNAME columns"
                         + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    for column in columns:
        if column.startswith("set:"):
            field_by_name(column[4:])  # an unknown field name is refused, with suggestions
    cases = []
    for number, row in rows:
        if not any((value or "").strip() for value in row.values()):
            continue  # an empty line
        assignments = {c[4:]: row[c] for c in columns if c.startswith("set:") and row[c]}
        cases.append(Case(number=number, field=(row.get("field") or "").strip(),
                          output=(row.get("output") or "").strip(),
                          method=(row.get("method") or "").strip().lower(),
                          fixed=(row.get("fixed") or "").strip(),
                          moving=(row.get("moving") or "").strip(),
                          modifiers=(row.get("modifiers") or "").strip(),
                          send_to=(row.get("send_to") or "").strip(),
                          assignments=assignments,
                          options={c: row[c].strip() for c in _OPTION_COLUMNS
                                   if (row.get(c) or "").strip()}))
    outputs = [c.output for c in cases if c.output]
    duplicates = sorted({o for o in outputs if outputs.count(o) > 1})
    if duplicates:
        raise BatchError(f"manifest '{path}': several cases write {duplicates[0]}")
    return cases


def _output_of(case: Case, base_dir: str) -> str:
    """The results' output column: the absolute path, for done and failed rows alike."""
    return str(resolve_path(case.output, base_dir)) if case.output else ""


def _make_directories(target: Path) -> list[Path]:
    """Create the missing directories above ``target``; return them, deepest first."""
    missing = []
    for parent in target.parents:
        if parent.exists():
            break
        missing.append(parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    return missing


def _make_output_directories(cases: list[Case], base_dir: Path) -> list[Path]:
    """The missing directories above each case's output, made; those made, deepest first.
    A directory that cannot be made is left for the case to report."""
    created: list[Path] = []
    for case in cases:
        if case.output:
            with contextlib.suppress(OSError, DicomRegError):
                created += _make_directories(resolve_path(case.output, base_dir))
    return sorted(set(created), key=lambda path: len(path.parts), reverse=True)


def _remove_empty(directories: list[Path]) -> None:
    """Remove each of ``directories`` (deepest first) that nothing was written into."""
    for directory in directories:
        with contextlib.suppress(OSError):  # not empty: something was written there
            directory.rmdir()


def run_case(case: Case, base_dir: str, dciodvfy: bool) -> CaseResult:
    """Save one case; every failure becomes a result, never an exception.

    The output's missing directories are created (``out/<case>/reg.dcm``), and removed
    again when the case fails and they stayed empty.
    """
    from dicomreg.core.regsave.save_request import SaveRequest, save_registration

    started = time.perf_counter()
    created: list[Path] = []
    try:
        if bool(case.field) == bool(case.method) or not case.output:
            raise BatchError("the row needs an output and either a field or a method")
        created = _make_directories(resolve_path(case.output, base_dir))
        options = _case_options(case.options or {})
        registration = None
        if case.method:
            from dicomreg.core.regsave.batch_register import register_case

            registration = register_case(case.method, case.fixed, case.moving, base_dir,
                                         options)
        result = save_registration(SaveRequest(
            field=case.field, output=case.output, fixed=case.fixed or None,
            moving=case.moving or None, modifiers=case.modifiers or None,
            assignments=dict(case.assignments or {}), dciodvfy=dciodvfy, base_dir=base_dir,
            deformation=None if registration is None else registration.deformation,
            **options))
        notes = list(result.notes)
        if registration is not None:
            from dicomreg.core.regsave.batch_register import write_quality

            notes.append(write_quality(registration, result.path))
        if case.send_to:
            _send(case.send_to, result.path)
        verdict = str(result.dciodvfy) if result.dciodvfy else ""
        return CaseResult(case.number, "done", str(result.path), seconds=_since(started),
                          dciodvfy=verdict, notes="; ".join(notes))
    except DicomRegError as error:  # every problem, not the first and a count
        message = "; ".join(getattr(error, "problems", None) or [str(error)])
    except Exception as error:  # a bug in dicomreg: reported, the other cases go on
        where = traceback.extract_tb(error.__traceback__)[-1]
        message = (f"internal error {type(error).__name__}: {error} "
                   f"({Path(where.filename).name}:{where.lineno})")
    _remove_empty(created)
    return CaseResult(case.number, "failed", _output_of(case, base_dir), message,
                      _since(started))


def _send(peer: str, path: Path) -> None:
    """Send a written REG; a refusal fails its case (the file stays on disk)."""
    from dicomreg.core.net import send_files

    outcome = send_files(peer, [path])[0]
    if not outcome.stored:
        raise BatchError(f"written, but {peer} refused it (status {outcome.status}: "
                         f"{outcome.reason})")


def _case_options(options: dict[str, str]) -> dict[str, object]:
    """The option columns as SaveRequest arguments; a bad cell fails its case only."""
    arguments: dict[str, object] = {}
    for column, value in options.items():
        if column.endswith("_volume"):
            if not value.isdigit():
                raise BatchError(f"{column}: '{value}' is not a volume index; "
                                 "expected 0, 1, 2... (see 'dicomreg scan')")
            arguments[column] = int(value)
        elif column == "max_field_size":  # parsed by the save: a bad cell fails its case
            arguments[column] = value
        else:  # a convention: FieldConvention refuses a bad one, in save_registration
            arguments[column] = value.lower()
    return arguments


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _previous(results_path: Path) -> dict[str, str]:
    """output -> status of the last run, when its results exist."""
    try:
        with open(results_path, newline="", encoding="utf-8") as handle:
            return {row["output"]: row["status"] for row in csv.DictReader(handle)}
    except (OSError, KeyError, csv.Error, UnicodeDecodeError):
        return {}


def _refuse_bad_paths(cases: list[Case], manifest: Path, results_path: Path) -> None:
    """Before any case runs: the results path, and outputs that are inputs or each other."""
    from dicomreg.core.regsave.batch_paths import path_conflicts

    conflicts = path_conflicts(cases, manifest, results_path)
    if conflicts:
        raise BatchError(f"manifest '{manifest}': {len(conflicts)} conflict(s), outputs that "
                         "would destroy an input, the manifest, the results or another output; "
                         "no case was run"
                         + "".join(f"\n  {line}" for line in conflicts))
    try:
        check_output_path(results_path, RESULTS_TABLE)
    except OutputPathError as error:
        raise BatchError(f"--results: {error}") from None


def _client(scheduler: str | None, workers: int | None, cases: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise BatchError("dicomreg batch needs dask.distributed: pip install "
                         f"'{distribution_name()}[batch]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as error:
            raise BatchError(f"cannot reach the Dask scheduler at {scheduler} ({error})") \
                from None
    count = max(1, min(workers or usable_cores(), cases))
    # On this machine's loopback only; the dashboard on any free port (it cannot be switched
    # off in every dask version, and a fixed port collides with another cluster's).
    cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=":0", silence_logs=40)
    return Client(cluster), cluster


def run_batch(manifest: str | os.PathLike[str], *, results: str | os.PathLike[str] | None = None,
              scheduler: str | None = None, workers: int | None = None, force: bool = False,
              dciodvfy: bool = True, progress: bool = True, max_field_size: str | None = None,
              on_result: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    """Run every case of a manifest; write and return the results, in manifest order.

    Parameters
    ----------
    manifest
        The CSV manifest (see the module documentation).
    results
        Where to write the results CSV; ``MANIFEST.results.csv`` beside it by default.
    scheduler
        The address of an existing Dask scheduler (``tcp://host:8786``); a local cluster of
        worker processes when not given.
    workers
        Worker processes of the local cluster; the number of cores by default.
    force
        Run the cases already done too.
    dciodvfy
        Let dciodvfy gate each file, where it is installed.
    progress
        Show a progress bar (tqdm) on stderr.
    max_field_size
        The field size limit of every row whose ``max_field_size`` cell is empty (a size
        such as ``500MB``); refused before any case runs when it is not one.
    on_result
        Called with each result as it arrives.
    """
    manifest = Path(manifest).absolute()
    cases = read_manifest(manifest)
    if max_field_size is not None:
        parse_size(max_field_size)  # a bad option fails the batch, not each case
        for case in cases:
            case.options = {"max_field_size": max_field_size, **(case.options or {})}
    results_path = Path(results) if results else manifest.with_suffix(".results.csv")
    _refuse_bad_paths(cases, manifest, results_path)
    out, todo = _skip_done(cases, manifest, {} if force else _previous(results_path))
    if todo:
        # The rows' output directories are made here, before any case runs, and those left
        # empty removed after all have: a case that made and removed a shared directory
        # itself would pull it from under another row still running.
        created = _make_output_directories(todo, manifest.parent)
        client, cluster = _client(scheduler, workers, len(todo))
        try:
            _run_on_dask(client, todo, str(manifest.parent), dciodvfy, progress, on_result, out)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            _remove_empty(created)
    ordered = [out[case.number] for case in cases]
    _write_results(results_path, ordered)
    return ordered


def _skip_done(cases: list[Case], manifest: Path, previous: dict[str, str]
               ) -> tuple[dict[int, CaseResult], list[Case]]:
    """The results of the cases an earlier run did (their output still there), and the rest."""
    out: dict[int, CaseResult] = {}
    todo = []
    for case in cases:
        target = resolve_path(case.output, manifest.parent) if case.output else None
        if previous.get(str(target)) == "done" and target is not None and target.is_file():
            out[case.number] = CaseResult(case.number, "skipped", str(target),
                                          "done by an earlier run")
        else:
            todo.append(case)
    return out, todo


def _run_on_dask(client, todo: list[Case], base_dir: str, dciodvfy: bool, progress: bool,
                 on_result: Callable[[CaseResult], None] | None,
                 out: dict[int, CaseResult]) -> None:
    """Run ``todo`` on the client's workers, each result into ``out`` as it arrives."""
    from dask.distributed import as_completed
    from tqdm import tqdm

    futures = {client.submit(run_case, case, base_dir, dciodvfy, pure=False): case
               for case in todo}
    bar = tqdm(total=len(futures), unit="case", disable=not progress)
    for future in as_completed(futures):
        case = futures[future]
        try:
            result = future.result()
        except Exception as error:  # a worker died: the case failed, the rest go on
            result = CaseResult(case.number, "failed", _output_of(case, base_dir),
                                f"worker failed: {type(error).__name__}: {error}")
        out[case.number] = result
        bar.update()
        if on_result:
            on_result(result)
    bar.close()


def _write_results(results_path: Path, ordered: list[CaseResult]) -> None:
    with atomic_output(results_path, replaces=RESULTS_TABLE) as temporary, \
            open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS)
        writer.writeheader()
        for result in ordered:
            writer.writerow(asdict(result))
