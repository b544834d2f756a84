"""A user's own data for `archspec fit`: image folders, arrays and tables (see docs/data.md).

`sources/` reads each layout (one module per kind behind the registry
`SOURCES`), `scan.py` finds the layout and reads headers, `checks.py` holds a
scan against the spec's inputs and outputs, `split.py` makes and keeps the
seeded train/validation/test split, `prepare.py` turns a split into what a
run trains on. Nothing here imports TensorFlow except `stream.py`, which
feeds image files to tf.data; nothing here ever writes into a data folder.
"""
