"""DICOM networking: peers and their addresses, DIMSE (pynetdicom) and DICOMweb
(dicomweb-client) as a client, a series fetched into a folder whole or not at all, and the
cache of series named by address.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`):
neither pynetdicom nor dicomweb-client is imported until a peer is talked to.
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "DimsePeer": "peers",
    "NetError": "peers",
    "NetOptions": "peers",
    "SeriesAddress": "peers",
    "WebPeer": "peers",
    "is_remote": "peers",
    "parse_peer": "peers",
    "parse_series_address": "peers",
    "SeriesInfo": "results",
    "StoreOutcome": "results",
    "series_table": "results",
    "echo_peer": "operations",
    "find_on_peer": "operations",
    "send_files": "operations",
    "FetchResult": "fetch",
    "cache_root": "fetch",
    "fetch_series": "fetch",
    "fetched_series": "fetch",
})
