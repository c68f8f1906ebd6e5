/* The jv parser and the normalizer: records into spool files, and
 * __dango_spool() reading them back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <duckdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/strbuf.h"
#include "sources/normalize.h"
#include "warehouse/spool.h"

static void test_parse_and_paths(void **state)
{
	(void)state;
	struct jv_doc d = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	const char *text = "{\"a\":{\"b\":[1,2.5,-3e2]},\"s\":\"x\\u00e9\\n\",\"t\":true,\"n\":null,\"@odata.nextLink\":\"u\"}";
	assert_int_equal(jv_parse(&d, text, strlen(text), &err), 0);
	const struct jv *b = jv_path(d.root, "a.b");
	assert_non_null(b);
	assert_int_equal(b->type, JV_ARR);
	assert_int_equal(b->n, 3);
	assert_true(b->kids[0].is_int);
	assert_false(b->kids[1].is_int);
	assert_int_equal(jv_text(jv_path(d.root, "a.b.-1"), &sb), 0);
	assert_string_equal(sb.buf, "-3e2");
	strbuf_reset(&sb);
	assert_int_equal(jv_text(jv_get(d.root, "s"), &sb), 0);
	assert_string_equal(sb.buf, "x\xc3\xa9\n");
	strbuf_reset(&sb);
	assert_int_equal(jv_text(jv_path(d.root, "@odata.nextLink"), &sb), 0);
	assert_string_equal(sb.buf, "u");
	assert_int_equal(jv_text(jv_get(d.root, "n"), &sb), -1);
	assert_ptr_equal(jv_path(d.root, "$"), d.root);
	assert_null(jv_path(d.root, "a.c"));

	static const char *const bad[] = { "{\"a\":", "[1,]", "{\"a\" 1}", "\"abc", "[1] x", "tru", "{\"a\":\"\x01\"}", NULL };
	for (int i = 0; bad[i]; i++) {
		strbuf_reset(&err);
		assert_int_equal(jv_parse(&d, bad[i], strlen(bad[i]), &err), -1);
		assert_non_null(strstr(err.buf, "invalid JSON at byte"));
	}
	jv_doc_release(&d);
	strbuf_release(&err);
	strbuf_release(&sb);
}

static void test_timestamps(void **state)
{
	(void)state;
	/* what DuckDB's cast to TIMESTAMPTZ takes, and nothing else (t3038) */
	static const char *const yes[] = { "2024-06-01T10:00:00Z", "2024-06-01 10:00:00", "2024-06-01T10:00:00.123+02:00",
					   "2024-06-01T10:00", "2024-06-01T10:00:00-0500", "2024-02-29T00:00:00Z",
					   "2000-02-29T00:00:00Z", "2024-06-01T10:00:00.123456789Z", NULL };
	static const char *const no[] = { "2024-06-01", "2024-13-01T10:00:00Z", "hello world 2024", "2024-06-01T25:00:00Z",
					  "2024-06-01T10:00:00Zjunk", "2024-06-01T10:00Z", "2024-06-01T10:00+02:00",
					  "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
					  "2024-04-31T00:00:00Z", "2024-06-01T10:00:60Z", "2024-06-01T10:00:00z", NULL };
	for (int i = 0; yes[i]; i++)
		assert_true(norm_is_timestamp(yes[i], strlen(yes[i])));
	for (int i = 0; no[i]; i++)
		assert_false(norm_is_timestamp(no[i], strlen(no[i])));
}

