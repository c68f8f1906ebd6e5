/* The email source's MIME reader: encoded words, transfer encodings,
 * charsets, dates, parameters, and messages that break the rules (no
 * headers, no closing boundary, invalid UTF-8, truncated escapes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sources/mime.h"

static void words(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	mime_decode_words(&sb, in, strlen(in));
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_encoded_words(void **state)
{
	(void)state;
	words("plain subject", "plain subject");
	words("=?ISO-8859-1?Q?Caf=E9?=", "Caf\xc3\xa9");
	words("=?utf-8?b?UsOpc3Vtw6k=?= attached", "R\xc3\xa9sum\xc3\xa9 attached");
	/* blanks between two encoded words vanish, others stay */
	words("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab");
	words("x =?UTF-8?Q?a_b?= y", "x a b y");
	/* not encoded words: kept as written */
	words("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
	words("=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated");
	/* an unknown charset keeps the bytes; raw latin-1 becomes UTF-8 */
	words("=?x-unknown?Q?ok?=", "ok");
	words("M\xfcller", "M\xc3\xbcller");
}

static void test_transfer_encodings(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	const char *qp = "Gr=FC=DFe, a so=\r\nft break, =3D, =\nand a bad =ZZ and =";
	mime_decode_qp(&sb, qp, strlen(qp));
	assert_string_equal(sb.buf, "Gr\xfc\xdf" "e, a soft break, =, and a bad =ZZ and ");
	strbuf_reset(&sb);
	const char *b64 = "aGVs\r\nbG8g\n d29y bGQ=";
	mime_decode_base64(&sb, b64, strlen(b64));
	assert_string_equal(sb.buf, "hello world");
	strbuf_reset(&sb);
	mime_to_utf8(&sb, "utf-8", "ok \xff bad", 8);
	assert_string_equal(sb.buf, "ok \xef\xbf\xbd bad");
	strbuf_release(&sb);
}

static void test_dates(void **state)
{
	(void)state;
	long long t;
	assert_int_equal(mime_parse_date("Tue, 01 Dec 2026 10:00:00 +0100", &t), 0);
	assert_int_equal(t, 1796115600);   /* 2026-12-01T09:00:00Z */
	assert_int_equal(mime_parse_date("1 Dec 2026 09:00 GMT", &t), 0);
	assert_int_equal(t, 1796115600);
	assert_int_equal(mime_parse_date("01-Dec-2026 04:00:00 -0500", &t), 0);
	assert_int_equal(t, 1796115600);
	assert_int_equal(mime_parse_date("1 Dec 26 01:00:00 PST", &t), 0);
	assert_int_equal(t, 1796115600);
	assert_int_equal(mime_parse_date("yesterday", &t), -1);
	assert_int_equal(mime_parse_date("32 Dec 2026 10:00:00 +0000", &t), -1);
	assert_int_equal(mime_parse_date("1 Foo 2026 10:00:00", &t), -1);
}

static void test_multipart(void **state)
{
	(void)state;
	const char *msg =
		"Subject: =?utf-8?q?caf=C3=A9?=\r\n"
		"From: a@example.com\r\n"
		"Date: Thu, 03 Dec 2026 12:00:00 GMT\r\n"
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
		"\r\n"
		"preamble\r\n"
		"--b1\r\n"
		"Content-Type: text/plain; charset=iso-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n"
		"\r\n"
		"caf=E9\r\n"
		"--b1\r\n"
		"Content-Type: application/octet-stream; name*0=\"long\"; name*1=\"name.bin\"\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"\r\n"
		"AAECAw==\r\n"
		"--b1\r\n"
		"Content-Type: image/png\r\n"
		"\r\n"
		"PNG\r\n"
		"--b1--\r\n"
		"epilogue\r\n";
	struct mime_message m;
	mime_parse(&m, msg, strlen(msg));
	assert_string_equal(m.subject, "caf\xc3\xa9");
	assert_string_equal(m.date, "2026-12-03T12:00:00Z");
	assert_string_equal(m.text.buf, "caf\xc3\xa9");
	assert_int_equal(m.html.len, 0);
	assert_int_equal(m.nr_att, 2);
	assert_string_equal(m.att[0].filename, "longname.bin");
	assert_string_equal(m.att[0].content_type, "application/octet-stream");
	assert_int_equal(m.att[0].size, 4);
	assert_null(m.att[1].filename);
	assert_string_equal(m.att[1].content_type, "image/png");
	assert_int_equal(m.att[1].size, 3);
	assert_null(m.cc);
	mime_message_release(&m);
}

static void test_broken_messages(void **state)
{
	(void)state;
	struct mime_message m;
	/* no headers at all */
	mime_parse(&m, "\r\njust a body\r\n", 15);
	assert_null(m.subject);
	assert_string_equal(m.text.buf, "just a body\n");
	mime_message_release(&m);
	/* a multipart without its closing line, and a boundary that never comes */
	const char *open = "Content-Type: multipart/alternative; boundary=zz\n\n--zz\nContent-Type: text/html\n\n<p>hi</p>\n";
	mime_parse(&m, open, strlen(open));
	assert_string_equal(m.html.buf, "<p>hi</p>\n");
	mime_message_release(&m);
	const char *none = "Content-Type: multipart/mixed; boundary=nope\n\nno parts here\n";
	mime_parse(&m, none, strlen(none));
	assert_int_equal(m.text.len, 0);
	assert_int_equal(m.nr_att, 0);
	mime_message_release(&m);
	/* headers only, folded, one without a colon; an empty message */
	const char *hdr = "Subject: one\n two\nnonsense line\nTo: x@y";
	mime_parse(&m, hdr, strlen(hdr));
	assert_string_equal(m.subject, "one two");
	assert_string_equal(m.to, "x@y");
	mime_message_release(&m);
	mime_parse(&m, "", 0);
	assert_null(m.subject);
	mime_message_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_words),     cmocka_unit_test(test_transfer_encodings),
		cmocka_unit_test(test_dates),             cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_broken_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
