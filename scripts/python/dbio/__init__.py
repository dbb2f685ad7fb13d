"""The Python side of dbio: what the blog's five approaches (the test_*.py
scripts beside this package) share, one module per job, each mirroring the
Rust crate that does the same (named in its docstring).

- errors: Refused, what the run refuses, in one line;
- settings: the environment's settings, by the Rust binaries' rules;
- statements: the SQL lexer and a dashboard's statements;
- splitmix: the project's SplitMix64 sequence and its mixer;
- arrivals: an open loop's due times, as the Rust side computes them;
- latency: its percentiles, as the Rust side's histogram gives them;
- workload: the plan and the query list;
- probe: the connection before the clock, and the servers' checks;
- routing: which server runs a query, and failover when one is lost;
- pools: SQLAlchemy's pools and running one query on them;
- schedule: a thread per query, and each query released when due;
- interrupt: Ctrl-C, kill and a closed terminal cancel on the server;
- drain: an open loop's end at its drain deadline;
- digest: the order-independent row digest;
- report: the results, the clock and the output;
- cli: the entry point every script calls.
"""
