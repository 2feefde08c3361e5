"""The salary benchmark's reference: the same aggregation as Platsen's
statistics table (n, mean, and P10/P25/P50/P75/P90 by linear interpolation,
i.e. quantile_cont) in DuckDB, on the same data, each single and each
pairwise breakdown by year. Prints the best of three rounds as JSON.

Usage: duckdb_stats.py FILE.csv ROUNDS
"""

import itertools
import json
import sys
import time

import duckdb

path, rounds = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
columns = "{'year': 'INTEGER', 'role': 'VARCHAR', 'sector': 'VARCHAR', 'county': 'VARCHAR', 'gender': 'VARCHAR', 'experience': 'VARCHAR', 'age': 'VARCHAR', 'fte': 'DOUBLE'}"
con.execute(f"create table s as select * from read_csv('{path}', header = true, columns = {columns})")
dims = ["role", "sector", "county", "gender", "experience", "age"]
groupings = [[d] for d in dims] + [list(p) for p in itertools.combinations(dims, 2)]
best, groups = None, 0
for _ in range(rounds):
    started = time.perf_counter()
    groups = 0
    for g in groupings:
        keys = ", ".join(["year"] + g)
        rows = con.execute(
            f"""select {keys}, count(*), avg(fte),
                       quantile_cont(fte, 0.10), quantile_cont(fte, 0.25), quantile_cont(fte, 0.50),
                       quantile_cont(fte, 0.75), quantile_cont(fte, 0.90)
                  from s group by {keys}"""
        ).fetchall()
        groups += len(rows)
    elapsed = time.perf_counter() - started
    best = elapsed if best is None else min(best, elapsed)
print(json.dumps({"seconds": best, "groups": groups, "queries": len(groupings), "version": duckdb.__version__}))
