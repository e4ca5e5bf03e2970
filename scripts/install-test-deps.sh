#!/bin/bash
# install-test-deps.sh - install the Debian packages mda's tests need.
#
# Non-interactive (DEBIAN_FRONTEND=noninteractive, Postfix's debconf question is
# preseeded to "No configuration": the tests run their own private instance
# from scripts/realstack/up.sh and never use /etc/postfix/main.cf). Does
# nothing, quickly, when every package is already installed.
#
#   TEST_DEPS_EXTRA="pkg ..."  add packages beyond the list below
# Needs root (or sudo) only when something must be installed.
set -euo pipefail

PACKAGES=(postfix swaks procmail maildrop man-db mandoc dovecot-core dovecot-lmtpd dovecot-sieve spamassassin spamd spamc clamav-daemon liblockfile-bin mutt)
# shellcheck disable=SC2206
EXTRA=(${TEST_DEPS_EXTRA:-})
ALL=("${PACKAGES[@]}" "${EXTRA[@]}")

say() { printf 'install-test-deps: %s\n' "$*"; }

missing=()
for p in "${ALL[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "all installed: ${ALL[*]}"
  exit 0
fi

SUDO=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { say "ERROR: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
say "installing: ${missing[*]}"
t0=$(date +%s)
# answer Postfix's questions before apt asks them
"${SUDO[@]}" debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string mx.example.test
EOF
# keep the packages' own services (system postfix, clamav-freshclam, ...) from
# being started by their install scripts: the tests start private instances.
# Only a policy-rc.d of our own is added and removed.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# added by mda scripts/install-test-deps.sh during apt-get install\nexit 101\n' |
    "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi
"${SUDO[@]}" apt-get update -q </dev/null
"${SUDO[@]}" apt-get install -y -q \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" </dev/null
say "installed in $(( $(date +%s) - t0 )) s: ${missing[*]}"
