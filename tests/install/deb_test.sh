#!/usr/bin/env bash
# install.deb: builds the Debian package of a build tree with CPack, checks its contents, installs
# it on this machine with dpkg -i, runs the installed busbar (--version, plugins, --check-config
# as the service user), then removes and purges it. Needs root, or sudo without a password.
#   deb_test.sh <build dir> <version>
set -euo pipefail
build="$1"
version="$2"

fail() {
  echo "install.deb: $*" >&2
  exit 1
}
expect_in() {  # expect_in <text> <needle> <what>
  grep -qF -- "$2" <<<"$1" || fail "$3: '$2' missing in:"$'\n'"$1"
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null || fail "needs root or passwordless sudo to dpkg -i the package"
  sudo="sudo -n"
fi

# One package test at a time on this machine, whatever build tree runs it: they install and
# remove the same package. The lock is taken on dpkg's folder, which is always there, so that
# nothing is left behind (dpkg's own locks are fcntl locks, which flock does not touch).
exec 9</var/lib/dpkg
flock -w 600 9 || fail "another busbar package test held the lock on /var/lib/dpkg for 10 minutes"

work=$(mktemp -d)
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then $sudo dpkg --purge busbar >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The package.
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work" >"$work/cpack.log" 2>&1 ||
  fail "cpack failed: $(cat "$work/cpack.log")"
deb="$work/busbar_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $deb; cpack made: $(ls "$work")"

contents=$(dpkg-deb -c "$deb")
paths=$(awk '{print $6}' <<<"$contents")
for path in ./usr/bin/busbar ./usr/bin/busbar-conformance ./usr/lib/busbar/plugins/local.so \
  ./usr/lib/busbar/plugins/sqlite.so ./usr/lib/busbar/plugins/users.so ./usr/include/busbar/abi.h \
  ./usr/include/busbar/plugin.h ./usr/include/busbar/sdk_digest.h \
  ./usr/include/busbar/event_log_storage.h \
  ./usr/lib/cmake/Busbar/BusbarConfig.cmake ./usr/lib/cmake/Busbar/BusbarConfigVersion.cmake \
  ./usr/lib/cmake/Busbar/BusbarTargets.cmake ./usr/lib/cmake/Busbar/BusbarPlugin.cmake \
  ./etc/busbar/host.conf ./usr/lib/systemd/system/busbar.service \
  ./usr/share/doc/busbar/plugins.md; do
  grep -qxF "$path" <<<"$paths" || fail "$path is not in the package:"$'\n'"$contents"
done
grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/busbar$' <<<"$contents" ||
  fail "./usr/bin/busbar is not root-owned 0755:"$'\n'"$contents"

unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/busbar.service)
expect_in "$unit" "User=busbar" "busbar.service"
expect_in "$unit" "Restart=on-failure" "busbar.service"
expect_in "$unit" "ExecStart=/usr/bin/busbar --config /etc/busbar/host.conf" "busbar.service"
expect_in "$unit" "Type=notify" "busbar.service"
expect_in "$unit" "ExecReload=/bin/kill -HUP \$MAINPID" "busbar.service"
config=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/busbar/host.conf)
expect_in "$config" "sqlite.path = ../../var/lib/busbar/busbar.db" "/etc/busbar/host.conf"
expect_in "$(dpkg-deb -f "$deb" Package Version Architecture)" "Version: $version" "control"
expect_in "$(dpkg-deb -I "$deb" conffiles)" "/etc/busbar/host.conf" "conffiles"

# Installed on this machine.
installed=1
$sudo dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || fail "dpkg -i failed: $(cat "$work/dpkg.log")"
getent passwd busbar >/dev/null || fail "the package did not create the user busbar"
[ "$(stat -c %U /var/lib/busbar)" = busbar ] || fail "/var/lib/busbar is not owned by busbar"

out=$(/usr/bin/busbar --version) || fail "busbar --version failed: $out"
expect_in "$out" "busbar $version (plugin ABI" "busbar --version"

out=$(/usr/bin/busbar plugins 2>&1) || fail "busbar plugins failed: $out"
expect_in "$out" "plugin folder 1 of 1: /usr/lib/busbar/plugins" "busbar plugins"
for plugin in local sqlite users; do
  expect_in "$out" "$plugin ($plugin.so)" "busbar plugins"
done
if grep "^    status " <<<"$out" | grep -qv "^    status ok$"; then
  fail "a bundled plugin is refused:"$'\n'"$out"
fi

# The installed conformance suites prove the installed plugins (sqlite here: no server needed).
printf '[storage]\ndriver = sqlite\nsqlite.path = %s/conformance.db\n' "$work" >"$work/conformance.conf"
for suite in storage event-log; do
  out=$(/usr/bin/busbar-conformance "$suite" --plugin sqlite --config "$work/conformance.conf" 2>&1) ||
    fail "busbar-conformance $suite --plugin sqlite failed: $out"
  expect_in "$out" "[  PASSED  ]" "busbar-conformance $suite"
done

# The unit as systemd reads it (where systemd's tools are installed).
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify /usr/lib/systemd/system/busbar.service 2>&1) ||
    fail "systemd-analyze verify busbar.service: $out"
fi

# The service user can load the default config and every plugin it names.
out=$($sudo runuser -u busbar -- /usr/bin/busbar --check-config 2>&1) ||
  fail "busbar --check-config as busbar failed: $out"
expect_in "$out" "/etc/busbar/host.conf: ok" "busbar --check-config"

# Removed: the files go, the conffiles stay until purge.
$sudo dpkg -r busbar >"$work/dpkg.log" 2>&1 || fail "dpkg -r failed: $(cat "$work/dpkg.log")"
[ ! -e /usr/bin/busbar ] || fail "dpkg -r left /usr/bin/busbar"
[ ! -e /usr/lib/busbar/plugins/users.so ] || fail "dpkg -r left the plugins"
[ -e /etc/busbar/host.conf ] || fail "dpkg -r removed the conffile /etc/busbar/host.conf"
$sudo dpkg --purge busbar >"$work/dpkg.log" 2>&1 || fail "dpkg --purge failed: $(cat "$work/dpkg.log")"
installed=0
[ ! -e /etc/busbar/host.conf ] || fail "dpkg --purge left /etc/busbar/host.conf"
echo "install.deb: $(basename "$deb") built, installed, run and removed"
