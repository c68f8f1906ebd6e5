/* An Internet message (RFC 5322 headers, MIME bodies) read into what the
 * email source keeps of it: the common headers decoded to UTF-8 (RFC 2047
 * encoded words), the date in UTC, the text of its text/plain and
 * text/html parts (quoted-printable and base64 undone, charsets converted
 * with iconv), and the name, type and decoded size of each attachment.
 *
 * Parsing never fails: whatever the message holds, the strings it yields
 * are valid UTF-8 (bytes that are not become U+FFFD), a header it cannot
 * read is left out, and a part it cannot decode keeps its raw bytes.
 * Ownership: every string of a mime_message is its own, freed by
 * mime_message_release(). */
#ifndef DANGO_SOURCES_MIME_H
#define DANGO_SOURCES_MIME_H
#include <stddef.h>
#include "core/strbuf.h"

struct mime_attachment {
	char *filename;       /* may be NULL (a part without a name) */
	char *content_type;   /* "application/pdf" */
	size_t size;          /* bytes once decoded */
};

struct mime_message {
	char *subject, *from, *to, *cc, *reply_to;
	char *message_id, *in_reply_to;
	char *date;           /* "2026-12-01T09:00:00Z", or NULL when absent or unreadable */
	struct strbuf text;   /* the text/plain parts, in order */
	struct strbuf html;   /* the text/html parts */
	struct mime_attachment *att;
	size_t nr_att, alloc_att;
};

void mime_parse(struct mime_message *m, const char *raw, size_t len);
void mime_message_release(struct mime_message *m);

/* Decoders, for the IMAP source and the unit tests. Each appends to out. */
void mime_decode_words(struct strbuf *out, const char *s, size_t n);  /* RFC 2047, to UTF-8 */
void mime_decode_qp(struct strbuf *out, const char *s, size_t n);
void mime_decode_base64(struct strbuf *out, const char *s, size_t n);
/* Text in charset into UTF-8 (unknown charsets: the bytes, made valid). */
void mime_to_utf8(struct strbuf *out, const char *charset, const char *s, size_t n);
/* An RFC 5322 date ("Tue, 1 Dec 2026 10:00:00 +0100") or an IMAP
 * INTERNALDATE ("01-Dec-2026 10:00:00 +0100") as seconds since the epoch;
 * 0, or -1 when it is not one. */
int mime_parse_date(const char *s, long long *out);

#endif
