import sys

from bench.run import main

if __name__ == "__main__":  # compose workers are spawned: they import this module, and must not run it
    sys.exit(main())
