#!/usr/bin/env bash
# The email source (type: imap, a real Dovecot) synced into a postgres
# warehouse (#19): messages with their headers, UTC dates and MIME bodies,
# the attachments' child table linked to its messages, an incremental sync
# that fetches only the new message, a changed UIDVALIDITY that reads the
# mailbox again and drops the old rows, and the last UID in dango state;
# rows read back with psql.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"
. "$TESTS_DIR/e2e/imap_lib.sh"
MAIL=$TESTS_DIR/fixtures/mail

imap_start || { echo "not ok - Dovecot could not start (apt-get install dovecot-imapd)"; exit 1; }
for m in 01-plain 02-latin1-qp 03-multipart; do
    imap_deliver INBOX "$MAIL/$m.eml" || { echo "not ok - doveadm save failed"; exit 1; }
done
pg_warehouse_start

dango init p >/dev/null </dev/null
cd p
pg_warehouse_use
rm -f data/warehouse.duckdb
export IMAP_PASSWORD=$IMAP_PW
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
EOF

test_expect_success 'first sync: one row a message in PostgreSQL, headers decoded, dates in UTC' '
    dango sync mail >out 2>&1 &&
    test_grep "Mailbox INBOX: 3 new messages" out &&
    whq "SELECT mailbox, uid, message_id, subject, sender, recipients, cc, in_reply_to, date, size > 0 AS sized,
                flags, received_at IS NOT NULL AS received, uidvalidity > 0 AS uv
         FROM raw_mail.messages ORDER BY uid" >rows &&
    cat >expect <<-\EOF &&
	mailbox|uid|message_id|subject|sender|recipients|cc|in_reply_to|date|sized|flags|received|uv
	INBOX|1|<weekly-1@example.com>|Weekly numbers|Bob Builder <bob@example.com>|Alice <alice@example.com>|||2026-12-01 09:00:00+00|t||t|t
	INBOX|2|<cafe-2@example.de>|Café crème and éclairs|Jürgen Müller <juergen@example.de>|alice@example.com, Carol <carol@example.com>|team@example.com|<weekly-1@example.com>|2026-12-02 13:30:15+00|t||t|t
	INBOX|3|<resume-3@example.com>|Résumé attached|bob@example.com|alice@example.com|||2026-12-03 12:00:00+00|t||t|t
	(3 rows)
	EOF
    test_cmp expect rows &&
    ! test -e data/warehouse.duckdb
'

test_expect_success 'bodies: plain text, quoted-printable latin-1, base64 utf-8, html' '
    whq "SELECT uid, body_text, body_html FROM raw_mail.messages ORDER BY uid" >bodies &&
    cat >expect <<-\EOF &&
	uid|body_text|body_html
	1|Revenue is up 4% this week.
	|
	2|Grüße aus München, this line is long enough to be broken by a soft line break.
	|
	3|Bonjour Alice,
	le résumé est joint. — B
	|<p>Bonjour Alice,<br>le résumé est joint.</p>
	
	(3 rows)
	EOF
    test_cmp expect bodies
'

test_expect_success 'attachments: a child table linked to its message' '
    whq "SELECT m.uid, a._dlt_list_idx, a.filename, a.content_type, a.size
         FROM raw_mail.messages__attachments a JOIN raw_mail.messages m ON a._dlt_parent_id = m._dlt_id
         ORDER BY 1, 2" >att &&
    cat >expect <<-\EOF &&
	uid|_dlt_list_idx|filename|content_type|size
	3|0|résumé.pdf|application/pdf|1033
	3|1|data.csv|text/csv|20
	(2 rows)
	EOF
    test_cmp expect att
'

test_expect_success 'incremental: only the new message is added; dango state shows the last UID' '
    imap_deliver INBOX "$MAIL/04-later.eml" &&
    dango sync mail >out 2>&1 &&
    test_grep "Mailbox INBOX: 1 new message (above the last UID loaded)" out &&
    whq "SELECT uid, subject, _dlt_load_id = (SELECT max(_dlt_load_id) FROM raw_mail.messages) AS newest
         FROM raw_mail.messages ORDER BY uid" >rows &&
    cat >expect <<-\EOF &&
	uid|subject|newest
	1|Weekly numbers|f
	2|Café crème and éclairs|f
	3|Résumé attached|f
	4|Late news|t
	(4 rows)
	EOF
    test_cmp expect rows &&
    dango sync mail >out 2>&1 && test_grep "Mailbox INBOX: 0 new messages" out &&
    whq "SELECT count(*) FROM raw_mail.messages" >n && printf "count\n4\n(1 row)\n" >expect && test_cmp expect n &&
    dango state show mail >out 2>&1 && test_grep "INBOX: UID 4" out
'

test_expect_success 'a changed UIDVALIDITY reads the mailbox again and drops the rows of the old one' '
    imap_doveadm mailbox update -u alice --uid-validity 777 INBOX &&
    dango sync mail >out 2>&1 &&
    test_grep "mailbox .INBOX.: its UIDVALIDITY changed" out &&
    whq "SELECT uidvalidity, count(*) FROM raw_mail.messages GROUP BY 1" >rows &&
    printf "uidvalidity|count\n777|4\n(1 row)\n" >expect && test_cmp expect rows &&
    whq "SELECT count(*) FROM raw_mail.messages__attachments" >n &&
    printf "count\n2\n(1 row)\n" >expect && test_cmp expect n
'

test_done
