/* The jv parser (src/sources/normalize.c) pinned: a corpus of valid and
 * invalid documents, each with the tree or the exact error it gives.
 * Written against the byte-at-a-time parser before it was made faster, so
 * that the fast one accepts, rejects and reports exactly the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "sources/normalize.h"

/* A tree as text: n:<raw> for integers, f:<raw> for other numbers,
 * s"<raw>" for strings (se"<raw>"=<hex of the decoded bytes> with escapes),
 * keys k"<raw>" or ke"<raw>"=<hex>. Containers also check their raw span. */
static void dump(struct strbuf *out, const struct jv *v);

static void hex_of(struct strbuf *out, const char *s, size_t n, int esc)
{
	struct strbuf t = STRBUF_INIT;
	if (!esc)
		return;
	jv_unescape(&t, s, n);
	strbuf_addch(out, '=');
	for (size_t i = 0; i < t.len; i++)
		strbuf_addf(out, "%02x", (unsigned char)t.buf[i]);
	strbuf_release(&t);
}

static void dump_kids(struct strbuf *out, const struct jv *v, char open, char close)
{
	assert_int_equal(v->s[0], open);
	assert_int_equal(v->s[v->len - 1], close);
	if (!v->n)
		assert_null(v->kids);
	strbuf_addch(out, open);
	for (size_t i = 0; i < v->n; i++) {
		const struct jv *k = &v->kids[i];
		if (i)
			strbuf_addch(out, ',');
		if (open == '{') {
			strbuf_addf(out, "k%s\"%.*s\"", k->kesc ? "e" : "", (int)k->klen, k->key);
			hex_of(out, k->key, k->klen, k->kesc);
			strbuf_addch(out, ':');
		} else {
			assert_null(k->key);
			assert_int_equal(k->klen, 0);
			assert_int_equal(k->kesc, 0);
		}
		dump(out, k);
	}
	strbuf_addch(out, close);
}

static void dump(struct strbuf *out, const struct jv *v)
{
	switch (v->type) {
	case JV_NULL:
	case JV_TRUE:
	case JV_FALSE:
		strbuf_addstr(out, v->type == JV_NULL ? "null" : v->type == JV_TRUE ? "true" : "false");
		assert_int_equal(v->len, v->type == JV_FALSE ? 5 : 4);
		assert_memory_equal(v->s, v->type == JV_NULL ? "null" : v->type == JV_TRUE ? "true" : "false", v->len);
		break;
	case JV_NUM:
		strbuf_addf(out, "%s:%.*s", v->is_int ? "n" : "f", (int)v->len, v->s);
		break;
	case JV_STR:
		strbuf_addf(out, "s%s\"%.*s\"", v->esc ? "e" : "", (int)v->len, v->s);
		hex_of(out, v->s, v->len, v->esc);
		assert_int_equal(v->s[-1], '"');
		assert_int_equal(v->s[v->len], '"');
		break;
	case JV_ARR:
		dump_kids(out, v, '[', ']');
		break;
	case JV_OBJ:
		dump_kids(out, v, '{', '}');
		break;
	default:
		fail_msg("bad type %d", v->type);
	}
}

struct doc_case {
	const char *text;
	size_t len;       /* 0: strlen(text) */
	const char *want; /* the dump, or the whole error */
};

#define OK(t, w) { t, sizeof(t) - 1, w }
#define BAD(t, at, what) { t, sizeof(t) - 1, "invalid JSON at byte " #at ": " what }

