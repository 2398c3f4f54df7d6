# shellcheck shell=bash
# Tools and build: installs with apt-get what the run needs and is missing (Debian 12), and builds
# busbar, its plugins and the bench tools. Reads ROOT and BUILD; sourced by bench/run, which
# calls install_tools, then build_busbar unless --no-build.

install_tools() {
  local need=() pair
  for pair in wrk:wrk nginx:nginx-light gnuplot:gnuplot-nox sqlite3:sqlite3 jq:jq curl:curl \
    mysql:mariadb-client psql:postgresql-client cmake:cmake ninja:ninja-build valgrind:valgrind \
    strace:strace; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2
  fi
}

build_busbar() {
  local launcher=()
  if [ ! -f "$BUILD/build.ninja" ]; then
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >&2
  fi
  log "building into $BUILD"
  ninja -C "$BUILD" -j"$(nproc)" busbar local amqp sqlite mysql postgresql users busbar-bench \
    busbar-repository-bench busbar_chaos_tests busbar_test_modules >&2
}
