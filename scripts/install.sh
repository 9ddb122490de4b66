#!/bin/sh
# Installs an edgetrain binary as a system service: the binary into $PREFIX/bin, the service user, its
# home and logs, and the systemd unit (written by the binary itself, fitted to its profile).
#
#   sudo scripts/install.sh dist/edgetrain-jetson-orin [--profile NAME] [--run-as USER]
#
# DESTDIR=/some/root installs into that folder instead of /, as a package build or a test would: the
# user is added to DESTDIR's /etc/passwd, and systemctl is not called.
set -eu

usage() {
  echo "usage: install.sh BINARY [--profile NAME] [--run-as USER]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
binary=$1
shift
profile=""
user=edgetrain
while [ $# -gt 0 ]; do
  case $1 in
    --profile) [ $# -ge 2 ] || usage; profile=$2; shift 2 ;;
    --run-as) [ $# -ge 2 ] || usage; user=$2; shift 2 ;;
    *) echo "install.sh: unexpected argument \"$1\"" >&2; usage ;;
  esac
done

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
[ -f "$binary" ] || { echo "install.sh: $binary does not exist" >&2; exit 1; }

# The checksum beside the binary, when the build wrote one: a damaged download is refused here.
sums="$(dirname "$binary")/SHA256SUMS"
if [ -f "$sums" ]; then
  name=$(basename "$binary")
  expected=$(awk -v name="$name" '$2 == name { print $1 }' "$sums")
  actual=$(sha256sum "$binary" | awk '{ print $1 }')
  if [ -n "$expected" ] && [ "$expected" != "$actual" ]; then
    echo "install.sh: $binary does not match its SHA256SUMS entry: refusing to install" >&2
    exit 1
  fi
fi

"$binary" --version >/dev/null || { echo "install.sh: $binary does not run on this machine" >&2; exit 1; }

# Everything is checked before anything changes: the binary's own dry run refuses a user it must not run as
# (root, an empty or malformed name) and a profile that does not load, with the exit code it would end with.
set -- service install --run-as "$user" --unit-dir "$DESTDIR/etc/systemd/system" --exec "$PREFIX/bin/edgetrain"
[ -n "$profile" ] && set -- "$@" --profile "$profile"
HOME=/var/lib/edgetrain "$binary" "$@" --dry-run >/dev/null || exit $?

target="$DESTDIR$PREFIX/bin/edgetrain"
install -D -m 0755 "$binary" "$target"
echo "installed $target ($("$target" --version))"

if [ -n "$DESTDIR" ]; then
  mkdir -p "$DESTDIR/etc"
  for file in passwd group shadow gshadow; do [ -e "$DESTDIR/etc/$file" ] || : >"$DESTDIR/etc/$file"; done
  root_flag="--root $DESTDIR"
else
  root_flag=""
fi
# shellcheck disable=SC2086 # root_flag is empty or two words on purpose
if ! grep -q "^$user:" "$DESTDIR/etc/passwd" 2>/dev/null; then
  useradd $root_flag --system --user-group --home-dir /var/lib/edgetrain --shell /usr/sbin/nologin "$user"
  echo "created the service user $user"
fi
uid=$(awk -F: -v user="$user" '$1 == user { print $3 }' "$DESTDIR/etc/passwd")
gid=$(awk -F: -v user="$user" '$1 == user { print $4 }' "$DESTDIR/etc/passwd")
for dir in /var/lib/edgetrain /var/log/edgetrain; do
  install -d -m 0750 -o "$uid" -g "$gid" "$DESTDIR$dir"
done
echo "home /var/lib/edgetrain, logs /var/log/edgetrain"

mkdir -p "$DESTDIR/etc/systemd/system"
HOME=/var/lib/edgetrain "$target" "$@"
if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  echo "enable and start it with: systemctl enable --now edgetrain"
fi