static const struct doc_case cases[] = {
	/* scalars and containers */
	OK("{}", "{}"),
	OK("[]", "[]"),
	OK(" { } ", "{}"),
	OK("[ ]", "[]"),
	OK("null", "null"),
	OK("true", "true"),
	OK("false", "false"),
	OK(" \t\r\n[ 1 , 2 ] \n", "[n:1,n:2]"),
	OK("{\"a\" : 1 , \"b\" : [ true , false , null ] }", "{k\"a\":n:1,k\"b\":[true,false,null]}"),
	OK("[[],{},[[]],{\"\":{}}]", "[[],{},[[]],{k\"\":{}}]"),
	OK("{\"a\":1,\"a\":2}", "{k\"a\":n:1,k\"a\":n:2}"),
	/* numbers as written: leading zeros pass, the text is kept */
	OK("0", "n:0"),
	OK("-0", "n:-0"),
	OK("0123", "n:0123"),
	OK("-007.50", "f:-007.50"),
	OK("1.5e+10", "f:1.5e+10"),
	OK("1E5", "f:1E5"),
	OK("-1.0e-3", "f:-1.0e-3"),
	OK("1e99999", "f:1e99999"),
	OK("123456789012345678901234567890123456789012345678901234567890",
	   "n:123456789012345678901234567890123456789012345678901234567890"),
	OK("[1,-2,3.25,4e1]", "[n:1,n:-2,f:3.25,f:4e1]"),
	OK("{\"n\":12345678901234567890123}", "{k\"n\":n:12345678901234567890123}"),
	/* strings: escapes kept raw, decoded on demand */
	OK("\"\"", "s\"\""),
	OK("\"plain text\"", "s\"plain text\""),
	OK("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "se\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"=6122625c632f64080c0a0d09"),
	OK("\"\\u00e9\\u20AC\\u0041\"", "se\"\\u00e9\\u20AC\\u0041\"=c3a9e282ac41"),
	OK("\"\\ud83d\\ude00\"", "se\"\\ud83d\\ude00\"=f09f9880"),
	OK("\"\\uD83D\\uDE00!\"", "se\"\\uD83D\\uDE00!\"=f09f988021"),
	/* lone surrogates pass the parser (and decode as they are) */
	OK("\"\\ud800\"", "se\"\\ud800\"=eda080"),
	OK("\"\\udc00x\"", "se\"\\udc00x\"=edb08078"),
	OK("\"\\ud83dx\"", "se\"\\ud83dx\"=eda0bd78"),
	OK("\"\\ud83d\\u0041\"", "se\"\\ud83d\\u0041\"=eda0bd41"),
	OK("\"\\u0000\"", "se\"\\u0000\"=00"),
	/* bytes from 0x7f up pass: UTF-8 is checked before parsing, elsewhere */
	OK("\"\x7f\"", "s\"\x7f\""),
	OK("\"caf\xc3\xa9\"", "s\"caf\xc3\xa9\""),
	OK("\"\xff\xfe\x80\"", "s\"\xff\xfe\x80\""),
	OK("{\"k\\u0041\":1,\"\\n\":\"x\"}", "{ke\"k\\u0041\"=6b41:n:1,ke\"\\n\"=0a:s\"x\"}"),
	OK("{\"\xc3\xa9\":\"\xe2\x82\xac\"}", "{k\"\xc3\xa9\":s\"\xe2\x82\xac\"}"),
	OK("[\"a very long string that crosses sixteen-byte blocks more than once, twice, thrice\"]",
	   "[s\"a very long string that crosses sixteen-byte blocks more than once, twice, thrice\"]"),
	OK("[\"0123456789abcdef0123456789abcde\\\\\",\"x\"]", "[se\"0123456789abcdef0123456789abcde\\\\\"=30313233343536373839616263646566303132333435363738396162636465" "5c,s\"x\"]"),

	/* errors: where and what */
	BAD("", 0, "unexpected end of input"),
	BAD("   ", 3, "unexpected end of input"),
	BAD("{", 1, "expected a key"),
	BAD("{ ", 2, "expected a key"),
	BAD("{\"a\"", 4, "expected ':'"),
	BAD("{\"a\" 1}", 5, "expected ':'"),
	BAD("{\"a\":", 5, "unexpected end of input"),
	BAD("{\"a\":}", 5, "unexpected character"),
	BAD("{\"a\":1", 6, "unexpected end of input"),
	BAD("{\"a\":1 ", 7, "unexpected end of input"),
	BAD("{\"a\":1,", 7, "expected a key"),
	BAD("{\"a\":1,}", 7, "expected a key"),
	BAD("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'"),
	BAD("{\"a\":1]", 6, "expected ',' or '}'"),
	BAD("{\"a\":1,\"b\"}", 10, "expected ':'"),
	BAD("{1:2}", 1, "expected a key"),
	BAD("{'a':2}", 1, "expected a key"),
	BAD("{\"a", 3, "unterminated string"),
	BAD("[", 1, "unexpected end of input"),
	BAD("[1", 2, "unexpected end of input"),
	BAD("[1,", 3, "unexpected end of input"),
	BAD("[1,]", 3, "unexpected character"),
	BAD("[,1]", 1, "unexpected character"),
	BAD("[1 2]", 3, "expected ',' or ']'"),
	BAD("[1}", 2, "expected ',' or ']'"),
	BAD("[[[[", 4, "unexpected end of input"),
	BAD("]", 0, "unexpected character"),
	BAD("}", 0, "unexpected character"),
	BAD("\"abc", 4, "unterminated string"),
	BAD("\"", 1, "unterminated string"),
	BAD("\"abc\\", 4, "unterminated string"),
	BAD("\"abc\\\"", 6, "unterminated string"),
	BAD("\"\\x\"", 1, "bad escape"),
	BAD("\"ab\\'\"", 3, "bad escape"),
	BAD("\"\\U0041\"", 1, "bad escape"),
	BAD("\"\\u12\"", 1, "bad \\u escape"),
	BAD("\"\\u12", 1, "bad \\u escape"),
	BAD("\"\\u", 1, "bad \\u escape"),
	BAD("\"\\u12G4\"", 1, "bad \\u escape"),
	BAD("\"\\u 123\"", 1, "bad \\u escape"),
	BAD("\"ok\\u00e9 then \\uzzzz\"", 15, "bad \\u escape"),
	BAD("\"\\u0\0\0\0\"", 1, "bad \\u escape"),
	BAD("\"\\\0\"", 1, "bad escape"),
	BAD("\"a\x01\"", 2, "control character in string"),
	BAD("\"a\0\"", 2, "control character in string"),
	BAD("\"a\nb\"", 2, "control character in string"),
	BAD("\"tab\there\"", 4, "control character in string"),
	BAD("\"\x1f\"", 1, "control character in string"),
	BAD("{\"a\x02\":1}", 3, "control character in string"),
	BAD("[\"0123456789abcdef0123456789\x7f\x1f\"]", 29, "control character in string"),
	BAD("[\"0123456789abcdef0123456789\\q\"]", 28, "bad escape"),
	BAD("tru", 0, "unexpected character"),
	BAD("nul", 0, "unexpected character"),
	BAD("nulL", 0, "unexpected character"),
	BAD("True", 0, "unexpected character"),
	BAD("[true,fals]", 6, "unexpected character"),
	BAD("truex", 4, "trailing characters after the value"),
	BAD("[1] x", 4, "trailing characters after the value"),
	BAD("{\"a\":1}}", 7, "trailing characters after the value"),
	BAD("[1]]", 3, "trailing characters after the value"),
	BAD(" 1 2", 3, "trailing characters after the value"),
	BAD("1x", 1, "trailing characters after the value"),
	BAD("\"a\"\"b\"", 3, "trailing characters after the value"),
	BAD("-", 0, "unexpected character"),
	BAD("-a", 0, "unexpected character"),
	BAD("--1", 0, "unexpected character"),
	BAD("+1", 0, "unexpected character"),
	BAD(".5", 0, "unexpected character"),
	BAD("1.", 2, "bad number"),
	BAD("1.e5", 2, "bad number"),
	BAD("[1.x]", 3, "bad number"),
	BAD("1e", 2, "bad number"),
	BAD("1e+", 3, "bad number"),
	BAD("1E-x", 3, "bad number"),
	BAD("1.5e", 4, "bad number"),
	BAD("01.5x", 4, "trailing characters after the value"),
	BAD("NaN", 0, "unexpected character"),
	BAD("Infinity", 0, "unexpected character"),
	BAD("-Infinity", 0, "unexpected character"),
	BAD("\xef\xbb\xbf{}", 0, "unexpected character"),
	BAD("\v1", 0, "unexpected character"),
	BAD("[1,\f2]", 3, "unexpected character"),
	BAD("\0", 0, "unexpected character"),
	BAD("[1]\0", 3, "trailing characters after the value"),
};

