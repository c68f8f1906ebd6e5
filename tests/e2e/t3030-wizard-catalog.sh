#!/usr/bin/env bash
# The source wizard on a terminal: spec 001's nine categories in its order,
# every type under its category, and one source added by its number from
# a category (an email inbox, tested against a real Dovecot on the spot).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"
. "$TESTS_DIR/e2e/imap_lib.sh"

imap_start || { echo "not ok - Dovecot could not start (apt-get install dovecot-imapd)"; exit 1; }
imap_deliver INBOX "$TESTS_DIR/fixtures/mail/01-plain.eml"

dango init p >/dev/null </dev/null
cd p
export IMAP_PASSWORD=$IMAP_PW

test_expect_success 'the wizard lists the nine categories of spec 001, in its order' '
    run_on_tty "" dango source add >raw 2>&1 || :
    tr -d "\r" <raw >list &&
    sed -n "s/^  \([A-Z][^(]*\)$/\1/p" list >categories &&
    cat >expect <<-\EOF &&
	Marketing & Analytics
	Business & CRM
	E-commerce & Payment
	Files & Storage
	Databases
	Streaming
	Development
	Communication
	Local & Custom
	EOF
    test_cmp expect categories
'

# The category a type is listed under: the last heading above its line.
category_of() {
    awk -v t="($1)" '/^  [A-Z]/ { cat = substr($0, 3) } index($0, t) && /^    [0-9]+[.]/ { print cat }' list
}

test_expect_success 'each type sits under its category, numbered in one sequence' '
    test "$(category_of google_sheets)" = "Marketing & Analytics" &&
    test "$(category_of salesforce)" = "Business & CRM" &&
    test "$(category_of shopify)" = "E-commerce & Payment" &&
    test "$(category_of imap)" = "Files & Storage" &&
    test "$(category_of notion)" = "Files & Storage" &&
    test "$(category_of postgres)" = "Databases" &&
    test "$(category_of github)" = "Development" &&
    test "$(category_of slack)" = "Communication" &&
    test "$(category_of command)" = "Local & Custom" &&
    grep -E "^    [0-9]+\. " list | sed "s/^ *\([0-9]*\)\..*/\1/" >numbers &&
    seq 1 "$(wc -l <numbers)" >expect &&
    test_cmp expect numbers &&
    test "$(wc -l <numbers)" -ge 27
'

test_expect_success 'Streaming says why it is empty' '
    awk "/^  Streaming/ { getline; print }" list >streaming &&
    test_grep "(none yet: see docs/sources.md)" streaming
'

test_expect_success 'an email inbox added by its number from Files & Storage, its login tested' '
    n=$(grep -E "^    [0-9]+\. Email inbox \(IMAP\) \(imap\)" list | sed "s/^ *\([0-9]*\)\..*/\1/") &&
    test -n "$n" &&
    run_on_tty "$n\ninbox\n127.0.0.1\nnone\n$IMAPPORT\nalice\nIMAP_PASSWORD\nINBOX, Sent Items\n" \
        dango source add >raw 2>&1 &&
    tr -d "\r" <raw >out &&
    test_grep "IMAP server" out &&
    test_grep "✓ logged in to imap://127.0.0.1:$IMAPPORT as alice" out &&
    test_grep "✓ mailbox INBOX: 1 message" out &&
    test_grep "✗ mailbox .Sent Items.: the IMAP server answered: NO" out &&
    sed -n "/name: inbox/,\$p" .dango/sources.yml >block &&
    cat >expect <<-EOF &&
	  - name: inbox
	    type: imap
	    enabled: true
	    imap:
	      host: 127.0.0.1
	      security: none
	      port: $IMAPPORT
	      username: alice
	      password_env: IMAP_PASSWORD
	      mailboxes: [INBOX, Sent Items]
	EOF
    test_cmp expect block
'

test_expect_success 'the source the wizard wrote syncs once its mailbox exists' '
    imap_doveadm mailbox create -u alice "Sent Items" &&
    dango sync inbox >out 2>&1 &&
    test "$(q "SELECT count(*), min(subject) FROM raw_inbox.messages")" = "1,Weekly numbers"
'

test_expect_success 'an OAuth preset: the wizard asks for a stored credential instead of a token variable' '
    run_on_tty "google_sheets\ngs\ngsheets\nsheet123\n[Orders]\n\n2024-01-01\n" dango source add >raw 2>&1 &&
    tr -d "\r" <raw >out &&
    test_grep "OAuth credential from .dango oauth setup." out &&
    ! grep -q "stored in environment variable" out &&
    sed -n "/name: gs/,\$p" .dango/sources.yml >block &&
    test_grep "oauth_credential: gsheets" block &&
    test_grep "spreadsheet_id: sheet123" block &&
    ! grep -q "access_token_env" block &&
    test_grep "dango oauth setup" out
'

test_done
