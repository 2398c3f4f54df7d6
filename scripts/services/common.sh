# shellcheck shell=bash
# Sourced by scripts/services/*.sh and scripts/test (not run): how a test run names what it
# creates on the shared servers, so that it can find and drop all of it afterwards.
#
# Every database, user, role and vhost a run creates is named after the run's prefix,
# BUSBAR_TEST_PREFIX: "busbar_run_" and 10 random hex digits (e.g. busbar_run_3fa9c0e1b2), then
# "_" and 6 more hex digits per object (busbar_run_3fa9c0e1b2_8c1d2e). scripts/test picks the
# prefix, exports it (tests that create a database of their own run the `database` command of
# a services script, which reads it) and at its end, whatever happened, runs
# `scripts/services/<service>.sh cleanup PREFIX`, which drops every object whose name starts
# with it. Objects of other runs (another prefix) and anything else on the servers are never
# touched. A `cleanup` refuses any prefix that is not of this exact form, so that no typo can
# drop someone else's data.

BUSBAR_PREFIX_PATTERN='^busbar_run_[0-9a-f]{10}$'

# random_hex BYTES: 2*BYTES lowercase hex digits from /dev/urandom.
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# new_prefix: a fresh run prefix.
new_prefix() { echo "busbar_run_$(random_hex 5)"; }

# is_prefix TEXT: whether TEXT is a run prefix.
is_prefix() { [[ "$1" =~ $BUSBAR_PREFIX_PATTERN ]]; }

# run_prefix [--exported]: the prefix of the run this script works for; prints it. Without
# BUSBAR_TEST_PREFIX a fresh one and, unless the caller gets it with the exports
# (--exported), a warning that nothing will drop what gets created unless told to.
run_prefix() {
  local prefix="${BUSBAR_TEST_PREFIX:-}"
  if [ -z "$prefix" ]; then
    prefix="$(new_prefix)"
    [ "${1:-}" = --exported ] ||
      echo "${0##*/}: BUSBAR_TEST_PREFIX is not set: what this creates belongs to no run;" \
        "'$0 cleanup $prefix' drops it" >&2
  elif ! is_prefix "$prefix"; then
    echo "${0##*/}: BUSBAR_TEST_PREFIX='$prefix' is not a run prefix" \
      "(busbar_run_ and 10 hex digits; scripts/test sets it)" >&2
    return 2
  fi
  echo "$prefix"
}

# object_name PREFIX: the name of one more object of that run.
object_name() { echo "$1_$(random_hex 3)"; }

# require_prefix TEXT: exits 2 with a message unless TEXT is a run prefix (for `cleanup`).
require_prefix() {
  if ! is_prefix "${1:-}"; then
    echo "${0##*/}: cleanup needs a run prefix (busbar_run_ and 10 hex digits, as in" \
      "\$BUSBAR_TEST_PREFIX); got '${1:-}'" >&2
    exit 2
  fi
}

# with_prefix PREFIX: the lines of stdin that start with PREFIX.
with_prefix() {
  local line
  while IFS= read -r line; do
    if [[ "$line" == "$1"* ]]; then printf '%s\n' "$line"; fi
  done
}
