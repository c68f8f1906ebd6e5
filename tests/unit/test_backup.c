/* The one naming rule of full-refresh backups (src/ingest/backup.c), and
 * that the bookkeeping rule (sync_is_meta_name) covers them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/strbuf.h"
#include "ingest/backup.h"
#include "ingest/sync.h"

static void test_name_and_parse(void **state)
{
	struct strbuf sb = STRBUF_INIT, table = STRBUF_INIT;
	time_t when = 0;
	(void)state;
	sync_backup_name(&sb, "orders__items", "20240102030405", 0);
	assert_string_equal(sb.buf, "_dango_backup_20240102030405__orders__items");
	assert_int_equal(sync_backup_parse(sb.buf, &table, &when), 1);
	assert_string_equal(table.buf, "orders__items");
	assert_int_equal((long long)when, 1704164645LL);
	strbuf_reset(&sb);
	strbuf_reset(&table);
	sync_backup_name(&sb, "orders", "20240102030405", 3);
	assert_string_equal(sb.buf, "_dango_backup_20240102030405_3__orders");
	assert_int_equal(sync_backup_parse(sb.buf, &table, NULL), 1);
	assert_string_equal(table.buf, "orders");
	strbuf_release(&sb);
	strbuf_release(&table);
}

static void test_old_names_and_non_backups(void **state)
{
	struct strbuf table = STRBUF_INIT;
	time_t when = 0;
	(void)state;
	assert_int_equal(sync_backup_parse("orders__backup_20200101000000", &table, &when), 1);
	assert_string_equal(table.buf, "orders");
	assert_int_equal((long long)when, 1577836800LL);
	strbuf_reset(&table);
	assert_int_equal(sync_backup_parse("a__backup_20200101000000_2", &table, NULL), 1);
	assert_string_equal(table.buf, "a");
	assert_int_equal(sync_backup_parse("orders", NULL, NULL), 0);
	assert_int_equal(sync_backup_parse("orders__backup_notes", NULL, NULL), 0);
	assert_int_equal(sync_backup_parse("__backup_20200101000000", NULL, NULL), 0);
	assert_int_equal(sync_backup_parse("_dango_backup_2020__x", NULL, NULL), 0);
	assert_int_equal(sync_backup_parse("_dango_backup_20200101000000__", NULL, NULL), 0);
	assert_int_equal(sync_backup_parse("_dango_backup_20201399000000__x", NULL, NULL), 0);
	strbuf_release(&table);
}

static void test_meta_names(void **state)
{
	(void)state;
	assert_true(sync_is_meta_name("_dango_backup_20240102030405__orders"));
	assert_true(sync_is_meta_name("orders__backup_20240102030405"));
	assert_true(sync_is_meta_name("_dlt_loads"));
	assert_false(sync_is_meta_name("orders"));
	assert_false(sync_is_meta_name("orders__items"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_and_parse),
		cmocka_unit_test(test_old_names_and_non_backups),
		cmocka_unit_test(test_meta_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
