# Platsen's entry points. `just` lists them.

# List the recipes.
default:
    @just --list

# Run Platsen: SQLite, demo board, http://127.0.0.1:8080/.
run:
    cargo run --release

# Run every test (SQLite and PostgreSQL; PostgreSQL tests skip loudly without a server).
test:
    cargo test --workspace

# Lints exactly as CI runs them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Benchmarks, each as a ratio of a reference measured in the same run: public
# reads vs a bare handler; search vs Meilisearch itself; freshness; rebuild;
# salary statistics vs DuckDB, chart rendering, stats requests; three
# instances vs one through HAProxy.
bench:
    cargo build --release -p platsen
    cargo bench -p platsen-tests --bench http
    cargo bench -p platsen-tests --bench search
    cargo bench -p platsen-tests --bench scale
    cargo bench -p platsen-tests --bench salary
    cargo bench -p platsen-tests --bench cluster

# Install (from the npm registry, hash-checked) and run Meilisearch on 127.0.0.1:7700.
meili:
    bash scripts/meili.sh run

# Rebuild the Meilisearch index without downtime.
reindex:
    cargo run --release -- search reindex

# Compare the Meilisearch index with the database and fix any drift.
search-check:
    cargo run --release -- search check --repair

# Apply migrations to PLATSEN_DATABASE_URL.
migrate:
    cargo run --release -- migrate

# Print the OpenAPI spec.
openapi:
    cargo run --release -- openapi

# Run what CI runs.
ci:
    bash .ci/run
