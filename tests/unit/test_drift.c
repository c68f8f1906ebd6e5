/* Drift records (src/governance/drift.c) on an in-memory SQLite database:
 * the first sync is the baseline, the three kinds of change, one event
 * however many syncs see it, accept by table and by source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/strvec.h"
#include "governance/drift.h"

static sqlite3 *db;

static int setup(void **state)
{
	(void)state;
	return sqlite3_open(":memory:", &db) == SQLITE_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sqlite3_close(db);
	return 0;
}

/* observe "table.column:TYPE ..." in load `load` at `at` */
static void sync_seen(const char *spec, const char *load, const char *at, struct drift_events *found)
{
	struct drift_schema s = DRIFT_SCHEMA_INIT;
	struct strbuf err = STRBUF_INIT;
	char *copy = strdup(spec), *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *dot = strchr(w, '.'), *colon = strchr(w, ':');
		*dot = *colon = '\0';
		drift_schema_add(&s, w, dot + 1, colon + 1);
	}
	free(copy);
	assert_int_equal(drift_record_sync(db, "shop", load, at, &s, found, &err), 0);
	assert_int_equal(err.len, 0);
	drift_schema_release(&s);
	strbuf_release(&err);
}

static void describe(struct strbuf *sb, int all)
{
	struct drift_events ev = DRIFT_EVENTS_INIT;
	struct strbuf err = STRBUF_INIT;
	assert_int_equal(drift_read_events(db, "shop", all, &ev, &err), 0);
	strbuf_reset(sb);
	for (size_t i = 0; i < ev.nr; i++) {
		const struct drift_event *e = &ev.v[i];
		strbuf_addf(sb, "%s.%s %s %s>%s %s/%s %s/%s %s%s%s\n", e->table, e->column, e->kind,
			    e->old_type ? e->old_type : "-", e->new_type ? e->new_type : "-", e->load_id, e->first_seen,
			    e->last_load_id, e->last_seen, e->status, e->accepted_by ? " by " : "",
			    e->accepted_by ? e->accepted_by : "");
	}
	drift_events_release(&ev);
	strbuf_release(&err);
}

static void test_lifecycle(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct drift_events found = DRIFT_EVENTS_INIT;

	/* nothing yet: no tables, no events */
	assert_int_equal(drift_read_events(db, NULL, 1, &found, &err), 0);
	assert_int_equal(found.nr, 0);

	sync_seen("orders.id:BIGINT orders.amount:BIGINT orders.currency:VARCHAR users.id:BIGINT", "L1", "T1", &found);
	assert_int_equal(found.nr, 0);
	describe(&sb, 1);
	assert_string_equal(sb.buf, "");

	sync_seen("orders.id:BIGINT orders.amount:VARCHAR orders.note:VARCHAR users.id:BIGINT", "L2", "T2", &found);
	assert_int_equal(found.nr, 3);
	drift_events_release(&found);
	describe(&sb, 0);
	assert_string_equal(sb.buf, "orders.amount type_changed BIGINT>VARCHAR L2/T2 L2/T2 open\n"
				    "orders.currency column_removed VARCHAR>- L2/T2 L2/T2 open\n"
				    "orders.note column_added ->VARCHAR L2/T2 L2/T2 open\n");

	/* seen again, and a table seen for the first time: no new events */
	sync_seen("orders.id:BIGINT orders.amount:VARCHAR orders.note:VARCHAR items.sku:VARCHAR", "L3", "T3", &found);
	assert_int_equal(found.nr, 3);
	drift_events_release(&found);
	describe(&sb, 0);
	assert_string_equal(sb.buf, "orders.amount type_changed BIGINT>VARCHAR L2/T2 L3/T3 open\n"
				    "orders.currency column_removed VARCHAR>- L2/T2 L3/T3 open\n"
				    "orders.note column_added ->VARCHAR L2/T2 L3/T3 open\n");

	struct drift_events ev = DRIFT_EVENTS_INIT;
	assert_int_equal(drift_read_events(db, "shop", 0, &ev, &err), 0);
	strbuf_reset(&sb);
	drift_describe_breaking(&sb, &ev, "shop");
	assert_string_equal(sb.buf, "orders.amount BIGINT -> VARCHAR, orders.currency removed");
	drift_events_release(&ev);

	/* accept one table that has nothing open, then the source */
	int nr = -1;
	assert_int_equal(drift_accept(db, "shop", "users", "ann", "T4", &nr, &err), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(drift_accept(db, "shop", "nosuch", "ann", "T4", &nr, &err), -1);
	assert_non_null(strstr(err.buf, "has no table 'nosuch'"));
	strbuf_reset(&err);
	assert_int_equal(drift_accept(db, "other", NULL, "ann", "T4", &nr, &err), -1);
	strbuf_reset(&err);
	assert_int_equal(drift_accept(db, "shop", NULL, "ann", "T4", &nr, &err), 0);
	assert_int_equal(nr, 3);
	describe(&sb, 0);
	assert_string_equal(sb.buf, "");
	describe(&sb, 1);
	assert_non_null(strstr(sb.buf, "orders.amount type_changed BIGINT>VARCHAR L2/T2 L3/T3 accepted by ann\n"));

	/* the accepted schema is the baseline now */
	struct drift_schema base = DRIFT_SCHEMA_INIT;
	assert_int_equal(drift_read_schema(db, "shop", 0, &base, &err), 0);
	strbuf_reset(&sb);
	for (size_t i = 0; i < base.nr; i++)
		strbuf_addf(&sb, "%s.%s:%s ", base.v[i].table, base.v[i].column, base.v[i].type);
	assert_string_equal(sb.buf, "items.sku:VARCHAR orders.id:BIGINT orders.amount:VARCHAR orders.note:VARCHAR "
				    "users.id:BIGINT ");
	drift_schema_release(&base);
	struct strvec tables = STRVEC_INIT;
	assert_int_equal(drift_read_tables(db, "shop", &tables, &err), 0);
	assert_int_equal(tables.nr, 3);
	assert_string_equal(tables.v[1], "orders\tT4\taccepted by ann");
	assert_string_equal(tables.v[0], "items\tT4\taccepted by ann");
	strvec_clear(&tables);

	/* a change after accept is a new event */
	sync_seen("orders.id:BIGINT orders.amount:VARCHAR", "L5", "T5", &found);
	drift_events_release(&found);
	describe(&sb, 0);
	assert_string_equal(sb.buf, "orders.note column_removed VARCHAR>- L5/T5 L5/T5 open\n");
	strbuf_release(&sb);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