static void test_normalize_tables(void **state)
{
	(void)state;
	char dir[] = "/tmp/dango-test-normalize-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct normalizer n;
	struct jv_doc d = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT, rel = STRBUF_INIT;
	const char *page = "[{\"id\":1,\"customer\":{\"name\":\"Ann\"},\"tags\":[\"a\",\"b\"],\"n\":null},"
			   "{\"id\":2.5,\"when\":\"2024-06-01T10:00:00Z\",\"tags\":[]},{\"id\":\"x\"}]";
	normalizer_init(&n, dir);
	assert_int_equal(jv_parse(&d, page, strlen(page), &err), 0);
	int t = normalizer_table(&n, "orders", -1);
	for (size_t i = 0; i < d.root->n; i++)
		assert_int_equal(normalizer_add(&n, t, &d.root->kids[i], NULL, 0, i == 0 ? "orders\x1f" "1" : NULL, 1000, &err), 0);
	assert_int_equal(normalizer_finish(&n, &err), 0);
	assert_int_equal(n.nr_tables, 2);
	const struct norm_table *o = &n.tables[0], *tags = &n.tables[1];
	assert_string_equal(tags->name, "orders__tags");
	assert_int_equal(tags->parent, 0);
	assert_int_equal(o->rows, 3);
	assert_int_equal(tags->rows, 2);
	/* id: bigint, double, text -> text; customer__name; when: timestamp */
	assert_int_equal(o->nr_cols, 3);
	assert_string_equal(o->cols[0].name, "id");
	assert_int_equal(o->cols[0].type, NT_TEXT);
	assert_string_equal(o->cols[1].name, "customer__name");
	assert_string_equal(o->cols[2].name, "when");
	assert_int_equal(o->cols[2].type, NT_TIMESTAMP);
	assert_int_equal(o->files.nr, 1);
	assert_int_equal(strbuf_read_file(&text, o->files.v[0]), 0);
	/* the magic, rows of tagged values, the end marker and the row count */
	assert_true(text.len > SPOOL_MAGIC_LEN + 12);
	assert_memory_equal(text.buf, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	assert_memory_equal(text.buf + text.len - 12, "\xff\xff\xff\xff\x03\0\0\0\0\0\0\0", 12);
	/* id (file column 3) as the number it was, customer__name (4) a string,
	 * then the seeded _dlt_id (0); the null field is not written */
	static const char row1[] = "\x19\x01" "1" "\x20\x03" "Ann" "\x00\x24";
	assert_memory_equal(text.buf + SPOOL_MAGIC_LEN + 4, row1, sizeof(row1) - 1);
	assert_non_null(memmem(text.buf, text.len, "\x18\x01" "x", 3));
	/* a seeded id is stable */
	struct normalizer n2;
	char dir2[] = "/tmp/dango-test-normalize-XXXXXX";
	assert_non_null(mkdtemp(dir2));
	normalizer_init(&n2, dir2);
	int t2 = normalizer_table(&n2, "orders", -1);
	assert_int_equal(normalizer_add(&n2, t2, &d.root->kids[0], NULL, 0, "orders\x1f" "1", 1000, &err), 0);
	assert_int_equal(normalizer_finish(&n2, &err), 0);
	struct strbuf text2 = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&text2, n2.tables[0].files.v[0]), 0);
	size_t row_len = (unsigned char)text.buf[SPOOL_MAGIC_LEN];
	assert_memory_equal(text.buf, text2.buf, SPOOL_MAGIC_LEN + 4 + row_len);
	normalizer_relation(&n, tags, tags->files.v[0], &rel);
	assert_non_null(strstr(rel.buf, "['_dlt_id', '_dlt_parent_id', '_dlt_list_idx', 'value'], [0, 1, 2, 3], "
					"['text', 'text', 'bigint', 'text'])"));
	strbuf_reset(&rel);
	/* id took a number, then a string: its text from the JSON of each */
	normalizer_relation(&n, o, o->files.v[0], &rel);
	assert_non_null(strstr(rel.buf, "json_extract_string(\"id\", '$') AS \"id\", CAST(\"when\" AS TIMESTAMP WITH TIME ZONE) AS \"when\""));
	assert_non_null(strstr(rel.buf, "['_dlt_id', 'id', 'customer__name', 'when'], [0, 3, 4, 5], ['text', 'json', 'text', 'text'])"));
	normalizer_release(&n);
	normalizer_release(&n2);
	jv_doc_release(&d);
	strbuf_release(&err);
	strbuf_release(&text);
	strbuf_release(&text2);
	strbuf_release(&rel);
	fs_remove_tree(dir);
	fs_remove_tree(dir2);
}

/* Columns a SCHEMA declares: there from the start, in order, typed; values
 * that do not fit are errors naming the field. */
