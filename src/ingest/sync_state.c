/* Reading and changing a source's incremental state (see sync_state.h). */
#include "ingest/sync_state.h"
#include "ingest/load_pg.h"
#include "ingest/pg_dependents.h"
#include "ingest/sync.h"
#include "core/clock.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "warehouse/result.h"
#include "warehouse/warehouse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const history_sql =
	"CREATE SCHEMA IF NOT EXISTS _dango;\n"
	"CREATE TABLE IF NOT EXISTS _dango.state_history (source VARCHAR NOT NULL, resource VARCHAR, "
	"action VARCHAR NOT NULL, old_value VARCHAR, new_value VARCHAR, who VARCHAR, "
	"changed_at TIMESTAMP WITH TIME ZONE NOT NULL);\n";

static void table_ref(struct strbuf *sb, const char *schema, const char *table)
{
	strbuf_add_sql_ident(sb, schema);
	strbuf_addch(sb, '.');
	strbuf_add_sql_ident(sb, table);
}

/* A timestamp column as text, to the second (or the microsecond), in the
 * warehouse's SQL: DuckDB's strftime or PostgreSQL's to_char (the state
 * lives in the source's schema on either; see sync_state.h). */
static void add_time(struct strbuf *sb, struct warehouse *wh, const char *col, int precise)
{
	if (wh->pg)
		strbuf_addf(sb, "to_char(%s, 'YYYY-MM-DD HH24:MI:SS%s')", col, precise ? ".US" : "");
	else
		strbuf_addf(sb, "strftime(%s, '%%Y-%%m-%%d %%H:%%M:%%S%s')", col, precise ? ".%f" : "");
}

/* Each row of sql through fn. */
static int each_row(struct warehouse *wh, const char *sql, void (*fn)(struct wh_result *r, size_t i, void *data),
		    void *data, struct strbuf *err)
{
	struct wh_result r;
	if (warehouse_query(wh, sql, &r, err) < 0)
		return -1;
	for (size_t i = 0; i < r.rows; i++)
		fn(&r, i, data);
	wh_result_free(&r);
	return 0;
}

static void set_str(json_t *o, const char *key, char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
	free(v);
}

static json_t *resource_entry(json_t *list, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) if (!strcmp(json_string_value(json_object_get(e, "resource")), name)) return e;
	e = json_pack("{s:s, s:s}", "resource", name, "kind", "none");
	json_array_append_new(list, e);
	return e;
}

/* A cursor that is a date: as it is; epoch seconds: also as a date. */
static void add_date(json_t *e, const char *v)
{
	time_t t;
	char buf[32];
	if (!v)
		return;
	if (clock_parse_iso8601(v, &t) == 0) {
		json_object_set_new(e, "last_value_date", json_string(clock_format_utc(buf, t)));
		return;
	}
	/* 10 digits: seconds since the epoch of 2001-2286 */
	size_t n = strlen(v);
	int digits = n == 10;
	for (size_t i = 0; i < n && digits; i++)
		digits = isdigit((unsigned char)v[i]);
	if (digits)
		json_object_set_new(e, "last_value_date", json_string(clock_format_utc(buf, (time_t)strtoll(v, NULL, 10))));
}

static void state_row(struct wh_result *r, size_t i, void *data)
{
	json_t *list = data;
	char *name = wh_result_str(r, i, 0), *text = wh_result_str(r, i, 1);
	json_t *st = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
	if (name && json_is_object(st)) {
		json_t *e = resource_entry(list, name);
		const char *uk = json_string_value(json_object_get(st, "update_key"));
		const char *cur = json_string_value(json_object_get(st, "cursor"));
		if (uk) {
			json_object_set_new(e, "kind", json_string("update_key"));
			json_object_set_new(e, "update_key", json_string(uk));
			json_object_set(e, "stream", json_object_get(st, "stream"));
			json_object_set(e, "last_value", json_object_get(st, "value"));
			add_date(e, json_string_value(json_object_get(st, "value")));
		} else if (cur) {
			json_object_set_new(e, "kind", json_string("cursor"));
			json_object_set_new(e, "last_value", json_string(cur));
			add_date(e, cur);
			json_object_set(e, "first_value", json_object_get(st, "first"));
			json_t *b = json_object_get(st, "boundary");
			if (b) /* append resources: the keys at the cursor, for de-duplication */
				json_object_set(e, "boundary", b);
		}
		json_object_set_new(e, "state", json_incref(st));
		set_str(e, "last_load_id", wh_result_str(r, i, 2));
		set_str(e, "state_updated_at", wh_result_str(r, i, 3));
		/* to the microsecond: a sync in the same second as a change still moved it */
		set_str(e, "state_updated_precise", wh_result_str(r, i, 4));
	}
	json_decref(st);
	free(name);
	free(text);
}

