"""``dicomreg echo``, ``find``, ``fetch`` and ``send``: a PACS or planning system, by DIMSE
(``AET@HOST:PORT``) or DICOMweb (a URL). Every network failure is one line, exit status 1.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["COMMANDS", "add_net_options", "add_parser", "net_options", "print_outcomes"]

COMMANDS = {
    "echo": "is a DICOM peer there (C-ECHO, or a QIDO-RS search)",
    "find": "list the studies and series on a DICOM peer",
    "fetch": "fetch a study or series from a DICOM peer into a new folder",
    "send": "send DICOM files to a peer (C-STORE or STOW-RS)",
}
_PEER = "AET@HOST:PORT (DIMSE) or a DICOMweb service's root URL"


def add_net_options(parser: argparse.ArgumentParser) -> None:
    """The connection options, the same for every command that talks to a peer."""
    group = parser.add_argument_group(
        "connection", "the password of --user is read from DICOMREG_PASSWORD, a bearer "
        "token from DICOMREG_TOKEN; neither is ever printed")
    group.add_argument("--aet", default="DICOMREG", help="our calling AE title "
                       "(default DICOMREG)")
    group.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="for each connection, association and answer (default 30)")
    group.add_argument("--tls", action="store_true", help="DIMSE over TLS (DICOM TLS), "
                       "the peer's certificate checked against the system's CAs; implied "
                       "by --tls-ca and --tls-cert")
    group.add_argument("--tls-ca", metavar="FILE", help="PEM file of the CA certificates "
                       "(or the peer's own certificate) to trust instead: DIMSE over TLS, "
                       "and for an https URL")
    group.add_argument("--tls-cert", metavar="FILE", help="our certificate (PEM), for a "
                       "peer that requires one (mutual TLS, Orthanc's default); also the "
                       "C-MOVE storage SCP's certificate")
    group.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert "
                       "(PEM; not needed when the --tls-cert file holds it)")
    group.add_argument("--user", help="DICOMweb: HTTP basic user (password from "
                       "DICOMREG_PASSWORD)")


def net_options(args: argparse.Namespace):
    """The parsed connection options as :class:`~dicomreg.core.net.NetOptions`."""
    from dicomreg.core.net import NetOptions

    host, _, port = (getattr(args, "listen", None) or "0.0.0.0:11113").rpartition(":")
    return NetOptions(calling_aet=args.aet, timeout=args.timeout, use_tls=args.tls,
                      tls_ca=args.tls_ca,
                      tls_cert=args.tls_cert, tls_key=args.tls_key, user=args.user,
                      listen_host=host or "0.0.0.0", listen_port=int(port))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``echo``, ``find``, ``fetch`` and ``send``."""
    echo = subparsers.add_parser("echo", help=COMMANDS["echo"], description="C-ECHO for "
                                 "AET@HOST:PORT, a QIDO-RS study search for a URL: one line, "
                                 "exit status 0 when the peer answers, 1 when not.")
    echo.add_argument("peer", help=_PEER)
    echo.set_defaults(runner=run_echo)
    find = subparsers.add_parser("find", help=COMMANDS["find"], description="The series "
                                 "matching the keys, listed as 'dicomreg scan' lists volumes.")
    find.add_argument("peer", help=_PEER)
    for key, what in (("patient", "Patient ID"), ("study", "Study Instance UID"),
                      ("series", "Series Instance UID"), ("modality", "modality, e.g. CT")):
        find.add_argument(f"--{key}", default="", help=f"match this {what}")
    find.set_defaults(runner=run_find)
    fetch = subparsers.add_parser("fetch", help=COMMANDS["fetch"], description="Every "
                                  "instance the peer lists is checked in; on any failure "
                                  "nothing is left behind.")
    fetch.add_argument("peer", help=_PEER)
    fetch.add_argument("--study", required=True, help="Study Instance UID")
    fetch.add_argument("--series", help="Series Instance UID (default: every series)")
    fetch.add_argument("-o", "--output", required=True, help="the new folder to fetch into")
    fetch.add_argument("--move-to", metavar="AET", help="C-MOVE to this AE title (us, "
                       "listening on --listen) instead of C-GET")
    fetch.add_argument("--listen", default="0.0.0.0:11113", metavar="HOST:PORT",
                       help="where our storage SCP listens during a C-MOVE")
    fetch.set_defaults(runner=run_fetch)
    send = subparsers.add_parser("send", help=COMMANDS["send"], description="Each file is "
                                 "sent as it is on disk, proposing its own SOP class and "
                                 "transfer syntax; exit status 1 if the peer refused any.")
    send.add_argument("files", nargs="+", metavar="FILE", help="DICOM Part 10 files")
    send.add_argument("--to", required=True, metavar="PEER", help=_PEER)
    send.set_defaults(runner=run_send)
    for parser in (echo, find, fetch, send):
        add_net_options(parser)


def run_echo(args: argparse.Namespace) -> int:
    """``dicomreg echo``: one line, exit 0 when the peer answers."""
    from dicomreg.core.net import echo_peer

    peer = echo_peer(args.peer, net_options(args))
    print(f"{peer}: answered")
    return 0


def run_find(args: argparse.Namespace) -> int:
    """``dicomreg find``: the series found."""
    from dicomreg.core.net import find_on_peer, series_table

    found = find_on_peer(args.peer, net_options(args), patient=args.patient,
                         study=args.study, series=args.series, modality=args.modality)
    print(f"{len(found)} series on {args.peer}" + (":" if found else ""))
    if found:
        print(series_table(found))
    return 0


def _progress(done: int, expected: int) -> None:
    print(f"\r  {done}/{expected} instance(s)", end="" if done < expected else "\n",
          file=sys.stderr, flush=True)


def run_fetch(args: argparse.Namespace) -> int:
    """``dicomreg fetch``: the instances into a new folder, whole or not at all."""
    from dicomreg.core.net import fetch_series, parse_peer

    result = fetch_series(parse_peer(args.peer), args.study, args.output, series=args.series,
                          options=net_options(args), move_to=args.move_to,
                          progress=_progress if sys.stderr.isatty() else None)
    print(f"fetched {result.instances} instance(s) of {result.series} series into "
          f"{result.path}")
    return 0


def print_outcomes(outcomes, peer: str) -> int:
    """Each sent file's status; 1 when the peer refused any, naming it and the reason."""
    refused = [o for o in outcomes if not o.stored]
    for outcome in outcomes:
        line = f"{outcome.path}: {'stored' if outcome.stored else 'REFUSED'} by {peer} " \
               f"(status {outcome.status}" + (f": {outcome.reason})" if outcome.reason else ")")
        print(line, file=sys.stderr if not outcome.stored else sys.stdout)
    if refused:
        print(f"dicomreg: error: {peer} refused {len(refused)} of {len(outcomes)} file(s), "
              f"first {refused[0].path}: {refused[0].reason}", file=sys.stderr)
        return 1
    return 0


def run_send(args: argparse.Namespace) -> int:
    """``dicomreg send``: C-STORE or STOW-RS, the peer's status per file."""
    from dicomreg.core.net import send_files

    return print_outcomes(send_files(args.to, args.files, net_options(args)), args.to)
