import sys

from sophmate_desktop.app import main

sys.exit(main())