static void resources_row(struct wh_result *r, size_t i, void *data)
{
	json_t *list = data;
	char *name = wh_result_str(r, i, 0), *pk = wh_result_str(r, i, 2);
	if (name) {
		json_t *e = resource_entry(list, name);
		set_str(e, "write_disposition", wh_result_str(r, i, 1));
		json_t *k = pk ? json_loads(pk, 0, NULL) : NULL;
		json_object_set_new(e, "primary_key", k ? k : json_array());
		if (!json_object_get(e, "last_load_id"))
			set_str(e, "last_load_id", wh_result_str(r, i, 3));
	}
	free(name);
	free(pk);
}

static void file_row(struct wh_result *r, size_t i, void *data)
{
	json_t *list = data;
	char *table = wh_result_str(r, i, 7);
	json_t *e = resource_entry(list, table ? table : "(files)");
	json_t *files = json_object_get(e, "files");
	if (!files) {
		files = json_array();
		json_object_set_new(e, "files", files);
		if (!strcmp(json_string_value(json_object_get(e, "kind")), "none"))
			json_object_set_new(e, "kind", json_string("files"));
	}
	json_t *f = json_object();
	set_str(f, "path", wh_result_str(r, i, 0));
	json_object_set_new(f, "size", json_integer(wh_result_int(r, i, 1)));
	set_str(f, "mtime", wh_result_str(r, i, 2));
	set_str(f, "hash", wh_result_str(r, i, 3));
	json_object_set_new(f, "rows", json_integer(wh_result_int(r, i, 4)));
	set_str(f, "status", wh_result_str(r, i, 5));
	set_str(f, "load_id", wh_result_str(r, i, 6));
	json_array_append_new(files, f);
	/* the table's last load: the newest of its files' */
	const char *lid = json_string_value(json_object_get(f, "load_id"));
	const char *cur = json_string_value(json_object_get(e, "last_load_id"));
	if (lid && (!cur || strcmp(lid, cur) > 0))
		json_object_set_new(e, "last_load_id", json_string(lid));
	free(table);
}

static int by_name(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return strcmp(json_string_value(json_object_get(*x, "resource")), json_string_value(json_object_get(*y, "resource")));
}

static void sort_resources(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof(*v), by_name);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
}

