/* dango generate's library: names, quoting, markers, and key and strategy
 * choice on a small warehouse (keys from sources.yml endpoints, from what
 * the connector declared, and detected from the data). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "generate/generate.h"
#include "project/project.h"
#include "project/sources.h"
#include "warehouse/warehouse.h"

static void test_model_names(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	gen_model_name(&sb, "stripe", "charges");
	assert_string_equal(sb.buf, "stg_stripe_charges");
	strbuf_reset(&sb);
	gen_model_name(&sb, "sales_data", "sales_data");
	assert_string_equal(sb.buf, "stg_sales_data");
	strbuf_reset(&sb);
	gen_model_name(&sb, "manual", "Order Items");
	assert_string_equal(sb.buf, "stg_manual_order_items");
	strbuf_reset(&sb);
	gen_model_name(&sb, "api", "items__tags");
	assert_string_equal(sb.buf, "stg_api_items__tags");
	strbuf_release(&sb);
}

static void test_quoting(void **state)
{
	struct strvec reserved = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	strvec_push(&reserved, "order");
	const char *cases[][2] = {
		{ "amount", "amount" },       { "order", "\"order\"" }, { "Order ID", "\"Order ID\"" },
		{ "Amount", "\"Amount\"" },   { "1st", "\"1st\"" },     { "_dlt_id", "_dlt_id" },
		{ "a\"b", "\"a\"\"b\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		gen_add_ident(&sb, cases[i][0], &reserved);
		assert_string_equal(sb.buf, cases[i][1]);
	}
	strbuf_release(&sb);
	strvec_clear(&reserved);
}

static void add_col(struct gen_table *t, const char *name, const char *type)
{
	t->cols = realloc(t->cols, (t->nr_cols + 1) * sizeof(*t->cols));
	t->cols[t->nr_cols].name = strdup(name);
	t->cols[t->nr_cols].type = strdup(type);
	t->cols[t->nr_cols++].has_nulls = 0;
}

static void free_cols(struct gen_table *t)
{
	for (size_t i = 0; i < t->nr_cols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].type);
	}
	free(t->cols);
	strvec_clear(&t->key);
}

static void test_markers_and_shapes(void **state)
{
	struct gen_table t = { 0 };
	struct strbuf out = STRBUF_INIT, edited = STRBUF_INIT;
	struct strvec reserved = STRVEC_INIT;
	int asked;
	strvec_push(&reserved, "order");
	t.name = "subs";
	t.model = "stg_s_subs";
	add_col(&t, "id", "BIGINT");
	add_col(&t, "order", "VARCHAR");
	add_col(&t, "_dlt_load_id", "VARCHAR");
	add_col(&t, "_dlt_id", "UUID");
	add_col(&t, "_dlt_extracted_at", "TIMESTAMP WITH TIME ZONE");
	t.has_dlt_id = t.has_load_id = t.has_extracted = 1;
	strvec_push(&t.key, "id");
	t.asked = t.strategy = GEN_SCD_TYPE2;

	gen_render_model(&out, "s", &t, &reserved);
	assert_true(gen_file_is_ours(out.buf, &asked));
	assert_int_equal(asked, GEN_SCD_TYPE2);
	assert_non_null(strstr(out.buf, "    \"order\",\n    _dlt_extracted_at as _valid_from,\n"));
	assert_non_null(strstr(out.buf, "PARTITION BY id ORDER BY _dlt_extracted_at\n    ) as _valid_to"));
	assert_non_null(strstr(out.buf, "FROM {{ source('s', 'subs') }}"));
	assert_null(strstr(out.buf, "    _dlt_id,"));

	/* one changed byte, or a missing marker, makes the file the user's */
	strbuf_addbuf(&edited, &out);
	edited.buf[edited.len - 2] = 'X';
	assert_false(gen_file_is_ours(edited.buf, &asked));
	assert_int_equal(asked, -1);
	assert_false(gen_file_is_ours(strchr(out.buf, '\n') + 1, NULL));
	assert_false(gen_file_is_ours("select 1\n", NULL));

	strbuf_reset(&out);
	t.asked = t.strategy = GEN_NONE;
	gen_render_model(&out, "s", &t, &reserved);
	assert_non_null(strstr(out.buf, "SELECT\n    id,\n    \"order\",\n    _dlt_load_id,\n    _dlt_extracted_at\nFROM"));
	assert_true(gen_file_is_ours(out.buf, &asked));
	assert_int_equal(asked, GEN_NONE);

	strbuf_release(&out);
	strbuf_release(&edited);
	strvec_clear(&reserved);
	free_cols(&t);
}

