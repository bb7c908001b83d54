"""adloom benchmark: stage floors, batching gain, the service under load, and a peer.

``python -m bench`` (or ``make bench``) runs every phase within a fixed time budget and writes
``bench/RESULTS.md`` and ``bench/results.json``; ``--quick`` is a one-minute smoke whose numbers
are not results. Modules:

- ``machine``  what the numbers were measured on
- ``workload`` the request bodies every phase sends (same texts offline and over HTTP)
- ``offline``  stage floors without HTTP, PNG levels, the in-process pipeline
- ``loadgen``  open-loop asyncio httpx load generator (Poisson arrivals, bounded in-flight)
- ``server``   a served process (adloom serve, or a peer) on a free loopback port
- ``prom``     Prometheus text -> samples, and the /metrics deltas we report
- ``peers``    the same pipeline behind Ray Serve (@serve.batch), or a naive FastAPI endpoint
- ``report``   RESULTS.md and results.json
- ``run``      the phases, profiles (quick / full) and time budget
"""