/* Rows, the last load's time and the latest recorded change of each resource. */
static int add_details(struct warehouse *wh, const char *source, const char *schema, json_t *list, struct strbuf *err)
{
	size_t i;
	json_t *e;
	struct strbuf sql = STRBUF_INIT;
	int have_loads = warehouse_has_table(wh, schema, "_dlt_loads");
	int have_hist = warehouse_has_table(wh, "_dango", "state_history");
	int ret = 0;
	json_array_foreach(list, i, e) {
		const char *name = json_string_value(json_object_get(e, "resource"));
		const char *lid = json_string_value(json_object_get(e, "last_load_id"));
		struct wh_result r;
		if (warehouse_has_table(wh, schema, name))
			json_object_set_new(e, "rows", json_integer(warehouse_count_rows(wh, schema, name)));
		if (have_loads && lid) {
			strbuf_reset(&sql);
			strbuf_addstr(&sql, "SELECT ");
			add_time(&sql, wh, "inserted_at", 0);
			strbuf_addstr(&sql, " FROM ");
			table_ref(&sql, schema, "_dlt_loads");
			strbuf_addstr(&sql, " WHERE load_id = ");
			strbuf_add_sql_str(&sql, lid);
			if (warehouse_query(wh, sql.buf, &r, err) < 0) {
				ret = -1;
				break;
			}
			if (r.rows)
				set_str(e, "last_load_at", wh_result_str(&r, 0, 0));
			wh_result_free(&r);
		}
		if (!have_hist)
			continue;
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "SELECT action, old_value, new_value, who, ");
		add_time(&sql, wh, "changed_at", 0);
		strbuf_addstr(&sql, ", ");
		add_time(&sql, wh, "changed_at", 1);
		strbuf_addstr(&sql, " FROM _dango.state_history WHERE source = ");
		strbuf_add_sql_str(&sql, source);
		strbuf_addstr(&sql, " AND (resource IS NULL OR resource = ");
		strbuf_add_sql_str(&sql, name);
		strbuf_addstr(&sql, ") ORDER BY changed_at DESC LIMIT 1");
		if (warehouse_query(wh, sql.buf, &r, err) < 0) {
			ret = -1;
			break;
		}
		if (r.rows) {
			json_t *c = json_object();
			set_str(c, "action", wh_result_str(&r, 0, 0));
			set_str(c, "old_value", wh_result_str(&r, 0, 1));
			set_str(c, "new_value", wh_result_str(&r, 0, 2));
			set_str(c, "who", wh_result_str(&r, 0, 3));
			set_str(c, "at", wh_result_str(&r, 0, 4));
			set_str(c, "at_precise", wh_result_str(&r, 0, 5));
			json_object_set_new(e, "last_change", c);
		}
		wh_result_free(&r);
	}
	strbuf_release(&sql);
	return ret;
}

json_t *sync_state_describe(struct warehouse *wh, const char *source, struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT;
	json_t *list = json_array(), *out = NULL;
	sync_schema_name(&schema, source);
	if (warehouse_has_table(wh, schema.buf, "_dango_state")) {
		strbuf_addstr(&sql, "SELECT resource, state::VARCHAR, load_id, ");
		add_time(&sql, wh, "updated_at", 0);
		strbuf_addstr(&sql, ", ");
		add_time(&sql, wh, "updated_at", 1);
		strbuf_addstr(&sql, " FROM ");
		table_ref(&sql, schema.buf, "_dango_state");
		if (each_row(wh, sql.buf, state_row, list, err) < 0)
			goto out;
	}
	if (warehouse_has_table(wh, schema.buf, "_dango_resources")) {
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "SELECT resource, write_disposition, primary_key::VARCHAR, load_id FROM ");
		table_ref(&sql, schema.buf, "_dango_resources");
		if (each_row(wh, sql.buf, resources_row, list, err) < 0)
			goto out;
	}
	if (warehouse_has_table(wh, schema.buf, "_dango_file_metadata")) {
		strbuf_reset(&sql);
		strbuf_addstr(&sql, "SELECT path, size, ");
		add_time(&sql, wh, "mtime", 0);
		strbuf_addstr(&sql, ", content_hash, rows, status, load_id, table_name FROM ");
		table_ref(&sql, schema.buf, "_dango_file_metadata");
		strbuf_addstr(&sql, " ORDER BY path");
		if (each_row(wh, sql.buf, file_row, list, err) < 0)
			goto out;
	}
	sort_resources(list);
	if (add_details(wh, source, schema.buf, list, err) < 0)
		goto out;
	out = json_pack("{s:s, s:O}", "source", source, "resources", list);
out:
	json_decref(list);
	strbuf_release(&schema);
	strbuf_release(&sql);
	return out;
}

json_t *sync_state_find(json_t *desc, const char *resource)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(desc, "resources"), i, e) if (!strcmp(
		json_string_value(json_object_get(e, "resource")), resource)) return e;
	return NULL;
}

static int has_cursor(json_t *res)
{
	const char *k = json_string_value(json_object_get(res, "kind"));
	return k && (!strcmp(k, "cursor") || !strcmp(k, "update_key"));
}

