"""`python -m coda_backup`: the same as the `coda-backup` command."""

import sys

from coda_backup.cli import main

sys.exit(main())
