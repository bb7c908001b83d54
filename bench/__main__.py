import sys

from bench.run import main

if __name__ == "__main__":  # compose workers are spawned: they import this module, and must not run it
    if sys.argv[1:2] == ["bandit"]:  # adloom bench bandit: the click-feedback simulation (bench/bandit.py)
        from bench.bandit import main as bandit

        sys.exit(bandit(sys.argv[2:]))
    if sys.argv[1:2] == ["jobs"]:  # online latency while a catalog job runs (bench/jobs.py)
        from bench.jobs import main as jobs

        sys.exit(jobs(sys.argv[2:]))
    sys.exit(main())
