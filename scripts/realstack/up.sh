#!/bin/bash
# up.sh - start a private Postfix (and optionally spamd and clamd) on 127.0.0.1
# for mda's end-to-end tests.
#
# Nothing under /etc is changed, no systemd is needed, nothing leaves the host:
# every piece of state lives under $REALSTACK_DIR. Postfix hands local mail to
# REALSTACK_MDA_COMMAND (its mailbox_command), run as REALSTACK_MDA_USER. Mail to
# REALSTACK_SINK_DOMAIN (e.g. bounces to the test sender) is saved as one file
# per message in $REALSTACK_DIR/bounces/. Deferred mail stays deferred (queue
# runs and backoff are an hour) until a test flushes it.
#
# Idempotent: a service that is already up is reported and left alone (Postfix
# gets its config rewritten and reloaded if a setting changed). Every start is
# recorded in $REALSTACK_DIR/run.pids; down.sh stops exactly those processes.
# Each fresh Postfix start empties its queue, bounces/ and mda-out/.
#
# Settings (environment variables, defaults in brackets):
#   REALSTACK_DIR [/tmp/mda-realstack]   all state; every parent folder must be
#                                        searchable by the MDA user (not under /root)
#   REALSTACK_SERVICES [postfix]         any of: postfix spamd clamd
#   REALSTACK_SMTP_PORT [2525]  REALSTACK_SPAMD_PORT [17830]  REALSTACK_CLAMD_PORT [13310]
#   REALSTACK_MDA_USER [mdatest]         local recipient (created with useradd -m if missing)
#   REALSTACK_MDA_COMMAND [$REALSTACK_DIR/bin/capture-mda.sh]
#                                        Postfix mailbox_command. Postfix runs it as the MDA
#                                        user with PATH=/usr/bin:/bin and no $name expansion,
#                                        so it must be an absolute path that user can execute.
#                                        The default stand-in saves each message in mda-out/
#                                        and exits with the code in mda-ctl/exit (default 0).
#   REALSTACK_MAILBOX_TRANSPORT []       e.g. lmtp:inet:127.0.0.1:2424 (used instead of the command)
#   REALSTACK_COMMAND_TIME_LIMIT [1000s] Postfix command_time_limit
#   REALSTACK_DOMAIN [example.test]      local domain (mydestination, with localhost)
#   REALSTACK_SINK_DOMAIN [sender.test]  mail to this domain is saved in bounces/
#   REALSTACK_DAEMON_USER [nobody]       user the sink, spamd and clamd run as
#   REALSTACK_CLAMD_STREAM_MAX [25M]     clamd StreamMaxLength
#   REALSTACK_SPAMD_MAX_CHILDREN [2]  REALSTACK_SPAMD_TIMEOUT_CHILD [30]
#   REALSTACK_WAIT_SECONDS [30]          how long to wait for each service to answer
# Output: one line per service; endpoints for tests in $REALSTACK_DIR/env.sh
# (shell) and env.json. Needs root for postfix (its master runs as root and
# local(8) switches to the recipient's uid); spamd and clamd can run as anyone.
# Packages: postfix (spamd: spamassassin spamd spamc; clamd: clamav-daemon);
# scripts/install-test-deps.sh installs them.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T_START=$(now_ms)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${REALSTACK_DIR:-/tmp/mda-realstack}
SERVICES=${REALSTACK_SERVICES:-postfix}
SMTP_PORT=${REALSTACK_SMTP_PORT:-2525}
SPAMD_PORT=${REALSTACK_SPAMD_PORT:-17830}
CLAMD_PORT=${REALSTACK_CLAMD_PORT:-13310}
MDA_USER=${REALSTACK_MDA_USER:-mdatest}
MDA_COMMAND=${REALSTACK_MDA_COMMAND:-}
MAILBOX_TRANSPORT=${REALSTACK_MAILBOX_TRANSPORT:-}
COMMAND_TIME_LIMIT=${REALSTACK_COMMAND_TIME_LIMIT:-1000s}
DOMAIN=${REALSTACK_DOMAIN:-example.test}
SINK_DOMAIN=${REALSTACK_SINK_DOMAIN:-sender.test}
DAEMON_USER=${REALSTACK_DAEMON_USER:-nobody}
CLAMD_STREAM_MAX=${REALSTACK_CLAMD_STREAM_MAX:-25M}
SPAMD_MAX_CHILDREN=${REALSTACK_SPAMD_MAX_CHILDREN:-2}
SPAMD_TIMEOUT_CHILD=${REALSTACK_SPAMD_TIMEOUT_CHILD:-30}
WAIT=${REALSTACK_WAIT_SECONDS:-30}

