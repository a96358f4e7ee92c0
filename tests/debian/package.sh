#!/usr/bin/env bash
# The Debian package as a user meets it: build the .deb, lintian, install, run as the cabot
# user, the units and the cron line, an upgrade that migrates with a backup, a downgrade
# that is refused and says how to go back, remove and purge. Needs root on Debian with
# debhelper, dpkg-dev, lintian, man-db, sqlite3, systemd (for systemd-analyze) and cargo;
# .ci/run installs them. Changes the machine: run it on a CI machine or a throwaway VM.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
work=$(mktemp -d)
chmod 755 "$work" # the cabot user reads the test's configs in it
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
expect_mode() { # PATH OWNER:GROUP MODE
    local got
    got=$(stat -c '%U:%G %a' "$1")
    [ "$got" = "$2 $3" ] || fail "$1 is $got, want $2 $3"
}
as_cabot() { runuser -u cabot -- "$@"; }
expect_exit() { # CODE COMMAND...
    local want=$1 code=0
    shift
    "$@" || code=$?
    [ "$code" = "$want" ] || fail "$* exited $code, want $want"
}
schema_of() { sqlite3 "$1" 'PRAGMA user_version'; }

[ "$(id -u)" = 0 ] || fail "needs root: it installs and removes a package"
# A package left by an earlier, interrupted run of this script.
apt-get purge -y -qq cabot >/dev/null 2>&1 || true
version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$work/cabot_${version}_${arch}.deb

step "build cabot_${version}_${arch}.deb"
dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
mv ../cabot_"${version}"_* ../cabot-dbgsym_"${version}"_* "$work"/ 2>/dev/null || true
[ -f "$deb" ] || fail "no $deb"

step "lintian: no errors, no warnings (infos listed)"
lintian -I --pedantic --fail-on error,warning "$deb" 2>&1 | grep -v 'running with root' || true
lintian --fail-on error,warning "$deb" >/dev/null 2>&1 || fail "lintian reports errors or warnings"

step "the upgrade's package: one more schema step"
# The same tree with a newer version and the test-only migration, sharing cargo's cache.
up=$work/upgrade-src
mkdir "$up"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$up"
ln -s "$repo/target" "$up/target"
up_version="${version}+upgradetest1"
{
    printf 'cabot (%s) unstable; urgency=medium\n\n  * Test-only: one more schema step.\n\n' "$up_version"
    printf ' -- Cabot developers <cabot@packages.invalid>  %s\n\n' "$(date -R)"
    cat debian/changelog
} >"$up/debian/changelog.new"
mv "$up/debian/changelog.new" "$up/debian/changelog"
(cd "$up" && CABOT_FEATURES=upgrade-test-step dpkg-buildpackage -b -us -uc >"$work/build-up.log" 2>&1) \
    || { tail -40 "$work/build-up.log"; fail "the upgrade's package"; }
up_deb=$work/cabot_${up_version}_${arch}.deb
[ -f "$up_deb" ] || fail "no $up_deb"

step "install"
apt-get install -y -qq --no-install-recommends "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "apt-get install"; }
getent passwd cabot >/dev/null || fail "no cabot user"
expect_mode /var/lib/cabot cabot:cabot 750
expect_mode /etc/cabot/checks.yaml root:cabot 640
expect_mode /usr/bin/cabot root:root 755
for unit in cabot.service cabot.timer cabot-status.service; do
    [ -f /lib/systemd/system/$unit ] || fail "no $unit"
done
grep -q '/usr/bin/cabot -c /etc/cabot/checks.yaml run' /etc/cron.d/cabot || fail "cron.d names the full path"
[ -f /usr/share/bash-completion/completions/cabot ] || fail "bash completion"
[ -f /usr/share/zsh/vendor-completions/_cabot ] || fail "zsh completion"
[ -f /usr/share/fish/vendor_completions.d/cabot.fish ] || fail "fish completion"
[ -f /usr/share/doc/cabot/README.md.gz ] || fail "README in /usr/share/doc/cabot"
[ -f /usr/share/doc/cabot/examples/checks.example.yaml ] || fail "the example config"
for page in cabot cabot-run cabot-serve-status cabot-backup; do
    man -w "$page" >/dev/null || fail "man $page"