/* A warehouse in a temporary folder with an API source's tables. */
struct fixture {
	char dir[64];
	struct project p;
	struct warehouse wh;
	struct source_list list;
};

static const char *const sources_text =
	"version: \"1.0\"\n"
	"sources:\n"
	"  - name: api\n"
	"    type: rest_api\n"
	"    deduplication: scd_type2\n"
	"    rest_api:\n"
	"      base_url: https://example.test\n"
	"      endpoints:\n"
	"        - name: users\n"
	"          primary_key: [org, login]\n"
	"        - name: orders\n"
	"        - name: logs\n"
	"        - name: tags\n";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;
	strcpy(f->dir, "/tmp/dango-test-generate.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->p.dbt_dir = strdup(f->dir);
	strbuf_addf(&path, "%s/w.duckdb", f->dir);
	assert_int_equal(warehouse_open(&f->wh, path.buf, WH_READ_WRITE, &err), 0);
	assert_int_equal(warehouse_exec(&f->wh,
		"CREATE SCHEMA raw_api;"
		"CREATE TABLE raw_api.users AS SELECT * FROM (VALUES ('a', 'x', 1, TIMESTAMPTZ '2024-01-01'),"
		"  ('a', 'x', 2, TIMESTAMPTZ '2024-01-02')) t(org, login, n, _dlt_extracted_at);"
		/* order_id repeats across loads, never within one */
		"CREATE TABLE raw_api.orders AS SELECT * FROM (VALUES (1, 5, TIMESTAMPTZ '2024-01-01'),"
		"  (1, 6, TIMESTAMPTZ '2024-01-02'), (2, NULL, TIMESTAMPTZ '2024-01-02')) t(order_id, total, _dlt_extracted_at);"
		"CREATE TABLE raw_api.logs AS SELECT * FROM (VALUES (1, TIMESTAMPTZ '2024-01-01'),"
		"  (1, TIMESTAMPTZ '2024-01-01')) t(id, _dlt_extracted_at);"
		"CREATE TABLE raw_api.tags AS SELECT * FROM (VALUES ('t1', TIMESTAMPTZ '2024-01-01')) t(code, _dlt_extracted_at);"
		"CREATE TABLE raw_api._dango_resources (resource VARCHAR, primary_key JSON, write_disposition VARCHAR, load_id VARCHAR);"
		"INSERT INTO raw_api._dango_resources VALUES ('tags', '[\"code\"]', 'merge', '1'), ('orders', '[]', 'append', '1');",
		&err), 0);
	strbuf_init(&f->list.text, 0);
	assert_int_equal(sources_parse(&f->list, "sources.yml", sources_text, strlen(sources_text), &err), 0);
	strbuf_release(&err);
	strbuf_release(&path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	warehouse_close(&f->wh);
	sources_release(&f->list);
	fs_remove_tree(f->dir);
	free(f->p.dbt_dir);
	free(f);
	return 0;
}

static const struct gen_table *find(const struct gen_plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->nr; i++)
		for (size_t t = 0; t < plan->sources[i].nr; t++)
			if (!strcmp(plan->sources[i].tables[t].name, name))
				return &plan->sources[i].tables[t];
	return NULL;
}

