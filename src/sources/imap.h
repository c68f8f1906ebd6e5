/* Email inbox sources (`type: imap`): the messages of IMAP mailboxes,
 * through libcurl (docs/sources.md, "Email inbox").
 *
 * libcurl makes the connection (TLS, STARTTLS) and logs in (LOGIN or
 * SASL, whatever the server offers), then hands the connection over
 * (CURLOPT_CONNECT_ONLY); the connector speaks the few read-only commands
 * it needs itself: EXAMINE (the mailbox read-only, its UIDVALIDITY), UID
 * SEARCH, and UID FETCH of BODY.PEEK[] (which, unlike BODY[], leaves the
 * \Seen flag alone), parsing literals exactly. Each message goes through
 * sources/mime.c into one row of `messages` (headers, date, body text and
 * html) with its attachments in `messages__attachments`.
 *
 * Incremental by UID: the state keeps, per mailbox, its UIDVALIDITY and
 * the highest UID loaded; the next sync asks only for UIDs above it. When
 * the server's UIDVALIDITY changed, the old UIDs mean nothing: the mailbox
 * is read again from the start and its rows of the old UIDVALIDITY are
 * deleted in the same transaction. */
#ifndef DANGO_SOURCES_IMAP_H
#define DANGO_SOURCES_IMAP_H
struct connector_ops;
struct source;
struct project;
struct strbuf;

extern const struct connector_ops imap_connector;

/* dango source test: log in and examine each mailbox; "✓/✗" lines into
 * report; 0 or -1. */
int imap_check(const struct source *s, const struct project *p, struct strbuf *report);

#endif
