"""`coda-backup restore rows|pages|doc`: put a backup back into Coda.

- `snapshot.py` reads what a run saved (manifest, rows, columns, pages, contents);
- `rowplan.py` and `pageplan.py` decide what to write: pure functions, no I/O;
- `client.py` talks to Coda (the tap's pacing, retry waits and error lines);
- `apply.py` sends a plan and confirms every write; `journal.py` remembers writes not yet
  confirmed, so a run after an interruption waits for them instead of repeating them;
- `cli.py` parses the command and prints the plan and the report (`report.py`).
"""
