# shellcheck shell=bash
# Servers under test: free ports, busbar configs, starting and stopping busbar (through
# busbar-bench start, which times exec to ready) and nginx. Reads WORK, TOOL, BUSBAR, EXCHANGE and
# the BUSBAR_TEST_* of the services; every process started is added to PIDS for cleanup.

# new_port VAR: sets VAR to the next port nobody listens on (no subshell, the counter must stick).
PORT_NEXT=18100
new_port() {
  PORT_NEXT=$((PORT_NEXT + 1))
  while ss -ltnH "sport = :$PORT_NEXT" | grep -q .; do PORT_NEXT=$((PORT_NEXT + 1)); done
  printf -v "$1" '%s' "$PORT_NEXT"
}

# conf NAME TRANSPORT STORAGE REPOSITORY REFRESH [SQLITE_FILE] [MORE] -> path of the config file;
# MORE is appended as it is (e.g. a section of its own).
conf() {
  local name="$1" transport="$2" storage="$3" repository="$4" refresh="$5" sqlite="${6:-}"
  local more="${7:-}"
  local file="$WORK/$name.conf"
  {
    echo "[host]"
    echo "plugins = $transport, $storage, users"
    echo "[event_bus]"
    echo "transport = $transport"
    echo "exchanges.events = $EXCHANGE"
    echo "router._all = events"
    echo "async_pass_through = true"
    if [ "$transport" = amqp ]; then
      echo "[amqp]"
      echo "host = 127.0.0.1"
      echo "port = $BUSBAR_TEST_AMQP_PORT"
      echo "vhost = $BUSBAR_TEST_AMQP_VHOST"
      echo "user = $BUSBAR_TEST_AMQP_USER"
    fi
    echo "[storage]"
    echo "driver = $storage"
    case "$storage" in
      sqlite) echo "sqlite.path = $sqlite" ;;
      mysql)
        echo "host = 127.0.0.1"; echo "port = $BUSBAR_TEST_MYSQL_PORT"
        echo "database = $BUSBAR_TEST_MYSQL_DATABASE"; echo "user = $BUSBAR_TEST_MYSQL_USER" ;;
      postgresql)
        echo "host = 127.0.0.1"; echo "port = $BUSBAR_TEST_PG_PORT"
        echo "database = $BUSBAR_TEST_PG_DATABASE"; echo "user = $BUSBAR_TEST_PG_USER" ;;
    esac
    echo "[users]"
    echo "repository = $repository"
    echo "refresh = $refresh"
    [ -n "$more" ] && printf '%b\n' "$more"
  } >"$file"
  echo "$file"
}

password_for() {
  case "$1" in
    *mysql*) echo "$BUSBAR_TEST_MYSQL_PASSWORD" ;;
    *postgresql*) echo "$BUSBAR_TEST_PG_PASSWORD" ;;
    *) echo "" ;;
  esac
}

declare -gA PID_OF ADMIN_OF
# start_server NAME CONF PORT [--exchange events]: sets READY_MS and SERVER_PID; the server's
# admin listener (metrics resets) is on ${ADMIN_OF[NAME]}
start_server() {
  local name="$1" conf="$2" port="$3"
  shift 3
  local line
  new_port "ADMIN_OF[$name]"
  line="$(BUSBAR_AMQP_PASSWORD="$BUSBAR_TEST_AMQP_PASSWORD" \
    BUSBAR_STORAGE_PASSWORD="$(password_for "$(grep '^driver' "$conf")")" \
    "$TOOL" start "$port" "$WORK/$name.log" -- "$BUSBAR" --config "$conf" \
    --bind "127.0.0.1:$port" --admin-bind "127.0.0.1:${ADMIN_OF[$name]}" "$@")"
  READY_MS="${line% *}"
  SERVER_PID="${line#* }"
  PIDS+=("$SERVER_PID")
  PID_OF[$name]="$SERVER_PID"
}
stop_server() { stop_pid "${PID_OF[$1]}"; }

stop_pid() {
  kill "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}

# start_nginx NAME PORT [TLS_DIR]: nginx serving $WORK/user.json for /users/*, one worker per core
# (worker_processes auto) as busbar has one event loop per core, each with its own listening
# socket (reuseport) and room for 20000 connections; over HTTPS with TLS_DIR/server.crt and
# server.key when given. Sets NGINX_PID (the master).
start_nginx() {
  local dir="$WORK/$1" ssl="" tls=""
  mkdir -p "$dir"
  if [ -n "${3:-}" ]; then
    ssl=" ssl"
    tls="ssl_certificate $3/server.crt; ssl_certificate_key $3/server.key; ssl_protocols TLSv1.2 TLSv1.3;"
  fi
  cat >"$dir/nginx.conf" <<NGINX
worker_processes auto;
worker_rlimit_nofile 30000;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  open_file_cache max=16 inactive=600s;  # no open/stat/close per request: nginx at its best
  open_file_cache_valid 600s;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir;
  uwsgi_temp_path $dir; scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$2$ssl backlog=4096 reuseport;
    $tls
    root $WORK;
    location /users/ { default_type "application/json; charset=utf-8"; try_files /user.json =404; }
  }
}
NGINX
  nginx -c "$dir/nginx.conf" &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  [ -n "$ssl" ] && return 0  # the caller waits over HTTPS
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/users/u0000001" >/dev/null && break; sleep 0.05; done
}
