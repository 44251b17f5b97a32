import sys

from fusesa.cli import main

sys.exit(main())
