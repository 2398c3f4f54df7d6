# shellcheck shell=bash
# Test data: users u0000000.. seeded into SQLite, MariaDB or PostgreSQL, and an empty, migrated
# SQLite database (EMPTY_DB) that the sections copy. Reads WORK and the BUSBAR_TEST_* of the services;
# make_empty_db starts and stops a server once (servers.sh).

# Users u0000000..: id 8 bytes, name "User <n>", email "u<7 digits>@example.org".
seed_sqlite() {
  awk -v n="$2" 'BEGIN { print "BEGIN; DELETE FROM users;";
    for (i = 0; i < n; i++) {
      if (i % 500 == 0) printf "%sINSERT INTO users(id,name,email,version,deleted) VALUES", (i ? ";\n" : "");
      else printf ",";
      printf "(\x27u%07d\x27,\x27User %d\x27,\x27u%07d@example.org\x27,1,0)", i, i, i }
    if (n) print ";"; print "COMMIT;" }' | sqlite3 "$1"
}
seed_mysql() {
  awk -v n="$1" 'BEGIN { print "DELETE FROM users;";
    for (i = 0; i < n; i++) {
      if (i % 1000 == 0) printf "%sINSERT INTO users(id,name,email,version,deleted) VALUES", (i ? ";\n" : "");
      else printf ",";
      printf "(\x27u%07d\x27,\x27User %d\x27,\x27u%07d@example.org\x27,1,0)", i, i, i }
    if (n) print ";" }' |
    MYSQL_PWD="$BUSBAR_TEST_MYSQL_PASSWORD" mysql -h127.0.0.1 -P"$BUSBAR_TEST_MYSQL_PORT" \
      -u"$BUSBAR_TEST_MYSQL_USER" "$BUSBAR_TEST_MYSQL_DATABASE"
}
seed_pg() {
  PGPASSWORD="$BUSBAR_TEST_PG_PASSWORD" psql -q -h 127.0.0.1 -p "$BUSBAR_TEST_PG_PORT" \
    -U "$BUSBAR_TEST_PG_USER" -d "$BUSBAR_TEST_PG_DATABASE" -c "DELETE FROM users" >/dev/null
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "u%07d\tUser %d\tu%07d@example.org\t1\t0\n", i, i, i }' |
    PGPASSWORD="$BUSBAR_TEST_PG_PASSWORD" psql -q -h 127.0.0.1 -p "$BUSBAR_TEST_PG_PORT" \
      -U "$BUSBAR_TEST_PG_USER" -d "$BUSBAR_TEST_PG_DATABASE" \
      -c "COPY users(id,name,email,version,deleted) FROM STDIN" >/dev/null
}

# make_empty_db: an empty, migrated SQLite database in EMPTY_DB, copied for every run that needs one.
make_empty_db() {
  local p
  EMPTY_DB="$WORK/empty.db"
  new_port p
  start_server migrate "$(conf migrate local sqlite persistent incremental "$EMPTY_DB")" "$p"
  stop_pid "$SERVER_PID"
}
