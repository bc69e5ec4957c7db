"""`python -m usageledger …`: the same as the `usageledger` command (handy with `python -X importtime`)."""

import sys

from usageledger.cli import main

sys.exit(main())
