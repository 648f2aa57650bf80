"""Entry script of the frozen application (PyInstaller needs a file, not an entry point).

SOPHMATE_FROZEN_SELFTEST=1 runs packaging/selftest.py instead of the app."""

import os
import sys

if __name__ == "__main__":
    if os.environ.get("SOPHMATE_FROZEN_SELFTEST") == "1":
        import selftest

        sys.exit(selftest.main())
    from sophmate_desktop.app import main

    sys.exit(main())
