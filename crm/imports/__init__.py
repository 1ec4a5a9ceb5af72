"""Imports of electoral rolls, members files and any table into the CRM.

- `formats`: what a file is (encoding, separator, CSV/XLSX/ODS) and streamed row readers;
- `columns`: fields, header aliases (case/accent-insensitive), layout detection, suggestions;
- `values`: cell parsing (dates, phones, names, codes) with clear per-cell errors;
- `rows`: one row through its mapping into a staging tuple with matching keys;
- `writer`: staging (COPY) and the set-based merge, matching and review queue;
- `services`: create, map, dry run, run, undo, report (what views, commands and tasks call).
"""