done
man -w 5 cabot.yaml >/dev/null || fail "man 5 cabot.yaml"
MANWIDTH=80 man cabot-run 2>/dev/null | grep -q -- '--fail-on' || fail "man cabot-run shows its flags"
MANWIDTH=80 man 5 cabot.yaml 2>/dev/null | grep -q 'stale_after' || fail "cabot.yaml(5) is the config reference"
# The schema this build writes, from the migrations in the source; the upgrade adds one.
old=$(ls src/store/migrations/*.sql | wc -l)
new=$((old + 1))
cabot --version | grep -q "schema $old, commit " || fail "cabot --version: $(cabot --version)"
echo "ok: files, owners, modes, man pages, completions; $(cabot --version)"

step "systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/cabot.service /lib/systemd/system/cabot.timer \
    /lib/systemd/system/cabot-status.service
echo ok

step "as the cabot user: validate, serve-status, run, status"
as_cabot cabot validate
# setpriv, unlike runuser, becomes the server itself, so that its pid is the server's.
setpriv --reuid cabot --regid cabot --init-groups -- cabot serve-status >"$work/serve.log" 2>&1 &
serve_pid=$!
python3 - <<'PY' || fail "serve-status does not answer on 127.0.0.1:5001"
import time, urllib.request, urllib.error
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:5001/status/", timeout=1)
        break
    except urllib.error.HTTPError:
        break  # 503 before any run: it answers
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit(1)
PY
kill -0 "$serve_pid" 2>/dev/null || fail "serve-status exited: $(cat "$work/serve.log")"
as_cabot cabot run
expect_mode /var/lib/cabot/cabot.db cabot:cabot 640
as_cabot cabot status
answer=$(python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:5001/status/", timeout=5).read().decode())')
[ "$answer" = "Checks running" ] || fail "/status/ said: $answer"
echo "ok: /status/ says $answer"

step "the cron line, as cron runs it (PATH=/usr/bin:/bin, as cabot)"
line=$(grep -E '^\* \* \* \* \* cabot ' /etc/cron.d/cabot | sed -E 's/^(\S+\s+){6}//')
runs_before=$(sqlite3 /var/lib/cabot/cabot.db 'SELECT count(*) FROM runs')
if [ -d /run/systemd/system ]; then
    echo "systemd runs here: the line must do nothing"
    runuser -u cabot -- env -i PATH=/usr/bin:/bin SHELL=/bin/sh /bin/sh -c "$line"
    [ "$(sqlite3 /var/lib/cabot/cabot.db 'SELECT count(*) FROM runs')" = "$runs_before" ] || fail "cron ran beside the timer"
else
    runuser -u cabot -- env -i PATH=/usr/bin:/bin SHELL=/bin/sh /bin/sh -c "$line"
    [ "$(sqlite3 /var/lib/cabot/cabot.db 'SELECT count(*) FROM runs')" -gt "$runs_before" ] || fail "the cron line ran nothing"
fi
echo ok

step "the icmp check under cabot.service's capabilities"
caps=$(sed -n 's/^AmbientCapabilities=//p' /lib/systemd/system/cabot.service)
[ "$caps" = CAP_NET_RAW ] || fail "AmbientCapabilities=$caps"
grep -qx 'CapabilityBoundingSet=CAP_NET_RAW' /lib/systemd/system/cabot.service || fail "bounding set"
grep -qx 'NoNewPrivileges=yes' /lib/systemd/system/cabot.service || fail "NoNewPrivileges"
icmp=$work/icmp
install -d -o cabot -g cabot "$icmp"
cat >"$icmp/checks.yaml" <<'YAML'
state: cabot.db
services:
  - name: here
    checks:
      - { name: ping, type: icmp, host: 127.0.0.1, count: 1 }
YAML
chown cabot:cabot "$icmp/checks.yaml"
as_unit() { # as systemd starts cabot.service: user cabot, no new privileges, these caps
    setpriv --reuid cabot --regid cabot --init-groups --no-new-privs \
        --inh-caps "$1" --ambient-caps "$1" --bounding-set "$1" -- "${@:2}"
}
as_unit -all,+net_raw cabot -c "$icmp/checks.yaml" run --all
as_unit -all,+net_raw cabot -c "$icmp/checks.yaml" status >/dev/null || fail "icmp fails under the unit's capabilities"
read -r lo hi </proc/sys/net/ipv4/ping_group_range
gid=$(id -g cabot)
if [ "$gid" -lt "$lo" ] || [ "$gid" -gt "$hi" ]; then
    # The kernel gives the cabot group no unprivileged ICMP socket: without the
    # capability, the check must fail, which shows that the capability is what works.
    rm -f "$icmp"/cabot.db*
    as_unit -all cabot -c "$icmp/checks.yaml" run --all
    expect_exit 2 as_unit -all cabot -c "$icmp/checks.yaml" status
    echo "ok: ping works with CAP_NET_RAW and fails without it"
else
    echo "ok: ping works with CAP_NET_RAW (this kernel also lets the cabot group ping without it)"
fi

step "cabot backup while a run writes"
as_cabot cabot run --all &
run_pid=$!
backup=$(as_cabot cabot backup | sed -n 's/^backup: \(.*\) (schema.*/\1/p')
wait "$run_pid"
[ -f "$backup" ] || fail "no backup"
expect_mode "$backup" cabot:cabot 640
[ "$(sqlite3 "$backup" 'PRAGMA integrity_check')" = ok ] || fail "backup integrity"
echo "ok: $backup"

step "upgrade: postinst migrates after a backup"
rm -f /var/lib/cabot/cabot.db.schema*.bak
kill "$serve_pid" || fail "serve-status stopped: $(cat "$work/serve.log")"
wait "$serve_pid" 2>/dev/null || true
serve_pid=
apt-get install -y --no-install-recommends "$up_deb" >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "upgrade"; }
grep -q "schema $old -> $new (backup: /var/lib/cabot/cabot.db.schema$old-" "$work/upgrade.log" \
    || { cat "$work/upgrade.log"; fail "postinst did not migrate"; }
