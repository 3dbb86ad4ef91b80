# Sourced by scripts/test: a throwaway PostgreSQL cluster on 127.0.0.1, run as the
# `postgres` user (initdb refuses root), removed again by pg_stop.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_PORT=${PG_PORT:-55432}

pg_start() {
    PG_DIR=$(mktemp -d /tmp/fortrolig-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    mkdir -p "$PG_DIR/data" && chown -R postgres: "$PG_DIR" && chmod 700 "$PG_DIR/data"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log"; return 1; }
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300 -c fsync=on" start >/dev/null \
        || { cat "$PG_DIR/log"; return 1; }
    export PG_DIR
    export PGTEST_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