static void test_keys_and_strategies(void **state)
{
	struct fixture *f = *state;
	struct gen_plan plan;
	struct gen_options opts = { 0 };
	struct strvec per_table = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	strvec_push(&per_table, "api.tags=latest_only");
	opts.table_strategies = &per_table;
	assert_int_equal(gen_plan_build(&plan, &f->wh, &f->p, &f->list, &opts, &err), 0);
	assert_int_equal(plan.nr, 1);
	assert_int_equal(plan.sources[0].nr, 4);

	const struct gen_table *users = find(&plan, "users"), *orders = find(&plan, "orders");
	const struct gen_table *logs = find(&plan, "logs"), *tags = find(&plan, "tags");
	/* sources.yml: a composite key of the endpoint, and the source's strategy */
	assert_int_equal(users->key.nr, 2);
	assert_string_equal(users->key_origin, "sources.yml");
	assert_int_equal(users->strategy, GEN_SCD_TYPE2);
	assert_non_null(strstr(users->file.content.buf, "PARTITION BY org, login, _dlt_extracted_at"));
	/* detected: orders -> order_id, unique within each load */
	assert_string_equal(orders->key.v[0], "order_id");
	assert_string_equal(orders->key_origin, "detected");
	/* id repeats within one load: not a key; falls back with a warning */
	assert_int_equal(logs->key.nr, 0);
	assert_int_equal(logs->strategy, GEN_NONE);
	assert_int_equal(logs->asked, GEN_SCD_TYPE2);
	assert_non_null(strstr(logs->warning, "raw_api.logs: no primary key found"));
	/* declared by the connector; the command line chose the strategy */
	assert_string_equal(tags->key_origin, "connector");
	assert_int_equal(tags->strategy, GEN_LATEST_ONLY);
	assert_int_equal(tags->file.action, GEN_CREATE);

	/* schema.yml: unique only where one row per key is kept; not_null where no NULLs */
	const char *schema = plan.sources[0].schema_yml.content.buf;
	assert_non_null(strstr(schema, "      - name: code\n        description: VARCHAR, primary key\n"
					"        tests:\n          - unique\n          - not_null\n"));
	assert_non_null(strstr(schema, "      - name: total\n        description: INTEGER\n      - name"));
	assert_non_null(strstr(plan.sources[0].sources_yml.content.buf, "    schema: raw_api\n"));

	assert_int_equal(gen_plan_write(&plan, &err), 0);
	gen_plan_release(&plan);

	/* written files are ours: unchanged on the next run, and their recorded
	 * strategy holds without the flag that chose it */
	opts.table_strategies = NULL;
	assert_int_equal(gen_plan_build(&plan, &f->wh, &f->p, &f->list, &opts, &err), 0);
	tags = find(&plan, "tags");
	assert_int_equal(tags->strategy, GEN_LATEST_ONLY);
	assert_int_equal(tags->file.action, GEN_UNCHANGED);
	assert_int_equal(gen_plan_count(&plan, GEN_UNCHANGED), 4);
	gen_plan_release(&plan);

	/* bad options and unknown sources are errors */
	strvec_clear(&per_table);
	strvec_push(&per_table, "tags=newest");
	opts.table_strategies = &per_table;
	assert_int_equal(gen_plan_build(&plan, &f->wh, &f->p, &f->list, &opts, &err), -1);
	assert_non_null(strstr(err.buf, "TABLE=STRATEGY"));
	gen_plan_release(&plan);
	strbuf_reset(&err);
	struct strvec names = STRVEC_INIT;
	strvec_push(&names, "nope");
	opts.table_strategies = NULL;
	opts.sources = &names;
	assert_int_equal(gen_plan_build(&plan, &f->wh, &f->p, &f->list, &opts, &err), -1);
	assert_non_null(strstr(err.buf, "no source named 'nope'"));
	gen_plan_release(&plan);

	strvec_clear(&names);
	strvec_clear(&per_table);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_names),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_markers_and_shapes),
		cmocka_unit_test_setup_teardown(test_keys_and_strategies, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
