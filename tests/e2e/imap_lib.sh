# A real IMAP server for the email source tests: Debian's Dovecot, started
# in a temporary folder on a free loopback port and stopped when the script
# ends (the EXIT trap). Source it after lib.sh and db_lib.sh:
#
#   . "$TESTS_DIR/e2e/db_lib.sh"
#   . "$TESTS_DIR/e2e/imap_lib.sh"
#   imap_start || skip_all "no Dovecot"   # sets IMAPPORT; user alice, password IMAP_PW
#   imap_deliver INBOX <message-file>      # stores a message (doveadm save)
#
# With IMAP_TLS=1 it also listens for TLS (imaps) on IMAPSPORT and offers
# STARTTLS on IMAPPORT, with a certificate for 127.0.0.1 made by openssl
# and signed by a test CA ($IMAPROOT/ca.pem).
#
# Dovecot refuses nothing as root, but a test should not run a server as
# root: as root the folder belongs to Debian's `dovecot` user and every
# Dovecot process (master, login, auth, imap) runs as that user.

IMAP_PW=wonderland
IMAP_DIRS=()

imap_start() {
    [ -x /usr/sbin/dovecot ] || { echo "no Dovecot (apt-get install dovecot-imapd)" >&2; return 1; }
    IMAP_USER=$(id -un)
    [ "$(id -u)" -eq 0 ] && IMAP_USER=dovecot
    local uid gid group
    uid=$(id -u "$IMAP_USER")
    gid=$(id -g "$IMAP_USER")
    group=$(id -gn "$IMAP_USER")
    IMAPROOT=$(mktemp -d "${TMPDIR:-/tmp}/dango-imap.XXXXXX")
    IMAP_DIRS+=("$IMAPROOT")
    chmod 755 "$IMAPROOT"
    mkdir -p "$IMAPROOT/run" "$IMAPROOT/state" "$IMAPROOT/home"
    printf 'alice:{PLAIN}%s\n' "$IMAP_PW" >"$IMAPROOT/passwd"
    local ssl="ssl = no" imaps_listener
    if [ -n "${IMAP_TLS:-}" ]; then
        imap_make_cert || return 1
        ssl="ssl = yes
ssl_cert = <$IMAPROOT/server.pem
ssl_key = <$IMAPROOT/server.key"
    fi
    for _ in 1 2 3 4 5; do
        IMAPPORT=$(db_free_port) || return 1
        imaps_listener="  inet_listener imaps {
    port = 0
  }"
        if [ -n "${IMAP_TLS:-}" ]; then
            IMAPSPORT=$(db_free_port) || return 1
            imaps_listener="  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPSPORT
    ssl = yes
  }"
        fi
        cat >"$IMAPROOT/dovecot.conf" <<CONF
base_dir = $IMAPROOT/run
state_dir = $IMAPROOT/state
log_path = $IMAPROOT/dovecot.log
protocols = imap
listen = 127.0.0.1
$ssl
imap_logout_format = in=%i out=%o fetched=%{fetch_body_count}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $IMAP_USER
default_internal_group = $group
default_login_user = $IMAP_USER
mail_location = maildir:~/Maildir
first_valid_uid = $uid
last_valid_uid = 0
first_valid_gid = $gid
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $IMAPROOT/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$IMAPROOT/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAPPORT
  }
$imaps_listener
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
        [ "$(id -u)" -eq 0 ] && chown -R "$IMAP_USER" "$IMAPROOT"
        if db_as "$IMAP_USER" /usr/sbin/dovecot -c "$IMAPROOT/dovecot.conf" 2>"$IMAPROOT/start.err"; then
            IMAP_STARTED=1
            imap_wait && return 0
            imap_stop
        fi
        grep -q "Address already in use" "$IMAPROOT/dovecot.log" "$IMAPROOT/start.err" 2>/dev/null || break
    done
    cat "$IMAPROOT/start.err" "$IMAPROOT/dovecot.log" >&2 2>/dev/null
    return 1
}

# A test CA and a server certificate for 127.0.0.1 signed by it.
imap_make_cert() {
    command -v openssl >/dev/null || { echo "openssl is needed for IMAP_TLS" >&2; return 1; }
    (cd "$IMAPROOT" &&
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Dango test CA" \
            -keyout ca.key -out ca.pem 2>/dev/null &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null &&
        printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile ext -out server.pem 2>/dev/null) || { echo "openssl could not make the certificates" >&2; return 1; }
}

# Until the server greets on its port.
imap_wait() {
    local i=0 line
    while [ $i -lt 100 ]; do
        if exec 3<>"/dev/tcp/127.0.0.1/$IMAPPORT" 2>/dev/null; then
            read -r -t 5 line <&3
            exec 3>&-
            case "$line" in "* OK"*) return 0 ;; esac
        fi
        i=$((i + 1))
        sleep 0.1
    done
    return 1
}

# doveadm against the test's server, as its user
imap_doveadm() {
    db_as "$IMAP_USER" /usr/bin/doveadm -c "$IMAPROOT/dovecot.conf" "$@"
}

# imap_deliver MAILBOX FILE: store the message FILE in MAILBOX of alice
imap_deliver() {
    imap_doveadm save -u alice -m "$1" <"$2"
}

imap_stop() {
    [ -n "${IMAP_STARTED:-}" ] || return 0
    db_as "$IMAP_USER" /usr/sbin/dovecot -c "$IMAPROOT/dovecot.conf" stop 2>/dev/null
    local i=0
    while [ -e "$IMAPROOT/run/master.pid" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    IMAP_STARTED=
}

imap_stop_all() {
    imap_stop
    local d
    for d in "${IMAP_DIRS[@]}"; do
        [ -n "${KEEP_TRASH:-}" ] || rm -rf "$d"
    done
}
trap 'imap_stop_all; db_stop_all; test_cleanup' EXIT
