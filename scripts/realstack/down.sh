#!/bin/bash
# down.sh - stop exactly the Postfix / spamd / clamd that up.sh started for
# the same REALSTACK_DIR (default /tmp/mda-realstack).
#
# Candidates come from $REALSTACK_DIR/run.pids (written by up.sh) and the
# daemons' own pid files. A pid is signalled only if the process still is this
# stack's daemon: the Postfix master must have its cwd in $REALSTACK_DIR/postfix/spool,
# spamd/clamd must have $REALSTACK_DIR in their command line. Nothing is matched
# by name. Each gets SIGTERM (for the master the same graceful stop as
# `postfix stop`), then SIGKILL after 15 s. Processes still left in that daemon's
# session afterwards (Postfix's and spamd's children) are stopped too.
# Idempotent: with nothing running it says so and exits 0. Logs, configs and the
# queue stay for inspection; REALSTACK_PURGE=1 also removes $REALSTACK_DIR.
set -uo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

DIR=${REALSTACK_DIR:-/tmp/mda-realstack}
say() { printf 'realstack: %s\n' "$*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# keep in step with is_ours in up.sh
is_ours() {
  local cmd
  [[ $2 =~ ^[0-9]+$ ]] && kill -0 "$2" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' < "/proc/$2/cmdline" 2>/dev/null) || return 1
  case $1 in
    postfix) [[ $cmd == *master* && $(readlink "/proc/$2/cwd") == "$DIR/postfix/spool" ]] ;;
    spamd) [[ $cmd == *"--pidfile=$DIR/spamd/spamd.pid"* ]] ;;
    clamd) [[ $cmd == *"clamd -c $DIR/clamd/clamd.conf"* ]] ;;
    *) return 1 ;;
  esac
}
wait_gone() { # PID SECONDS
  local i
  for ((i = 0; i < $2 * 20; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  return 1
}
session_members() { # SID: pids (other than SID) whose session id is SID
  ps -e -o pid=,sid= | awk -v s="$1" '$2 == s && $1 != s { print $1 }'
}
candidates() {
  [ -f "$DIR/run.pids" ] && cat "$DIR/run.pids"
  [ -s "$DIR/postfix/spool/pid/master.pid" ] && echo "postfix $(tr -dc 0-9 < "$DIR/postfix/spool/pid/master.pid")"
  [ -s "$DIR/spamd/spamd.pid" ] && echo "spamd $(tr -dc 0-9 < "$DIR/spamd/spamd.pid")"
  [ -s "$DIR/clamd/clamd.pid" ] && echo "clamd $(tr -dc 0-9 < "$DIR/clamd/clamd.pid")"
  return 0
}

t0=$(now_ms)
declare -A SVC=()
# 1) SIGTERM to each candidate that still is one of ours
while read -r svc pid; do
  [ -n "${pid:-}" ] && [ -z "${SVC[$pid]:-}" ] || continue
  if is_ours "$svc" "$pid" && kill -TERM "$pid" 2>/dev/null; then SVC[$pid]=$svc; fi
done < <(candidates | sort -u)
[ ${#SVC[@]} -eq 0 ] && say "nothing of this stack ($DIR) is running: nothing to stop"
# 2) wait for each (15 s at most), then SIGKILL
for pid in "${!SVC[@]}"; do
  if wait_gone "$pid" 15; then
    say "stopped ${SVC[$pid]} pid $pid (SIGTERM, $(( $(now_ms) - t0 )) ms)"
  else
    kill -KILL "$pid" 2>/dev/null; wait_gone "$pid" 5
    say "stopped ${SVC[$pid]} pid $pid (SIGKILL after 15 s)"
  fi
done
# 3) leftovers in each stopped daemon's session. A mailbox_command that is
#    still running is not among them: local(8) starts it in a session of its own.
for pid in "${!SVC[@]}"; do
  left=$(session_members "$pid")
  if [ -n "$left" ]; then
    say "${SVC[$pid]}: stopping leftover processes of session $pid: $(echo $left)"
    # shellcheck disable=SC2086
    kill -TERM $left 2>/dev/null
    for p in $left; do wait_gone "$p" 2 || kill -KILL "$p" 2>/dev/null; done
  fi
done
[ -f "$DIR/run.pids" ] && : > "$DIR/run.pids"
# what a SIGKILLed daemon leaves behind (none of our daemons runs now)
rm -f "$DIR/spamd/spamd.sock" "$DIR/spamd/spamd.pid" "$DIR/clamd/clamd.sock" "$DIR/clamd/clamd.pid" 2>/dev/null
[ ${#SVC[@]} -eq 0 ] || say "down after $(( $(now_ms) - t0 )) ms"
if [ "${REALSTACK_PURGE:-0}" = 1 ]; then rm -rf "$DIR"; say "removed $DIR"; fi
exit 0
