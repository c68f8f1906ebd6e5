# Real database servers for the database-source tests, started in a
# temporary folder on a free loopback port and stopped when the script
# ends (also when it fails: the EXIT trap). Source it after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$TESTS_DIR/e2e/db_lib.sh"
#   pg_start || skip_all "no PostgreSQL"     # sets PGPORT, psql_do
#   mariadb_start                            # sets MYPORT, my_do
#
# PostgreSQL refuses to run as root, so as root its folder belongs to the
# `postgres` user of Debian's package and the server runs as that user.
# Both servers take the password "secret" for user "dango" over TCP;
# psql_do / my_do run SQL over the unix socket as the superuser.

DB_PW=secret
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
DB_DIRS=()

# A port nobody listens on, below the kernel's ephemeral range (32768 and
# up by default), where the outgoing connections of tests running at the
# same time take their local ports, which no probe can see.
db_free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 12000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Run a command as the user that owns the server's folder.
db_as() {
    local user=$1
    shift
    if [ "$(id -u)" -eq 0 ] && [ "$user" != root ]; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server in $PG_BIN" >&2; return 1; }
    PG_USER=$(id -un)
    [ "$(id -u)" -eq 0 ] && PG_USER=postgres
    PGROOT=$(mktemp -d "${TMPDIR:-/tmp}/dango-pg.XXXXXX")
    DB_DIRS+=("$PGROOT")
    chmod 755 "$PGROOT"
    echo "$DB_PW" >"$PGROOT/pw"
    [ "$(id -u)" -eq 0 ] && chown -R "$PG_USER" "$PGROOT"
    db_as "$PG_USER" "$PG_BIN/initdb" -D "$PGROOT/data" -U dango --pwfile="$PGROOT/pw" \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 \
        >"$PGROOT/initdb.log" 2>&1 || { cat "$PGROOT/initdb.log" >&2; return 1; }
    # another test may take the port between the probe and the bind: try another
    for _ in 1 2 3 4 5; do
        PGPORT=$(db_free_port) || return 1
        pg_restart 2>"$PGROOT/start.err" && return 0
        grep -q "Address already in use" "$PGROOT/server.log" || break
        : >"$PGROOT/server.log"
    done
    cat "$PGROOT/start.err" >&2
    return 1
}

# A PostgreSQL warehouse for Dango projects (#19): the database wh on the
# server of pg_start, its URL in WH_URL; whq runs SQL there and prints
# psql's unaligned output, the way a user reads it.
pg_warehouse_start() {
    pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
    psql_do "CREATE DATABASE wh"
    export WH_URL="postgresql://dango:$DB_PW@127.0.0.1:$PGPORT/wh"
}
whq() { psql -X -A -F '|' -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }
# The project in the current folder keeps its warehouse there.
pg_warehouse_use() {
    sed -i '/^  warehouse:/d; /^auto_generate/d' .dango/project.yml &&
    printf 'warehouse:\n  type: postgres\n  url_env: WH_URL\n' >>.dango/project.yml
}

# Start the server of pg_start again (after pg_kill).
pg_restart() {
    db_as "$PG_USER" "$PG_BIN/pg_ctl" -D "$PGROOT/data" -l "$PGROOT/server.log" -w -t 60 \
        -o "-p $PGPORT -k $PGROOT -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null 2>&1 || { cat "$PGROOT/server.log" >&2; return 1; }
    PG_STARTED=1
    export PGPORT
}

# Kill the server at once, as a crash would (its sessions die mid-query).
pg_kill() {
    local pid kids k
    pid=$(head -1 "$PGROOT/data/postmaster.pid")
    kids=$(ps -o pid= --ppid "$pid")
    kill -9 "$pid" $kids 2>/dev/null
    for k in $pid $kids; do
        while kill -0 "$k" 2>/dev/null; do sleep 0.1; done
    done
    PG_STARTED=
}