void sync_state_names(json_t *desc, int cursor_only, struct strbuf *sb)
{
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(json_object_get(desc, "resources"), i, e) {
		if (cursor_only && !has_cursor(e))
			continue;
		strbuf_addf(sb, "%s%s", n++ ? ", " : "", json_string_value(json_object_get(e, "resource")));
	}
	if (!n)
		strbuf_addstr(sb, "none");
}

/* ---- values ---- */

enum vkind { V_INTEGER, V_NUMBER, V_TIME, V_TEXT };

static int is_integer(const char *s)
{
	int64_t v;
	return parse_int64(s, &v) == 0;
}

static int is_number(const char *s)
{
	char *end;
	if (!*s)
		return 0;
	strtod(s, &end);
	return *end == '\0';
}

static int looks_like_time(const char *s)
{
	return strlen(s) >= 10 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[3]) && s[4] == '-' &&
	       isdigit((unsigned char)s[5]) && s[7] == '-';
}

/* The kind of a loaded column's DuckDB type; -1 if unknown. */
static int column_kind(const char *type)
{
	static const char *const ints[] = { "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
					    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", NULL };
	for (size_t i = 0; ints[i]; i++)
		if (!strcmp(type, ints[i]))
			return V_INTEGER;
	if (starts_with(type, "DECIMAL") || !strcmp(type, "DOUBLE") || !strcmp(type, "FLOAT"))
		return V_NUMBER;
	if (!strcmp(type, "DATE") || starts_with(type, "TIMESTAMP"))
		return V_TIME;
	if (!strcmp(type, "VARCHAR"))
		return V_TEXT;
	return -1;
}

static int value_kind(struct warehouse *wh, const char *source, json_t *res, char **type_name)
{
	const char *uk = json_string_value(json_object_get(res, "update_key"));
	const char *old = json_string_value(json_object_get(res, "last_value"));
	int k = -1;
	*type_name = NULL;
	if (uk) {
		struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT, col = STRBUF_INIT, e = STRBUF_INIT;
		struct wh_result r;
		sync_schema_name(&schema, source);
		sync_column_name(&col, uk);
		strbuf_addstr(&sql, "SELECT data_type FROM information_schema.columns WHERE table_schema = ");
		strbuf_add_sql_str(&sql, schema.buf);
		strbuf_addstr(&sql, " AND table_name = ");
		strbuf_add_sql_str(&sql, json_string_value(json_object_get(res, "resource")));
		strbuf_addstr(&sql, " AND column_name = ");
		strbuf_add_sql_str(&sql, col.buf);
		if (warehouse_query(wh, sql.buf, &r, &e) == 0) {
			if (r.rows)
				*type_name = wh_result_str(&r, 0, 0);
			if (*type_name && wh->pg) { /* PostgreSQL's name of the type: DuckDB's, as the stage reads it */
				struct strbuf t = STRBUF_INIT;
				pg_load_duck_type(&t, *type_name);
				free(*type_name);
				*type_name = strbuf_detach(&t, NULL);
			}
			k = *type_name ? column_kind(*type_name) : -1;
			wh_result_free(&r);
		}
		strbuf_release(&schema);
		strbuf_release(&sql);
		strbuf_release(&col);
		strbuf_release(&e);
	}
	if (k < 0 && old)
		k = is_integer(old) ? V_INTEGER : is_number(old) ? V_NUMBER : looks_like_time(old) ? V_TIME : V_TEXT;
	return k < 0 ? V_TEXT : k;
}

/* A date or timestamp DuckDB reads (with a time zone or without): the
 * sync engine reads the cursor in DuckDB on either warehouse (on a
 * postgres one, in its stage), so an in-memory DuckDB judges it there. */
static int valid_time(struct warehouse *wh, const char *v)
{
	struct strbuf sql = STRBUF_INIT, e = STRBUF_INIT;
	struct warehouse mem;
	int64_t ok = 0;
	int own = 0;
	if (!looks_like_time(v))
		return 0;
	if (wh->pg) {
		if (warehouse_open(&mem, ":memory:", WH_READ_WRITE, &e) < 0)
			goto out;
		wh = &mem;
		own = 1;
	}
	strbuf_addstr(&sql, "SELECT TRY_CAST(");
	strbuf_add_sql_str(&sql, v);
	strbuf_addstr(&sql, " AS TIMESTAMPTZ) IS NOT NULL");
	if (warehouse_query_int(wh, sql.buf, &ok, &e) < 0)
		ok = 0;
	if (own)
		warehouse_close(&mem);
out:
	strbuf_release(&sql);
	strbuf_release(&e);
	return ok != 0;
}

int sync_state_check_value(struct warehouse *wh, const char *source, json_t *res, const char *value,
			   struct strbuf *err)
{
	char *type = NULL;
	int k = value_kind(wh, source, res, &type), ok = 1;
	const char *name = json_string_value(json_object_get(res, "resource"));
	const char *uk = json_string_value(json_object_get(res, "update_key"));
	const char *what = NULL;
	switch (k) {
	case V_INTEGER:
		ok = is_integer(value);
		what = "an integer, such as 42";
		break;
	case V_NUMBER:
		ok = is_number(value);
		what = "a number, such as 42 or 4.5";
		break;
	case V_TIME:
		ok = valid_time(wh, value);
		what = "a date or timestamp, such as 2024-01-15 or 2024-01-15T10:30:00Z";
		break;
	default:
		ok = *value != '\0';
		what = "a value that is not empty";
	}
	if (!ok) {
		strbuf_addf(err, "'%s' is not a valid cursor for %s", value, name);
		if (uk)
			strbuf_addf(err, " (update key %s%s%s%s)", uk, type ? ", " : "", type ? type : "", "");
		strbuf_addf(err, ": give %s", what);
	}
	free(type);
	return ok ? 0 : -1;
}

/* ---- changes ---- */

static void history_row(struct strbuf *sql, const char *source, const char *resource, const char *action,
			const char *old, const char *new_value, const char *who)
{
	char now[40];
	strbuf_addstr(sql, "INSERT INTO _dango.state_history VALUES (");
	strbuf_add_sql_str(sql, source);
	strbuf_addstr(sql, ", ");
	if (resource)
		strbuf_add_sql_str(sql, resource);
	else
		strbuf_addstr(sql, "NULL");
	strbuf_addstr(sql, ", ");
	strbuf_add_sql_str(sql, action);
	strbuf_addstr(sql, ", ");
	if (old)
		strbuf_add_sql_str(sql, old);
	else
		strbuf_addstr(sql, "NULL");
	strbuf_addstr(sql, ", ");
	if (new_value)
		strbuf_add_sql_str(sql, new_value);
	else
		strbuf_addstr(sql, "NULL");
	strbuf_addstr(sql, ", ");
	strbuf_add_sql_str(sql, who);
	strbuf_addf(sql, ", TIMESTAMPTZ '%s');\n", clock_format_utc_usec(now, clock_now()));
}

static int run_in_transaction(struct warehouse *wh, const char *sql, struct strbuf *err)
{
	if (warehouse_begin(wh, err) < 0)
		return -1;
	if (warehouse_exec(wh, sql, err) < 0 || warehouse_commit(wh, err) < 0) {
		warehouse_rollback(wh);
		return -1;
	}
	return 0;
}

int sync_state_set(struct warehouse *wh, const char *source, json_t *res, const char *value, const char *who,
		   struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT;
	const char *name = json_string_value(json_object_get(res, "resource"));
	const char *old = json_string_value(json_object_get(res, "last_value"));
	json_t *st = json_deep_copy(json_object_get(res, "state"));
	int ret;
	if (!has_cursor(res) || !st) {
		strbuf_addf(err, "resource '%s' of source '%s' keeps no cursor", name, source);
		json_decref(st);
		return -1;
	}
	if (json_object_get(st, "update_key")) {
		json_object_set_new(st, "value", json_string(value));
	} else {
		json_object_set_new(st, "cursor", json_string(value));
		/* the keys kept at the old cursor do not describe the new one */
		json_object_del(st, "boundary");
	}
	char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	sync_schema_name(&schema, source);
	strbuf_addstr(&sql, history_sql);
	strbuf_addstr(&sql, "UPDATE ");
	table_ref(&sql, schema.buf, "_dango_state");
	strbuf_addstr(&sql, " SET state = ");
	strbuf_add_sql_str(&sql, text);
	{ char now[32]; strbuf_addf(&sql, ", updated_at = TIMESTAMPTZ '%s' WHERE resource = ", clock_format_utc(now, clock_now_sec())); }
	strbuf_add_sql_str(&sql, name);
	strbuf_addstr(&sql, ";\n");
	history_row(&sql, source, name, "set", old, value, who);
	ret = run_in_transaction(wh, sql.buf, err);
	free(text);
	json_decref(st);
	strbuf_release(&schema);
	strbuf_release(&sql);
	return ret;
}

static void reset_one(struct strbuf *sql, const char *schema, json_t *res, int drop_data, int kept)
{
	const char *name = json_string_value(json_object_get(res, "resource"));
	strbuf_addstr(sql, "DELETE FROM ");
	table_ref(sql, schema, "_dango_state");
	strbuf_addstr(sql, " WHERE resource = ");
	strbuf_add_sql_str(sql, name);
	strbuf_addstr(sql, ";\n");
	if (json_object_get(res, "files")) {
		/* files the next sync reloads, each replacing its own rows */
		strbuf_addstr(sql, drop_data ? "DELETE FROM " : "UPDATE ");
		table_ref(sql, schema, "_dango_file_metadata");
		if (!drop_data)
			strbuf_addstr(sql, " SET size = -1, content_hash = '', mtime_ns = NULL, ctime_ns = NULL, "
					   "status = 'reset'");
		strbuf_addstr(sql, " WHERE (table_name = ");
		strbuf_add_sql_str(sql, name);
		strbuf_addf(sql, "%s)%s;\n", !strcmp(name, "(files)") ? " OR table_name IS NULL" : "",
			    drop_data ? "" : " AND status <> 'deleted'");
	}
	if (drop_data) {
		if (!kept) { /* else already emptied, under its views */
			strbuf_addstr(sql, "DROP TABLE IF EXISTS ");
			table_ref(sql, schema, name);
			strbuf_addstr(sql, ";\n");
		}
		strbuf_addstr(sql, "DELETE FROM ");
		table_ref(sql, schema, "_dango_resources");
		strbuf_addstr(sql, " WHERE resource = ");
		strbuf_add_sql_str(sql, name);
		strbuf_addstr(sql, ";\n");
	}
}

/* --drop-data on a postgres warehouse, when views read the table: the
 * server refuses to drop it under them (DuckDB does not bind views to
 * tables). As a full refresh does, the views are set aside and rebuilt,
 * here on an empty table with the old one's columns that takes its place
 * (the next sync loads it), in the reset's transaction. 1 and a line for
 * kept ("raw_x.t: view, view") when views were kept, 0 when none read it,
 * -1 with err (roll back). */
static int keep_views(struct warehouse *wh, const char *source, const char *schema, const char *table,
		      struct strvec *kept, struct strbuf *err)
{
	struct pg_dependents d = PG_DEPENDENTS_INIT;
	struct strbuf sql = STRBUF_INIT, tmp = STRBUF_INIT, line = STRBUF_INIT;
	int ret = -1;
	if (!warehouse_has_table(wh, schema, table))
		return 0;
	if (pg_dependents_detach(wh->pg, schema, table, &d, err) < 0)
		goto out;
	if (!d.nr) {
		ret = 0;
		goto out;
	}
	table_ref(&tmp, schema, "_dango_reset_empty");
	strbuf_addf(&sql, "CREATE TABLE %s (LIKE ", tmp.buf);
	table_ref(&sql, schema, table);
	strbuf_addstr(&sql, "); DROP TABLE ");
	table_ref(&sql, schema, table);
	strbuf_addf(&sql, "; ALTER TABLE %s RENAME TO ", tmp.buf);
	strbuf_add_sql_ident(&sql, table);
	if (warehouse_exec(wh, sql.buf, err) < 0 || pg_dependents_restore(wh->pg, &d, source, err) < 0)
		goto out;
	strbuf_addf(&line, "%s:", d.table);
	for (size_t i = 0; i < d.views.nr; i++) { /* several statements a view, in order */
		if (i && !strcmp(d.views.v[i], d.views.v[i - 1]))
			continue;
		strbuf_addf(&line, "%s %s", i ? "," : "", d.views.v[i]);
		/* rebuilt on the empty table, it keeps no rows past the next sync */
		if (starts_with(d.sql.v[i], "CREATE MATERIALIZED VIEW"))
			strbuf_addstr(&line, " (materialized: no rows until REFRESH MATERIALIZED VIEW)");
	}
	strvec_push(kept, line.buf);
	ret = 1;
out:
	pg_dependents_release(&d);
	strbuf_release(&sql);
	strbuf_release(&tmp);
	strbuf_release(&line);
	return ret;
}

int sync_state_reset(struct warehouse *wh, const char *source, json_t *desc, json_t *res, int drop_data,
		     const char *who, struct strvec *kept, struct strbuf *err)
{
	struct strbuf schema = STRBUF_INIT, sql = STRBUF_INIT;
	size_t i;
	json_t *e;
	int ret = -1;
	sync_schema_name(&schema, source);
	if (warehouse_begin(wh, err) < 0)
		goto out;
	strbuf_addstr(&sql, history_sql);
	json_array_foreach(json_object_get(desc, "resources"), i, e) {
		if (res && e != res)
			continue;
		const char *name = json_string_value(json_object_get(e, "resource"));
		int k = drop_data && wh->pg ? keep_views(wh, source, schema.buf, name, kept, err) : 0;
		if (k < 0) {
			warehouse_rollback(wh);
			goto out;
		}
		reset_one(&sql, schema.buf, e, drop_data, k);
		json_t *st = json_object_get(e, "state");
		char *old = st ? json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		const char *lv = json_string_value(json_object_get(e, "last_value"));
		history_row(&sql, source, name, drop_data ? "reset --drop-data" : "reset", lv ? lv : old, NULL, who);
		free(old);
	}
	if (warehouse_exec(wh, sql.buf, err) < 0 || warehouse_commit(wh, err) < 0) {
		warehouse_rollback(wh);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&schema);
	strbuf_release(&sql);
	return ret;
}

void sync_state_start_line(json_t *res, struct strbuf *sb)
{
	const char *name = json_string_value(json_object_get(res, "resource"));
	const char *kind = json_string_value(json_object_get(res, "kind"));
	const char *v = json_string_value(json_object_get(res, "last_value"));
	json_t *files = json_object_get(res, "files");
	strbuf_addf(sb, "%s: ", name);
	if (!strcmp(kind, "update_key"))
		strbuf_addf(sb, "starts from %s %s %s", json_string_value(json_object_get(res, "update_key")),
			    json_array_size(json_object_get(res, "primary_key")) ? ">=" : ">", v);
	else if (!strcmp(kind, "cursor"))
		strbuf_addf(sb, "starts from cursor %s", v);
	else if (files)
		strbuf_addf(sb, "%zu tracked file%s (new and changed ones are read)", json_array_size(files),
			    json_array_size(files) == 1 ? "" : "s");
	else
		strbuf_addstr(sb, "no stored state (reads everything)");
	const char *d = json_string_value(json_object_get(res, "last_value_date"));
	if (d && v && strcmp(d, v) && !looks_like_time(v))
		strbuf_addf(sb, " (%s)", d);
	json_t *c = json_object_get(res, "last_change");
	if (c && has_cursor(res))
		strbuf_addf(sb, "; %s by %s at %s", json_string_value(json_object_get(c, "action")),
			    json_string_value(json_object_get(c, "who")), json_string_value(json_object_get(c, "at")));
}