static void check(const char *text, size_t len, const char *want)
{
	struct jv_doc d = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;
	/* a copy of exactly len bytes, so that reading past the end is caught
	 * under ASan */
	char *copy = malloc(len ? len : 1);
	memcpy(copy, text, len);
	if (jv_parse(&d, copy, len, &err) == 0) {
		assert_non_null(d.root);
		assert_int_equal(err.len, 0);
		dump(&got, d.root);
	} else {
		assert_null(d.root);
		strbuf_addbuf(&got, &err);
	}
	if (strcmp(got.buf, want))
		fail_msg("%.*s\n  got:  %s\n  want: %s", (int)(len > 200 ? 200 : len), text, got.buf, want);
	jv_doc_release(&d);
	free(copy);
	strbuf_release(&err);
	strbuf_release(&got);
}

static void test_corpus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(cases[i].text, cases[i].len, cases[i].want);
}

/* Nesting: 512 levels parse, the 513th is refused where it opens. */
static void test_depth(void **state)
{
	(void)state;
	struct strbuf t = STRBUF_INIT, want = STRBUF_INIT;
	for (int i = 0; i < 512; i++)
		strbuf_addch(&t, '[');
	for (int i = 0; i < 512; i++)
		strbuf_addch(&t, ']');
	check(t.buf, t.len, t.buf);
	strbuf_reset(&t);
	for (int i = 0; i < 513; i++)
		strbuf_addch(&t, '[');
	for (int i = 0; i < 513; i++)
		strbuf_addch(&t, ']');
	check(t.buf, t.len, "invalid JSON at byte 512: nested too deeply");
	strbuf_reset(&t);
	for (int i = 0; i < 600; i++)
		strbuf_addstr(&t, "{\"a\":");
	check(t.buf, t.len, "invalid JSON at byte 2560: nested too deeply");
	strbuf_reset(&t);
	for (int i = 0; i < 511; i++)
		strbuf_addstr(&t, "{\"a\":");
	strbuf_addstr(&want, t.buf);
	strbuf_addstr(&t, "[]");
	for (int i = 0; i < 511; i++)
		strbuf_addch(&t, '}');
	strbuf_reset(&want);
	for (int i = 0; i < 511; i++)
		strbuf_addstr(&want, "{k\"a\":");
	strbuf_addstr(&want, "[]");
	for (int i = 0; i < 511; i++)
		strbuf_addch(&want, '}');
	check(t.buf, t.len, want.buf);
	/* truncated deep inside */
	strbuf_setlen(&t, 511 * 5 + 1);
	check(t.buf, t.len, "invalid JSON at byte 2556: unexpected end of input");
	strbuf_release(&t);
	strbuf_release(&want);
}

