"""DICOM sources: Part 10 files read lazily, series and their geometry, the fast header scan,
volume lists of directories, the tag dump, and the standard's tables.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "DicomFileError": "part10",
    "FileRegion": "part10",
    "read_header": "part10",
    "region_of": "part10",
    "DicomSourceError": "series",
    "dicom_geometry": "series",
    "multiframe_geometry": "series",
    "read_dicom_headers": "series",
    "series_geometry": "series",
    "SliceHeader": "header_scan",
    "read_slice_header": "header_scan",
    "Volume": "volume_list",
    "VolumeList": "volume_list",
    "VolumeError": "volume_list",
    "read_volume": "volume_list",
    "scan_volumes": "volume_list",
    "series_slices_beside": "volume_list",
    "DumpOptions": "dump",
    "SHORTENED": "dump",
    "TYPE_MEANINGS": "dump",
    "tag_dump": "dump",
    "AttributeRequirement": "standard",
    "body_part_is_paired": "standard",
    "iod_requirements": "standard",
})