[ "$(schema_of /var/lib/cabot/cabot.db)" = "$new" ] || fail "state not at schema $new"
old_backup=$(ls /var/lib/cabot/cabot.db.schema"$old"-*.bak)
[ "$(schema_of "$old_backup")" = "$old" ] || fail "the backup is the old schema"
expect_mode "$old_backup" cabot:cabot 640
cabot --version | grep -q "schema $new" || fail "upgraded --version"
as_cabot cabot run
echo "ok: $(grep "schema $old -> $new" "$work/upgrade.log")"

step "downgrade: installs, runs are refused, the message says how to go back"
apt-get install -y --no-install-recommends --allow-downgrades "$deb" >"$work/downgrade.log" 2>&1 || { cat "$work/downgrade.log"; fail "downgrade"; }
grep -q "cabot restore $old_backup" "$work/downgrade.log" || { cat "$work/downgrade.log"; fail "postinst names the backup"; }
code=0
as_cabot cabot run 2>"$work/refused.log" || code=$?
[ "$code" = 65 ] || fail "a downgraded run exited $code, want 65"
grep -q "cabot restore $old_backup" "$work/refused.log" || fail "run names the backup: $(cat "$work/refused.log")"
[ "$(schema_of /var/lib/cabot/cabot.db)" = "$new" ] || fail "the refused run changed the state"
# As the message says, with cabot-status.service still running:
as_cabot cabot restore --wait 2m "$old_backup" || fail "cabot restore"
[ "$(schema_of /var/lib/cabot/cabot.db)" = "$old" ] || fail "restore did not bring back schema $old"
as_cabot cabot run || fail "a run after the restore"
echo "ok: $(cat "$work/refused.log")"

step "remove keeps config and state; purge takes them and keeps the backups"
apt-get remove -y -qq cabot >/dev/null 2>&1 || fail "remove"
[ ! -e /usr/bin/cabot ] || fail "remove left the binary"
[ -f /etc/cabot/checks.yaml ] || fail "remove took the config"
[ -f /var/lib/cabot/cabot.db ] || fail "remove took the state"
apt-get purge -y -qq cabot >/dev/null 2>&1 || fail "purge"
for gone in /etc/cabot /var/lib/cabot/cabot.db /var/lib/cabot/cabot.db-wal \
        /var/lib/cabot/cabot.db.lock /etc/cron.d/cabot /lib/systemd/system/cabot.timer; do
    [ ! -e "$gone" ] || fail "purge left $gone"
done
ls /var/lib/cabot/cabot.db.*.bak >/dev/null 2>&1 || fail "purge took the backups"
rm -rf /var/lib/cabot
echo "ok"
printf '\nthe Debian package: all good\n'
