"""DICOM networking: peers and their addresses, DIMSE (pynetdicom) and DICOMweb
(dicomweb-client) as a client, a series fetched into a folder whole or not at all, and the
cache of series named by address.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`):
neither pynetdicom nor dicomweb-client is imported until a peer is talked to.
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, (
    "peers", "results", "operations", "fetch"))
