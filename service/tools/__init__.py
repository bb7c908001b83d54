"""Command-line tools built on the service's packages, kept out of the pure-pixels compose package."""