static void test_declared_columns(void **state)
{
	(void)state;
	char dir[] = "/tmp/dango-test-normalize-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct normalizer n;
	struct jv_doc d = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, rel = STRBUF_INIT;
	normalizer_init(&n, dir);
	int t = normalizer_table(&n, "users", -1);
	normalizer_declare_column(&n, t, -1, "id", NT_BIGINT);
	int addr = normalizer_declare_object(&n, t, -1, "addr");
	normalizer_declare_column(&n, t, addr, "since", NT_DATE);
	int tags = normalizer_declare_list(&n, t, -1, "tags");
	normalizer_declare_column(&n, tags, -1, "value", NT_TEXT);
	normalizer_declare_column(&n, t, -1, "never", NT_DOUBLE);
	const char *ok = "{\"id\": 1, \"addr\": {\"since\": \"2020-01-02\"}, \"tags\": [\"x\"], \"extra\": true}";
	assert_int_equal(jv_parse(&d, ok, strlen(ok), &err), 0);
	assert_int_equal(normalizer_add(&n, t, d.root, NULL, 0, NULL, -1, &err), 0);
	const struct norm_table *u = &n.tables[t];
	assert_int_equal(u->nr_cols, 4);
	assert_string_equal(u->cols[0].name, "id");
	assert_int_equal(u->cols[0].type, NT_BIGINT);
	assert_string_equal(u->cols[1].name, "addr__since");
	assert_int_equal(u->cols[1].type, NT_DATE);
	assert_string_equal(u->cols[2].name, "never");
	assert_int_equal(u->cols[2].type, NT_DOUBLE);
	assert_string_equal(u->cols[3].name, "extra");
	assert_int_equal(u->cols[3].type, NT_BOOL);
	const char *bad = "{\"id\": 1.5}";
	assert_int_equal(jv_parse(&d, bad, strlen(bad), &err), 0);
	assert_int_equal(normalizer_add(&n, t, d.root, NULL, 0, NULL, -1, &err), -1);
	assert_string_equal(err.buf, "field 'id' is 1.5 (a number), not an integer as its SCHEMA says");
	strbuf_reset(&err);
	const char *notobj = "{\"addr\": \"Main St\"}";
	assert_int_equal(jv_parse(&d, notobj, strlen(notobj), &err), 0);
	assert_int_equal(normalizer_add(&n, t, d.root, NULL, 0, NULL, -1, &err), -1);
	assert_string_equal(err.buf, "field 'addr' is \"Main St\" (a string), not an object as its SCHEMA says");
	assert_int_equal(normalizer_finish(&n, &err), 0);
	/* the rows that failed half-way were taken back: one whole row, then the end */
	struct strbuf text = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&text, u->files.v[0]), 0);
	size_t row_len = (unsigned char)text.buf[SPOOL_MAGIC_LEN];
	assert_int_equal(text.len, SPOOL_MAGIC_LEN + 4 + row_len + 12);
	assert_memory_equal(text.buf + text.len - 12, "\xff\xff\xff\xff\x01\0\0\0\0\0\0\0", 12);
	strbuf_release(&text);
	normalizer_relation(&n, u, u->files.v[0], &rel);
	assert_non_null(strstr(rel.buf, ", CAST(\"addr__since\" AS DATE) AS \"addr__since\") FROM __dango_spool(["));
	assert_non_null(strstr(rel.buf, "['_dlt_id', 'id', 'addr__since', 'never', 'extra'], [0, 3, 4, 5, 6], "
					"['text', 'bigint', 'text', 'double', 'bool'])"));
	normalizer_release(&n);
	jv_doc_release(&d);
	strbuf_release(&err);
	strbuf_release(&rel);
	fs_remove_tree(dir);
}

/* Text values point into the spool file's mapping (warehouse/spool.c
 * put_text): files of 1,000 rows end inside DuckDB's 2,048-row chunks, so
 * one chunk holds the end of a file and the start of the next, and each
 * value must still read back whole after the reader moved on, on one
 * thread (files in order) and on two. */
static void test_spool_text_across_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/dango-test-normalize-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct normalizer n;
	struct jv_doc d = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, page = STRBUF_INIT, rel = STRBUF_INIT, sql = STRBUF_INIT;
	normalizer_init(&n, dir);
	n.rotate_rows = 1000;
	int t = normalizer_table(&n, "rows", -1);
	strbuf_addch(&page, '[');
	for (int i = 1; i <= 5000; i++)
		strbuf_addf(&page, "%s{\"id\": %d, \"s\": \"row %d %s\", \"t\": \"%.*s\"}", i > 1 ? "," : "", i, i,
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i % 21, "abcdefghijklmnopqrstu");
	strbuf_addch(&page, ']');
	assert_int_equal(jv_parse(&d, page.buf, page.len, &err), 0);
	for (size_t i = 0; i < d.root->n; i++)
		assert_int_equal(normalizer_add(&n, t, &d.root->kids[i], NULL, 0, NULL, -1, &err), 0);
	assert_int_equal(normalizer_finish(&n, &err), 0);
	const struct norm_table *o = &n.tables[t];
	assert_int_equal(o->files.nr, 5);
	normalizer_relation_files(&n, o, (const char *const *)o->files.v, o->files.nr, &rel);

	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	assert_int_equal(duckdb_open(NULL, &db), DuckDBSuccess);
	assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
	assert_int_equal(spool_register(&con), 0);
	for (int threads = 1; threads <= 2; threads++) {
		strbuf_reset(&sql);
		strbuf_addf(&sql, "SET threads = %d", threads);
		assert_int_equal(duckdb_query(con, sql.buf, &res), DuckDBSuccess);
		duckdb_destroy_result(&res);
		strbuf_reset(&sql);
		strbuf_addf(&sql,
			    "SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE s <> 'row ' || id || ' ' || "
			    "repeat('x', 40) OR t <> substr('abcdefghijklmnopqrstu', 1, id %% 21)) FROM %s",
			    rel.buf);
		assert_int_equal(duckdb_query(con, sql.buf, &res), DuckDBSuccess);
		assert_int_equal(duckdb_value_int64(&res, 0, 0), 5000);
		assert_int_equal(duckdb_value_int64(&res, 1, 0), 5000);
		assert_int_equal(duckdb_value_int64(&res, 2, 0), 0);
		duckdb_destroy_result(&res);
	}
	duckdb_disconnect(&con);
	duckdb_close(&db);
	normalizer_release(&n);
	jv_doc_release(&d);
	strbuf_release(&err);
	strbuf_release(&page);
	strbuf_release(&rel);
	strbuf_release(&sql);
	fs_remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_paths),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_normalize_tables),
		cmocka_unit_test(test_declared_columns),
		cmocka_unit_test(test_spool_text_across_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
