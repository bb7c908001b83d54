import sys

from bench.run import main

if __name__ == "__main__":  # compose workers are spawned: they import this module, and must not run it
    if sys.argv[1:2] == ["bandit"]:  # adloom bench bandit: the click-feedback simulation (bench/bandit.py)
        from bench.bandit import main as bandit

        sys.exit(bandit(sys.argv[2:]))
    sys.exit(main())