/* A string of every length up to 70 with one special byte at every place:
 * the fast scan finds each at the same byte as the slow one did, and
 * never reads past the end of the text. */
static void test_every_position(void **state)
{
	(void)state;
	struct strbuf t = STRBUF_INIT, want = STRBUF_INIT;
	for (size_t n = 0; n <= 70; n++) {
		/* plain: "xxxx" */
		strbuf_reset(&t);
		strbuf_addch(&t, '"');
		for (size_t i = 0; i < n; i++)
			strbuf_addch(&t, (char)('a' + i % 26));
		strbuf_addch(&t, '"');
		strbuf_reset(&want);
		strbuf_addf(&want, "s%s", t.buf);
		check(t.buf, t.len, want.buf);
		/* unterminated: no closing quote */
		strbuf_reset(&want);
		strbuf_addf(&want, "invalid JSON at byte %zu: unterminated string", n + 1);
		check(t.buf, t.len - 1, want.buf);
		for (size_t k = 0; k < n; k++) {
			static const struct { char c; const char *what; } special[] = {
				{ '\x01', "control character in string" }, { '\x1f', "control character in string" },
				{ '\0', "control character in string" }, { '\\', "bad escape" },
			};
			for (size_t s = 0; s < sizeof(special) / sizeof(special[0]); s++) {
				char saved = t.buf[1 + k];
				t.buf[1 + k] = special[s].c;
				strbuf_reset(&want);
				const char *good = k + 1 < n ? strchr("b\bf\fn\nr\rt\t", t.buf[2 + k]) : NULL;
				if (special[s].c == '\\' && good) {
					/* "\b", "\f", ... are good escapes */
					strbuf_addf(&want, "se%.*s=", (int)t.len, t.buf);
					for (size_t i = 1; i + 1 < t.len; i++) {
						if (i == 1 + k) {
							strbuf_addf(&want, "%02x", good[1]);
							i++;
						} else {
							strbuf_addf(&want, "%02x", (unsigned char)t.buf[i]);
						}
					}
				} else if (special[s].c == '\\' && k + 1 == n) {
					/* "\" escapes the closing quote */
					strbuf_addf(&want, "invalid JSON at byte %zu: unterminated string", n + 2);
				} else if (special[s].c == '\\' && t.buf[2 + k] == 'u') {
					/* "\uvwx" is not hex */
					strbuf_addf(&want, "invalid JSON at byte %zu: bad \\u escape", 1 + k);
				} else {
					strbuf_addf(&want, "invalid JSON at byte %zu: %s", 1 + k, special[s].what);
				}
				check(t.buf, t.len, want.buf);
				/* bytes 0x80..0xff, 0x7f and 0x20 are plain */
				static const char plain[] = { '\x80', '\xff', '\x7f', ' ', '\xc3' };
				if (s == 0)
					for (size_t q = 0; q < sizeof(plain); q++) {
						t.buf[1 + k] = plain[q];
						strbuf_reset(&want);
						strbuf_addf(&want, "s%.*s", (int)t.len, t.buf);
						check(t.buf, t.len, want.buf);
					}
				t.buf[1 + k] = saved;
			}
		}
	}
	strbuf_release(&t);
	strbuf_release(&want);
}

