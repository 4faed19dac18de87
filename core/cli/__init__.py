"""The ``dicomreg`` command line: one module per command family, each holding its parsers
beside its runners (save, apply: read/warp/map, validate, dump, scan, fields, batch), the
top parser and the error handling in :mod:`.main`, other packages' commands in
:mod:`.plugins`."""