# SQL as the superuser over the socket: psql_do "CREATE TABLE ..." or stdin.
psql_do() {
    if [ $# -gt 0 ]; then
        psql -X -q -v ON_ERROR_STOP=1 -h "$PGROOT" -p "$PGPORT" -U dango -d "${PGDB:-postgres}" -c "$1"
    else
        psql -X -q -v ON_ERROR_STOP=1 -h "$PGROOT" -p "$PGPORT" -U dango -d "${PGDB:-postgres}"
    fi
}

pg_stop() {
    [ -n "${PG_STARTED:-}" ] || return 0
    db_as "$PG_USER" "$PG_BIN/pg_ctl" -D "$PGROOT/data" -m immediate -w stop >/dev/null 2>&1
    PG_STARTED=
}

# Start mariadbd of mariadb_start on MYPORT and wait until it answers.
my_launch() {
    local user i=0
    user=$(id -un)
    /usr/sbin/mariadbd --no-defaults --datadir="$MYROOT/data" --user="$user" --port="$MYPORT" \
        --socket="$MYROOT/sock" --bind-address=127.0.0.1 --pid-file="$MYROOT/pid" \
        --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
        --log-error="$MYROOT/server.log" --tmpdir="$MYROOT/tmp" 2>>"$MYROOT/server.log" &
    MY_PID=$!
    until mariadb --no-defaults -S "$MYROOT/sock" -u root -e 'select 1' >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -ge 300 ] || ! kill -0 "$MY_PID" 2>/dev/null; then
            kill "$MY_PID" 2>/dev/null
            wait "$MY_PID" 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
}

mariadb_start() {
    command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
        { echo "no mariadbd" >&2; return 1; }
    MYROOT=$(mktemp -d "${TMPDIR:-/tmp}/dango-my.XXXXXX")
    DB_DIRS+=("$MYROOT")
    MYPORT=$(db_free_port) || return 1
    local user
    user=$(id -un)
    # its own tmpdir: parallel servers' temporary tables in a shared /tmp
    # once failed the install ("Error on delete of '/tmp/#sql-temptable-...'")
    mkdir "$MYROOT/tmp"
    mariadb-install-db --no-defaults --datadir="$MYROOT/data" --user="$user" --tmpdir="$MYROOT/tmp" \
        --auth-root-authentication-method=normal --skip-test-db >"$MYROOT/install.log" 2>&1 ||
        { cat "$MYROOT/install.log" >&2; return 1; }
    local attempt
    for attempt in 1 2 3 4 5; do
        my_launch && break
        # another test took the port between the probe and the bind: try another
        grep -q "Address already in use" "$MYROOT/server.log" && [ $attempt -lt 5 ] || {
            cat "$MYROOT/server.log" >&2
            return 1
        }
        : >"$MYROOT/server.log"
        MYPORT=$(db_free_port) || return 1
    done
    my_do "CREATE USER dango@'%' IDENTIFIED BY '$DB_PW'; CREATE USER dango@localhost IDENTIFIED BY '$DB_PW';
           GRANT ALL ON *.* TO dango@'%'; GRANT ALL ON *.* TO dango@localhost; CREATE DATABASE shop;"
    export MYPORT
}

# SQL as root over the socket: my_do "..." or stdin; MYDB picks the database.
my_do() {
    if [ $# -gt 0 ]; then
        mariadb --no-defaults -S "$MYROOT/sock" -u root ${MYDB:+"$MYDB"} -e "$1"
    else
        mariadb --no-defaults -S "$MYROOT/sock" -u root ${MYDB:+"$MYDB"}
    fi
}

mariadb_stop() {
    [ -n "${MY_PID:-}" ] || return 0
    kill -9 "$MY_PID" 2>/dev/null
    wait "$MY_PID" 2>/dev/null || true
    MY_PID=
}

# pg_dbt_profile: ./profiles.yml with the dbt profile `p`, a postgres target
# on the test server's database `wh` (schema analytics)
pg_dbt_profile() {
    cat >profiles.yml <<EOF
p:
  target: dev
  outputs:
    dev:
      type: postgres
      host: 127.0.0.1
      port: $PGPORT
      user: dango
      password: $DB_PW
      dbname: wh
      schema: analytics
EOF
}

db_stop_all() {
    pg_stop
    mariadb_stop
    local d
    for d in "${DB_DIRS[@]}"; do
        [ -n "${KEEP_TRASH:-}" ] || rm -rf "$d"
    done
}
trap 'db_stop_all; test_cleanup' EXIT