/* A page as an API sends it, with jv_get and jv_path on the tree, parsed
 * twice into one doc (pages reuse theirs). */
static void test_page_and_reuse(void **state)
{
	(void)state;
	struct jv_doc d = JV_DOC_INIT;
	struct strbuf t = STRBUF_INIT, err = STRBUF_INIT, sb = STRBUF_INIT;
	strbuf_addstr(&t, "{\"data\":[");
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&t, "%s{\"id\":%d,\"name\":\"customer %d\",\"amount\":%d.5,\"ok\":%s,\"tags\":[\"x\",\"y\\u00e9\"],"
			    "\"k\\u0065y\":null}", i ? "," : "", i, i, i, i & 1 ? "true" : "false");
	strbuf_addstr(&t, "],\"next\":\"/p?page=2\"}");
	for (int round = 0; round < 3; round++) {
		assert_int_equal(jv_parse(&d, t.buf, t.len, &err), 0);
		const struct jv *data = jv_get(d.root, "data");
		assert_non_null(data);
		assert_int_equal(data->n, 3000);
		strbuf_reset(&sb);
		assert_int_equal(jv_text(jv_path(d.root, "data.2999.name"), &sb), 0);
		assert_string_equal(sb.buf, "customer 2999");
		strbuf_reset(&sb);
		assert_int_equal(jv_text(jv_path(d.root, "data.7.tags.1"), &sb), 0);
		assert_string_equal(sb.buf, "y\xc3\xa9");
		assert_int_equal(jv_get(&data->kids[5], "key")->type, JV_NULL);
		assert_int_equal(jv_get(&data->kids[5], "ok")->type, JV_TRUE);
		strbuf_reset(&sb);
		assert_int_equal(jv_text(jv_get(d.root, "next"), &sb), 0);
		assert_string_equal(sb.buf, "/p?page=2");
		/* an error between good parses leaves no tree */
		assert_int_equal(jv_parse(&d, "[1,", 3, &err), -1);
		assert_null(d.root);
		strbuf_reset(&err);
	}
	jv_doc_release(&d);
	strbuf_release(&t);
	strbuf_release(&err);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_every_position),
		cmocka_unit_test(test_page_and_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