say() { printf 'realstack: %s\n' "$*"; }
die() { printf 'realstack: ERROR: %s\n' "$*" >&2; exit 1; }
want() { [[ " $SERVICES " == *" $1 "* ]]; }

# is_ours SERVICE PID: PID is alive and is this stack's SERVICE, judged by its
# command line or working directory (never by name alone), so a recycled pid or
# another stack's daemon is never mistaken for ours.
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
# pid_alive SERVICE PIDFILE: prints the pid if PIDFILE names our live SERVICE
pid_alive() {
  local pid
  [ -s "$2" ] || return 1
  pid=$(tr -dc '0-9' < "$2")
  is_ours "$1" "$pid" || return 1
  echo "$pid"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
smtp_ping() { # the "220 " banner, then QUIT
  ( exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" && IFS= read -r -t 2 l <&3 && [[ $l == "220 "* ]] &&
    printf 'QUIT\r\n' >&3 ) 2>/dev/null
}
spamd_ping() { # SPAMC/1.5 PING -> "SPAMD/1.5 0 PONG"
  ( exec 3<>"/dev/tcp/127.0.0.1/$SPAMD_PORT" && printf 'PING SPAMC/1.5\r\n\r\n' >&3 &&
    IFS= read -r -t 2 l <&3 && [[ $l == *" 0 PONG"* ]] ) 2>/dev/null
}
clamd_ping() { # zPING\0 -> "PONG\0"
  ( exec 3<>"/dev/tcp/127.0.0.1/$CLAMD_PORT" && printf 'zPING\0' >&3 &&
    IFS= read -r -d '' -t 2 l <&3 && [[ $l == PONG ]] ) 2>/dev/null
}
# wait_for NAME CHECK T0 [BGPID] [LOG]: wait until CHECK succeeds, print the ms
# since T0; give up at once if BGPID (the launched daemon) has died
wait_for() {
  local deadline=$(( $(now_ms) + WAIT * 1000 ))
  until "$2"; do
    if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
      tail -n 5 "${5:-/dev/null}" >&2 || true; die "$1 exited during startup (log: ${5:-})"
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      tail -n 5 "${5:-/dev/null}" >&2 || true; die "$1 did not answer within ${WAIT}s (log: ${5:-})"
    fi
    sleep 0.05
  done
  echo $(( $(now_ms) - $3 ))
}
record() { echo "$1 $2" >> "$DIR/run.pids"; }   # "service pid", read by down.sh
# as_user USER CMD...: run CMD with USER's uid and primary gid only, the way
# Postfix's local(8) runs mailbox_command
as_user() { local u=$1; shift; setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --clear-groups "$@"; }

# ------------------------------------------------------------------ preflight
# fail before starting anything if a requested service cannot be started
for s in $SERVICES; do
  case $s in postfix|spamd|clamd) ;; *) die "unknown service '$s' in REALSTACK_SERVICES (postfix spamd clamd)" ;; esac
done
if want postfix && [ "$(id -u)" != 0 ]; then
  die "postfix needs root (its master runs as root and local(8) switches to the recipient's uid); run as root or set REALSTACK_SERVICES=\"spamd clamd\""
fi
for p in "$SMTP_PORT" "$SPAMD_PORT" "$CLAMD_PORT"; do
  [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge 1 ] && [ "$p" -le 65535 ] || die "bad port number: $p"
done
for b in postfix spamd clamd; do
  if want "$b" && ! command -v "$b" >/dev/null; then
    die "$b not found: run scripts/install-test-deps.sh (with TEST_DEPS_EXTRA for spamd/clamd)"
  fi
