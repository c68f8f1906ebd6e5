#!/usr/bin/env bash
# Email inbox (type: imap) against a real Dovecot server started for the
# test: a first sync (headers, dates in UTC, MIME bodies, attachments),
# the messages left unread, an incremental sync that fetches only the new
# message, a changed UIDVALIDITY, a refused login and a mailbox that does
# not exist (nothing changed, the server's own words), the password kept
# out of everything.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"
. "$TESTS_DIR/e2e/imap_lib.sh"
MAIL=$TESTS_DIR/fixtures/mail

imap_start || { echo "not ok - Dovecot could not start (apt-get install dovecot-imapd)"; exit 1; }
for m in 01-plain 02-latin1-qp 03-multipart; do
    imap_deliver INBOX "$MAIL/$m.eml" || { echo "not ok - doveadm save failed"; exit 1; }
done

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
      port: $IMAPPORT
      security: none
      username: alice
      password_env: IMAP_PASSWORD
$1
EOF
}
write_sources ""

# What the server says it sent: bodies fetched per session (imap_logout_format).
fetched_bodies() {
    sleep 0.2
    grep "imap(alice).*Logged out" "$IMAPROOT/dovecot.log" | tail -1 | sed 's/.*fetched=//'
}

test_expect_success 'source test logs in and examines INBOX' '
    dango source test mail >out 2>&1 &&
    test_grep "✓ logged in to imap://127.0.0.1:$IMAPPORT as alice" out &&
    test_grep "✓ mailbox INBOX: 3 messages (UIDVALIDITY [0-9]*)" out
'

test_expect_success 'first sync: one row a message, headers decoded, dates in UTC' '
    dango sync mail >out 2>&1 &&
    test_grep "Mailbox INBOX: 3 new messages" out &&
    test "$(fetched_bodies)" = 3 &&
    q "SELECT mailbox, uid, message_id, subject, sender, recipients, cc, in_reply_to,
              strftime(date AT TIME ZONE '"'UTC'"', '"'%Y-%m-%d %H:%M:%S'"'), size > 0, flags,
              received_at IS NOT NULL, uidvalidity > 0
       FROM raw_mail.messages ORDER BY uid" >rows &&
    cat >expect <<-\EOF &&
	INBOX,1,<weekly-1@example.com>,Weekly numbers,Bob Builder <bob@example.com>,Alice <alice@example.com>,,,2026-12-01 09:00:00,true,,true,true
	INBOX,2,<cafe-2@example.de>,Café crème and éclairs,Jürgen Müller <juergen@example.de>,"alice@example.com, Carol <carol@example.com>",team@example.com,<weekly-1@example.com>,2026-12-02 13:30:15,true,,true,true
	INBOX,3,<resume-3@example.com>,Résumé attached,bob@example.com,alice@example.com,,,2026-12-03 12:00:00,true,,true,true
	EOF
    test_cmp expect rows
'

test_expect_success 'bodies: plain text, quoted-printable latin-1, base64 utf-8, html' '
    q "SELECT uid, body_text, body_html FROM raw_mail.messages ORDER BY uid" >bodies &&
    cat >expect <<-\EOF &&
	1,"Revenue is up 4% this week.
	",
	2,"Grüße aus München, this line is long enough to be broken by a soft line break.
	",
	3,"Bonjour Alice,
	le résumé est joint. — B
	","<p>Bonjour Alice,<br>le résumé est joint.</p>
	"
	EOF
    test_cmp expect bodies
'

test_expect_success 'attachments: names (RFC 2231 too), types and decoded sizes, linked to their message' '
    q "SELECT m.uid, a._dlt_list_idx, a.filename, a.content_type, a.size
       FROM raw_mail.messages__attachments a JOIN raw_mail.messages m ON a._dlt_parent_id = m._dlt_id
       ORDER BY 1, 2" >att &&
    cat >expect <<-\EOF &&
	3,0,résumé.pdf,application/pdf,1033
	3,1,data.csv,text/csv,20
	EOF
    test_cmp expect att
'

test_expect_success 'the messages stay unread (BODY.PEEK, EXAMINE)' '
    imap_doveadm fetch -u alice "uid flags" mailbox INBOX >flags &&
    ! grep -q "Seen" flags &&
    test "$(grep -c "^uid:" flags)" = 3
'

test_expect_success 'incremental: a new message is the only one fetched' '
    q "SELECT max(_dlt_load_id) FROM raw_mail.messages" >first_load &&
    imap_deliver INBOX "$MAIL/04-later.eml" &&
    dango sync mail >out 2>&1 &&
    test_grep "Mailbox INBOX: 1 new message (above the last UID loaded)" out &&
    test "$(fetched_bodies)" = 1 &&
    q "SELECT uid, subject, _dlt_load_id = (SELECT max(_dlt_load_id) FROM raw_mail.messages)
       FROM raw_mail.messages ORDER BY uid" >rows &&
    cat >expect <<-\EOF &&
	1,Weekly numbers,false
	2,Café crème and éclairs,false
	3,Résumé attached,false
	4,Late news,true
	EOF
    test_cmp expect rows &&
    dango sync mail >out 2>&1 &&
    test_grep "Mailbox INBOX: 0 new messages" out &&
    test "$(fetched_bodies)" = 0 &&
    test "$(q "SELECT count(*) FROM raw_mail.messages")" = 4
