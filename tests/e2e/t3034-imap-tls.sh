#!/usr/bin/env bash
# The email source over TLS against a real Dovecot with a certificate of a
# test CA: imaps (security: tls) and STARTTLS, a server whose certificate
# is not trusted refused with libcurl's words, and a large message (a 1 MB
# attachment, a long body) read whole through many TLS records.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"
. "$TESTS_DIR/e2e/imap_lib.sh"
MAIL=$TESTS_DIR/fixtures/mail

IMAP_TLS=1 imap_start || { echo "not ok - Dovecot could not start with TLS"; exit 1; }
imap_deliver INBOX "$MAIL/03-multipart.eml"
python3 - "$TRASH/big.eml" <<'PY'
import base64, sys
blob = bytes((i * 7 + 3) % 256 for i in range(1 << 20))
b64 = base64.b64encode(blob).decode()
lines = "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
body = "".join("line %05d of a long body\n" % i for i in range(20000))
open(sys.argv[1], "w").write(
    "From: big@example.com\nTo: alice@example.com\nSubject: Big one\n"
    "Date: Fri, 04 Dec 2026 10:00:00 +0000\nMessage-ID: <big@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=BIG\n\n--BIG\nContent-Type: text/plain\n\n" + body +
    "--BIG\nContent-Type: application/octet-stream; name=blob.bin\nContent-Transfer-Encoding: base64\n\n" +
    lines + "\n--BIG--\n")
PY
imap_deliver INBOX "$TRASH/big.eml"
cp "$IMAPROOT/ca.pem" "$TRASH/ca.pem"

dango init p >/dev/null </dev/null
cd p
export IMAP_PASSWORD=$IMAP_PW
write_sources() {
    cat >.dango/sources.yml <<EOF
version: "1.0"
sources:
  - name: mail
    type: imap
    imap:
      host: 127.0.0.1
      username: alice
      password_env: IMAP_PASSWORD
$1
EOF
}

test_expect_success 'imaps: the certificate checked against ca_file, every message read' '
    write_sources "      port: $IMAPSPORT
      ca_file: $TRASH/ca.pem" &&
    dango sync mail >out 2>&1 &&
    test_grep "Logging in to imaps://127.0.0.1:$IMAPSPORT as alice" out &&
    q "SELECT uid, subject, length(body_text), right(body_text, 25) FROM raw_mail.messages ORDER BY uid" >rows &&
    printf "1,Résumé attached,40,\"le résumé est joint. — B\n\"\n2,Big one,519999,line 19999 of a long body\n" >expect &&
    test_cmp expect rows &&
    q "SELECT filename, size FROM raw_mail.messages__attachments WHERE filename = '"'blob.bin'"'" >att &&
    echo "blob.bin,1048576" >expect &&
    test_cmp expect att
'

test_expect_success 'STARTTLS on the plain port' '
    write_sources "      port: $IMAPPORT
      security: starttls
      ca_file: $TRASH/ca.pem" &&
    dango sync mail --full-refresh --yes >out 2>&1 &&
    test_grep "Logging in to imap://127.0.0.1:$IMAPPORT as alice" out &&
    test "$(q "SELECT count(*) FROM raw_mail.messages")" = 2
'

test_expect_success 'a certificate no CA vouches for is refused; nothing changes' '
    write_sources "      port: $IMAPSPORT" &&
    test_must_fail dango sync mail >out 2>&1 &&
    test_grep "source .mail.: cannot reach the IMAP server imaps://127.0.0.1:$IMAPSPORT: SSL certificate problem" out &&
    test "$(q "SELECT count(*) FROM raw_mail.messages")" = 2
'

test_done
