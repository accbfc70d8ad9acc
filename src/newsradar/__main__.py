"""``python -m newsradar`` is the ``newsradar`` command."""

import sys

from newsradar.cli import main

sys.exit(main())