'

test_expect_success 'dango state show and --dry-run tell the last UID' '
    dango sync mail --dry-run >out 2>&1 &&
    test_grep "mailbox INBOX: messages above UID 4" out &&
    dango state show mail >out 2>&1 &&
    test_grep "INBOX: UID 4" out
'

test_expect_success 'a changed UIDVALIDITY reads the mailbox again and drops the rows of the old one' '
    imap_doveadm mailbox update -u alice --uid-validity 777 INBOX &&
    dango sync mail >out 2>&1 &&
    test_grep "mailbox .INBOX.: its UIDVALIDITY changed" out &&
    test "$(fetched_bodies)" = 4 &&
    q "SELECT uidvalidity, count(*) FROM raw_mail.messages GROUP BY 1" >rows &&
    echo "777,4" >expect &&
    test_cmp expect rows &&
    test "$(q "SELECT count(*) FROM raw_mail.messages__attachments")" = 2
'

test_expect_success 'a refused login fails with the server words and changes nothing' '
    q "SELECT count(*), max(_dlt_load_id) FROM raw_mail.messages" >before &&
    IMAP_PASSWORD=wrong test_must_fail dango sync mail >out 2>&1 &&
    test_grep "source .mail.: the IMAP server imap://127.0.0.1:$IMAPPORT refused the login of .alice.: NO \[AUTHENTICATIONFAILED\] Authentication failed." out &&
    test_grep "Nothing was changed for mail" out &&
    q "SELECT count(*), max(_dlt_load_id) FROM raw_mail.messages" >after &&
    test_cmp before after &&
    IMAP_PASSWORD=wrong test_must_fail dango source test mail >out 2>&1 &&
    test_grep "✗ .*refused the login" out
'

test_expect_success 'a mailbox that does not exist is named, with the ones there' '
    write_sources "      mailboxes: [INBOX, Archive]" &&
    test_must_fail dango sync mail >out 2>&1 &&
    test_grep "source .mail.: mailbox .Archive.: the IMAP server answered: NO .*Mailbox doesn.t exist: Archive.* (the mailboxes there: INBOX)" out &&
    test_grep "Nothing was changed for mail" out &&
    test "$(q "SELECT count(*) FROM raw_mail.messages")" = 4
'

test_expect_success 'a second mailbox, non-ASCII name, and start_date on its first sync' '
    imap_doveadm mailbox create -u alice "Reçus" &&
    imap_deliver "Reçus" "$MAIL/01-plain.eml" &&
    imap_deliver "Reçus" "$MAIL/04-later.eml" &&
    write_sources "      mailboxes: [INBOX, Reçus]
      start_date: \"2026-12-03\"" &&
    dango sync mail >out 2>&1 &&
    test_grep "Mailbox INBOX: 0 new messages" out &&
    test_grep "Mailbox Reçus: 1 new message" out &&
    q "SELECT mailbox, uid, subject FROM raw_mail.messages WHERE mailbox <> '"'INBOX'"'" >rows &&
    echo "Reçus,2,Late news" >expect &&
    test_cmp expect rows
'

test_expect_success 'the password is in no output, log or state' '
    dango sync mail >out 2>&1 &&
    ! grep -rq "$IMAP_PW" out .dango &&
    dango query --csv "SELECT * FROM raw_mail._dango_state" >state &&
    test_grep "INBOX" state &&
    ! grep -q "$IMAP_PW" state
'

test_expect_success 'username_env stays out of the output; --limit loads a sample, the next sync reads everything' '
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: mail2
	    type: imap
	    imap:
	      host: 127.0.0.1
	      port: $IMAPPORT
	      security: none
	      username_env: IMAP_USER_NAME
	      password_env: IMAP_PASSWORD
	EOF
    IMAP_USER_NAME=alice dango sync mail2 --limit 2 >out 2>&1 &&
    test_grep "Logging in to imap://127.0.0.1:$IMAPPORT as the account in IMAP_USER_NAME" out &&
    ! grep -q alice out &&
    test "$(q "SELECT count(*), max(uid) FROM raw_mail2.messages")" = "2,2" &&
    IMAP_USER_NAME=alice dango sync mail2 >out 2>&1 &&
    test_grep "Mailbox INBOX: 4 new messages" out &&
    test "$(q "SELECT count(*), max(uid) FROM raw_mail2.messages")" = "4,4" &&
    IMAP_USER_NAME=alice IMAP_PASSWORD=wrong test_must_fail dango sync mail2 >out 2>&1 &&
    test_grep "refused the login of .the account in IMAP_USER_NAME." out &&
    ! grep -q alice out
'

test_expect_success 'config errors name the key' '
    cat >.dango/sources.yml <<-EOF &&
	version: "1.0"
	sources:
	  - name: mail
	    type: imap
	    imap:
	      host: 127.0.0.1
	      password_env: IMAP_PASSWORD
	EOF
    test_must_fail dango validate >out 2>&1 &&
    test_grep "sources.yml:6:7: source .mail. needs .username. (or .username_env.)" out
'

test_done