done
case $DIR in /*) ;; *) die "REALSTACK_DIR must be an absolute path: $DIR" ;; esac

mkdir -p "$DIR"
chmod 755 "$DIR"
touch "$DIR/run.pids"
if [ "$(id -u)" = 0 ]; then
  id "$DAEMON_USER" >/dev/null 2>&1 || die "daemon user $DAEMON_USER does not exist"
  [ "$DAEMON_USER" != root ] || die "REALSTACK_DAEMON_USER must not be root (pipe(8) refuses it)"
  RUNAS=(setpriv --reuid="$(id -u "$DAEMON_USER")" --regid="$(id -g "$DAEMON_USER")" --init-groups)
  OWNER="$(id -u "$DAEMON_USER"):$(id -g "$DAEMON_USER")"
  # the sink and the daemons run as DAEMON_USER and must reach $DIR
  "${RUNAS[@]}" test -x "$DIR" ||
    die "$DAEMON_USER cannot enter $DIR (a parent folder is not searchable); pick another REALSTACK_DIR"
else
  RUNAS=()
  DAEMON_USER=$(id -un)
  OWNER="$(id -u):$(id -g)"
fi

# -------------------------------------------------------------------- postfix
# write_postfix_config D: (re)write D/etc/main.cf and master.cf; prints
# "changed" if either differs from what was there
write_postfix_config() {
  local d=$1 line changed=""
  if [ -n "$MAILBOX_TRANSPORT" ]; then line="mailbox_transport = $MAILBOX_TRANSPORT"
  else line="mailbox_command = $MDA_COMMAND"; fi
  mkdir -p "$d/etc"
  cat > "$d/etc/main.cf.new" <<EOF
# mda realstack: private Postfix instance on loopback, written by up.sh
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
# no syslog: postlogd writes this file (its folder must be in the prefix list)
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = mx.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination = localhost, $DOMAIN
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# pass test messages through unchanged (no Date/Message-ID/From added)
local_header_rewrite_clients =
alias_maps =
alias_database =
local_recipient_maps = proxy:unix:passwd.byname \$alias_maps
recipient_delimiter = +
$line
command_time_limit = $COMMAND_TIME_LIMIT
biff = no
# mail to $SINK_DOMAIN (bounces to test senders) is saved by the sink; nothing leaves the host
transport_maps = inline:{ $SINK_DOMAIN=sink: }
default_transport = error:no remote delivery in tests
relay_transport = error:no remote delivery in tests
# deferred mail stays deferred until a test flushes it (postqueue -c $d/etc -f)
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 7200s
delay_warning_time = 0
EOF
  cat > "$d/etc/master.cf.new" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT inet n -   n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
sink      unix  -       n       n       -       -       pipe
  flags=Rq user=$DAEMON_USER argv=$DIR/bin/sink.sh \${queue_id}
EOF
  for f in main.cf master.cf; do
    if cmp -s "$d/etc/$f.new" "$d/etc/$f"; then rm -f "$d/etc/$f.new"
    else mv -f "$d/etc/$f.new" "$d/etc/$f"; changed=changed; fi
  done
  # Postfix keeps re-reading a config file modified within the last second or
  # two (300 ms steps) until it is "cool": backdate it, or each start or
  # reload costs about 2 s more
  touch -d "@$(( $(date +%s) - 10 ))" "$d/etc/main.cf" "$d/etc/master.cf"
  echo "$changed"
}

start_postfix() {
  local d="$DIR/postfix" pid t0 ms prog
  [ -n "$MDA_COMMAND" ] || MDA_COMMAND="$DIR/bin/capture-mda.sh"
  id postfix >/dev/null 2>&1 && getent group postdrop >/dev/null ||
    die "user postfix / group postdrop missing (is the postfix package installed?)"
  if ! id "$MDA_USER" >/dev/null 2>&1; then
    # a parallel up.sh may create it at the same moment: only the result counts
    useradd -m "$MDA_USER" 2>/dev/null || id "$MDA_USER" >/dev/null 2>&1 || die "useradd -m $MDA_USER failed"
    say "created unix user $MDA_USER (uid $(id -u "$MDA_USER"))"
  fi
  as_user "$MDA_USER" test -x "$DIR" ||
    die "$MDA_USER cannot enter $DIR (a parent folder is not searchable); pick another REALSTACK_DIR"

  # helper programs: the bounce sink and the default stand-in MDA
  mkdir -p "$DIR/bin" "$DIR/mda-ctl" "$DIR/mda-out" "$DIR/bounces"
  chmod 755 "$DIR/bin" "$DIR/mda-ctl"; chmod 1777 "$DIR/mda-out" "$DIR/bounces"
  cat > "$DIR/bin/sink.sh" <<EOF
#!/bin/sh
# saves each message for $SINK_DOMAIN (e.g. a bounce) as bounces/<ns>-<queue id>.eml
umask 022
f="$DIR/bounces/\$(date +%s%N)-\$1"
cat > "\$f.tmp" && mv "\$f.tmp" "\$f.eml"
EOF
  cat > "$DIR/bin/capture-mda.sh" <<EOF
#!/bin/sh
# stand-in mailbox_command: saves stdin as mda-out/<ns>-<pid>.eml, prints
# mda-ctl/output (if any) and exits with the code in mda-ctl/exit (default 0)
umask 022
cat > "$DIR/mda-out/\$(date +%s%N)-\$\$.eml"
[ -s "$DIR/mda-ctl/output" ] && cat "$DIR/mda-ctl/output"
exit "\$(cat "$DIR/mda-ctl/exit" 2>/dev/null || echo 0)"
EOF
  chmod 755 "$DIR/bin/sink.sh" "$DIR/bin/capture-mda.sh"

  if [ -z "$MAILBOX_TRANSPORT" ]; then
    # Postfix runs the command as MDA_USER; one it cannot reach (e.g. under
    # /root, mode 0700) defers every message with "execvp ...: Permission denied"
    prog=${MDA_COMMAND%% *}
    case $prog in /*) ;; *) die "REALSTACK_MDA_COMMAND must start with an absolute path: $MDA_COMMAND" ;; esac
    as_user "$MDA_USER" test -x "$prog" ||
      say "WARNING: $MDA_USER cannot execute $prog: every delivery will be deferred"
  fi

  if pid=$(pid_alive postfix "$d/spool/pid/master.pid"); then
    if [ "$(write_postfix_config "$d")" = changed ]; then
      postfix -c "$d/etc" reload </dev/null >>"$d/postfix-cmd.log" 2>&1 || die "postfix reload failed: see $d/postfix-cmd.log"
      ms=$(wait_for postfix smtp_ping "$(now_ms)" "" "$d/maillog")
      say "postfix already running, master pid $pid: settings changed, reloaded (smtp 127.0.0.1:$SMTP_PORT)"
    else
      say "postfix already running, master pid $pid, smtp 127.0.0.1:$SMTP_PORT"
    fi
    return
  fi
  port_open "$SMTP_PORT" && die "127.0.0.1:$SMTP_PORT is already in use (not by this stack)"

  # a fresh start begins with an empty queue (the folder skeleton is kept), a
  # new maillog (the last one is kept as maillog.prev), no captured messages,
  # no bounces and no stand-in controls
  rm -f "$DIR/mda-ctl/"* "$DIR/mda-out/"* "$DIR/bounces/"* 2>/dev/null || true
  if [ -f "$d/maillog" ]; then mv -f "$d/maillog" "$d/maillog.prev"; fi
  if [ -d "$d/spool" ]; then
    for q in active bounce corrupt defer deferred flush hold incoming maildrop saved trace; do
      if [ -d "$d/spool/$q" ]; then find "$d/spool/$q" -mindepth 1 -type f -delete; fi
    done
  fi
  mkdir -p "$d/spool" "$d/data"
  chown postfix: "$d/data"
  write_postfix_config "$d" >/dev/null
  # `postfix start` runs post-install create-missing (queue folders with the
  # right owners), then starts the master, which detaches into its own session
  t0=$(now_ms)
  postfix -c "$d/etc" start </dev/null >>"$d/postfix-cmd.log" 2>&1 ||
    { tail -n 5 "$d/postfix-cmd.log" >&2; die "postfix start failed: see $d/postfix-cmd.log and $d/maillog"; }
  ms=$(wait_for postfix smtp_ping "$t0" "" "$d/maillog")
  pid=$(pid_alive postfix "$d/spool/pid/master.pid") || die "postfix answered but master.pid names no master of ours"
  record postfix "$pid"
  say "started postfix master pid $pid, smtp 127.0.0.1:$SMTP_PORT, config $d/etc, maillog $d/maillog (answered after ${ms} ms)"
  if [ -n "$MAILBOX_TRANSPORT" ]; then say "  mailbox_transport = $MAILBOX_TRANSPORT"
  else say "  mailbox_command = $MDA_COMMAND (runs as $MDA_USER; command_time_limit $COMMAND_TIME_LIMIT)"; fi
}

# ---------------------------------------------------------------------- spamd
# Offline: rules are the ones the Debian package ships in /usr/share/spamassassin
# (no sa-update), network tests are off. Needs: spamassassin spamd spamc.
start_spamd() {
  local d="$DIR/spamd" pid t0 ms
  if pid=$(pid_alive spamd "$d/spamd.pid"); then
    say "spamd already running, pid $pid, 127.0.0.1:$SPAMD_PORT and $d/spamd.sock"; return
  fi
  port_open "$SPAMD_PORT" && die "127.0.0.1:$SPAMD_PORT is already in use (not by this stack)"
  mkdir -p "$d/site" "$d/home"
  # Debian's plugin list (*.pre) plus offline, deterministic settings
  cp /etc/spamassassin/*.pre "$d/site/" 2>/dev/null || true
  cat > "$d/site/local.cf" <<'EOF'
# mda realstack: offline and deterministic
dns_available no
skip_rbl_checks 1
use_razor2 0
use_pyzor 0
use_bayes 0
bayes_auto_learn 0
report_safe 0
lock_method flock
EOF
  rm -f "$d/spamd.sock" "$d/spamd.pid"
  chown -R "$OWNER" "$d"
  t0=$(now_ms)
  setsid "${RUNAS[@]}" env HOME="$d/home" spamd -x -L \
    --siteconfigpath="$d/site" \
    --listen="127.0.0.1:$SPAMD_PORT" --listen="$d/spamd.sock" \
    --max-children="$SPAMD_MAX_CHILDREN" --min-children=1 \
    --timeout-child="$SPAMD_TIMEOUT_CHILD" --timeout-tcp=10 \
    --pidfile="$d/spamd.pid" --syslog="$d/spamd.log" --helper-home-dir="$d/home" \
    </dev/null >>"$d/stderr.log" 2>&1 &
  ms=$(wait_for spamd spamd_ping "$t0" $! "$d/stderr.log")
  pid=$(pid_alive spamd "$d/spamd.pid") || die "spamd answered but $d/spamd.pid names no spamd of ours"
  record spamd "$pid"
  say "started spamd pid $pid as $DAEMON_USER on 127.0.0.1:$SPAMD_PORT and $d/spamd.sock (answered after ${ms} ms)"
}

# ---------------------------------------------------------------------- clamd
# Offline there are no official signatures (freshclam needs the network and
# /var/lib/clamav is empty after install), so the stack ships its own database:
# it matches the EICAR string and MDA-REALSTACK-TEST-VIRUS-MARKER; clamd adds
# ".UNOFFICIAL" to the names. Needs: clamav-daemon.
start_clamd() {
  local d="$DIR/clamd" pid t0 ms
  if pid=$(pid_alive clamd "$d/clamd.pid"); then
    say "clamd already running, pid $pid, 127.0.0.1:$CLAMD_PORT and $d/clamd.sock"; return
  fi
  port_open "$CLAMD_PORT" && die "127.0.0.1:$CLAMD_PORT is already in use (not by this stack)"
  mkdir -p "$d/db"
  local eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
  local marker='MDA-REALSTACK-TEST-VIRUS-MARKER'
  {
    printf 'Realstack.Test.EICAR-NDB:0:*:%s\n' "$(printf '%s' "$eicar" | od -An -v -tx1 | tr -d ' \n')"
    printf 'Realstack.Test.Marker-NDB:0:*:%s\n' "$(printf '%s' "$marker" | od -An -v -tx1 | tr -d ' \n')"
  } > "$d/db/realstack.ndb"
  cat > "$d/clamd.conf" <<EOF
# mda realstack clamd: private database, loopback TCP + unix socket, foreground
Foreground yes
DatabaseDirectory $d/db
LocalSocket $d/clamd.sock
LocalSocketMode 666
FixStaleSocket yes
TCPSocket $CLAMD_PORT
TCPAddr 127.0.0.1
PidFile $d/clamd.pid
LogFile $d/clamd.log
LogTime yes
LogClean yes
MaxThreads 2
StreamMaxLength $CLAMD_STREAM_MAX
ScanMail yes
Bytecode no
SelfCheck 0
CommandReadTimeout 10
EOF
  rm -f "$d/clamd.sock" "$d/clamd.pid"
  chown -R "$OWNER" "$d"
  t0=$(now_ms)
  setsid "${RUNAS[@]}" clamd -c "$d/clamd.conf" </dev/null >>"$d/stdout.log" 2>&1 &
  ms=$(wait_for clamd clamd_ping "$t0" $! "$d/stdout.log")
  pid=$(pid_alive clamd "$d/clamd.pid") || die "clamd answered but $d/clamd.pid names no clamd of ours"
  record clamd "$pid"
  say "started clamd pid $pid as $DAEMON_USER on 127.0.0.1:$CLAMD_PORT and $d/clamd.sock (answered after ${ms} ms; StreamMaxLength $CLAMD_STREAM_MAX)"
}

for s in spamd clamd postfix; do
  if want "$s"; then "start_$s"; fi
done

cat > "$DIR/env.sh" <<EOF
# endpoints of the realstack started by up.sh (source this file)
export REALSTACK_DIR=$DIR
export REALSTACK_SERVICES="$SERVICES"
export REALSTACK_SMTP_HOST=127.0.0.1 REALSTACK_SMTP_PORT=$SMTP_PORT
export REALSTACK_POSTFIX_CONFIG=$DIR/postfix/etc REALSTACK_MAILLOG=$DIR/postfix/maillog
export REALSTACK_MDA_USER=$MDA_USER REALSTACK_DOMAIN=$DOMAIN REALSTACK_SINK_DOMAIN=$SINK_DOMAIN
export REALSTACK_BOUNCES=$DIR/bounces REALSTACK_MDA_OUT=$DIR/mda-out REALSTACK_MDA_CTL=$DIR/mda-ctl
export REALSTACK_SPAMD_HOST=127.0.0.1 REALSTACK_SPAMD_PORT=$SPAMD_PORT REALSTACK_SPAMD_SOCKET=$DIR/spamd/spamd.sock
export REALSTACK_CLAMD_HOST=127.0.0.1 REALSTACK_CLAMD_PORT=$CLAMD_PORT REALSTACK_CLAMD_SOCKET=$DIR/clamd/clamd.sock
export REALSTACK_CLAMD_CONF=$DIR/clamd/clamd.conf REALSTACK_CLAMD_STREAM_MAX=$CLAMD_STREAM_MAX
EOF
# the same as JSON (values contain no quotes or backslashes)
sed -n 's/^export //p' "$DIR/env.sh" | grep -o '[A-Z_]*=\("[^"]*"\|[^ ]*\)' |
  awk '{ i = index($0, "="); k = substr($0, 1, i - 1); v = substr($0, i + 1); gsub(/"/, "", v)
         printf "%s\"%s\":\"%s\"", (n++ ? "," : "{"), k, v } END { print "}" }' > "$DIR/env.json"
say "up: $SERVICES after $(( $(now_ms) - T_START )) ms; endpoints in $DIR/env.sh and $DIR/env.json"
say "stop with: REALSTACK_DIR=$DIR $HERE/down.sh"
