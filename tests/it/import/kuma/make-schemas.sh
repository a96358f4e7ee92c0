#!/bin/sh
# Makes kuma-1.23.16.sql and kuma-2.0.2.sql: the schema an Uptime Kuma of that version
# leaves in a new data/kuma.db, made by Kuma's own files. Run from this folder with a
# clone of louislam/uptime-kuma at $KUMA, sqlite3, node and `npm install knex@3.1.0 sqlite3@5`
# (for knex-migrate.js).
#   1.23.16: db/kuma.db, then db/patch1.sql..patch10.sql, then server/database.js's patchList in order.
#   2.0.2:   the same from db/old_migrations/, then db/knex_migrations by knex (migrate.latest).
# A patch that adds a column an earlier one added fails with "duplicate column name" in
# Kuma too, and changes nothing.
set -u
schema() { sqlite3 "$1" .schema | grep -v '^CREATE TABLE sqlite_sequence'; }
make() { # version, folder of the SQL patches
    db=$(mktemp -u).db
    git -C "$KUMA" show "$1:db/kuma.db" > "$db"
    for i in 1 2 3 4 5 6 7 8 9 10; do git -C "$KUMA" show "$1:$2/patch$i.sql" | sqlite3 "$db"; done
    for p in $(git -C "$KUMA" show "$1:server/database.js" | sed -n '/static patchList = {/,/};/p' | grep -o '"patch-[^"]*\.sql"' | tr -d '"'); do
        f="$2/$p"; git -C "$KUMA" cat-file -e "$1:$f" 2>/dev/null || f="db/$p"
        git -C "$KUMA" show "$1:$f" | sqlite3 "$db"
    done
    echo "$db"
}
db=$(make 1.23.16 db); schema "$db" > kuma-1.23.16.sql
db=$(make 2.0.2 db/old_migrations)
src=$(mktemp -d); git -C "$KUMA" archive 2.0.2 db/knex_migrations | tar -x -C "$src"
node knex-migrate.js "$db" "$src/db/knex_migrations"
schema "$db" > kuma-2.0.2.sql
