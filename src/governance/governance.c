#include "governance/governance.h"
#include "core/clock.h"
#include "core/env.h"
#include "core/strbuf.h"
#include "core/strvec.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "state/opsdb.h"
#include "transform/dbt.h"
#include "warehouse/warehouse.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the read API ------------------------------------------------------------------ */

int governance_read_drift(const char *state_dir, const char *source, int all, struct drift_events *out,
			  struct strbuf *err)
{
	sqlite3 *db;
	if (opsdb_open_readonly(state_dir, &db, err) < 0)
		return err->len ? -1 : 0; /* no ops-db yet: nothing recorded */
	int ret = drift_read_events(db, source, all, out, err);
	opsdb_close(db);
	return ret;
}

int governance_blocked_sources(const char *state_dir, struct strvec *out, struct strbuf *err)
{
	struct drift_events ev = DRIFT_EVENTS_INIT;
	if (governance_read_drift(state_dir, NULL, 0, &ev, err) < 0)
		return -1;
	/* events come ordered by source */
	for (size_t i = 0; i < ev.nr; i++)
		if (ev.v[i].breaking && !strvec_has(out, ev.v[i].source))
			strvec_push(out, ev.v[i].source);
	drift_events_release(&ev);
	return 0;
}

void governance_user(struct strbuf *sb)
{
	const char *u = getenv("USER");
	if (u && *u) {
		strbuf_addstr(sb, u);
		return;
	}
	struct passwd *pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		strbuf_addstr(sb, pw->pw_name);
	else
		strbuf_addf(sb, "uid %ld", (long)getuid());
}

int governance_accept(const char *state_dir, const char *source, const char *table, const char *who, int *nr,
		      struct strbuf *err)
{
	struct strbuf user = STRBUF_INIT;
	char at[32];
	sqlite3 *db;
	*nr = 0;
	if (opsdb_open(state_dir, &db, err) < 0)
		return -1;
	if (!who)
		governance_user(&user);
	clock_format_utc(at, clock_now_sec());
	int ret = drift_accept(db, source, table, who ? who : user.buf, at, nr, err);
	opsdb_close(db);
	strbuf_release(&user);
	return ret;
}

/* ---- the post-sync hook ------------------------------------------------------------- */

/* The observed columns with the types the raw tables have now, grouped
 * by table in the tables' column order. */
static int observed_schema(struct warehouse *wh, const char *source, const json_t *observed, struct drift_schema *out,
			   struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT, schema = STRBUF_INIT;
	struct wh_result r;
	strbuf_addf(&schema, "raw_%s", source);
	strbuf_addstr(&sql, "SELECT table_name, column_name, data_type FROM information_schema.columns "
			    "WHERE table_catalog = current_database() AND table_schema = ");
	strbuf_add_sql_str(&sql, schema.buf);
	strbuf_addstr(&sql, " ORDER BY table_name, ordinal_position");
	int ret = warehouse_query(wh, sql.buf, &r, err);
	strbuf_release(&sql);
	strbuf_release(&schema);
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < r.rows; i++) {
		char *t = wh_result_str(&r, i, 0), *c = wh_result_str(&r, i, 1), *ty = wh_result_str(&r, i, 2);
		const json_t *cols = t ? json_object_get(observed, t) : NULL;
		if (cols && c && json_object_get(cols, c))
			drift_schema_add(out, t, c, ty);
		free(t);
		free(c);
		free(ty);
	}
	wh_result_free(&r);
	return 0;
}

static int by_table_column(const void *a, const void *b)
{
	const struct drift_event *x = a, *y = b;
	int c = strcmp(x->table, y->table);
	return c ? c : strcmp(x->column, y->column);
}

static void describe_additive(struct strbuf *sb, const struct drift_events *ev, const char *load_id)
{
	for (size_t i = 0; i < ev->nr; i++) {
		const struct drift_event *e = &ev->v[i];
		if (e->breaking || !e->load_id || strcmp(e->load_id, load_id))
			continue;
		strbuf_addf(sb, "%s%s.%s (%s)", sb->len ? ", " : "", e->table, e->column, e->new_type);
	}
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static char *webhook_body(const struct project *p, const char *source, const char *load_id, const char *at,
			  const struct drift_events *ev)
{
	json_t *events = json_array();
	int breaking = 0;
	for (size_t i = 0; i < ev->nr; i++) {
		const struct drift_event *e = &ev->v[i];
		json_t *o = json_object();
		json_object_set_new(o, "table", jstr(e->table));
		json_object_set_new(o, "column", jstr(e->column));
		json_object_set_new(o, "change", jstr(e->kind));
		json_object_set_new(o, "old_type", jstr(e->old_type));
		json_object_set_new(o, "new_type", jstr(e->new_type));
		json_object_set_new(o, "breaking", json_boolean(e->breaking));
		json_object_set_new(o, "new", json_boolean(e->load_id && !strcmp(e->load_id, load_id)));
		json_object_set_new(o, "first_seen", jstr(e->first_seen));
		json_object_set_new(o, "first_load_id", jstr(e->load_id));
		json_object_set_new(o, "status", jstr(e->status));
		json_array_append_new(events, o);
		breaking |= e->breaking;
	}
	struct strbuf review = STRBUF_INIT, accept = STRBUF_INIT;
	strbuf_addf(&review, "dango governance drift-report %s", source);
	strbuf_addf(&accept, "dango governance accept %s", source);
	json_t *root = json_object();
	json_object_set_new(root, "event", json_string("schema_drift"));
	json_object_set_new(root, "project", jstr(p->name));
	json_object_set_new(root, "source", json_string(source));
	json_object_set_new(root, "load_id", json_string(load_id));
	json_object_set_new(root, "detected_at", json_string(at));
	json_object_set_new(root, "breaking", json_boolean(breaking));
	json_object_set_new(root, "events", events);
	json_object_set_new(root, "review", json_string(review.buf));
	json_object_set_new(root, "accept", json_string(accept.buf));
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	strbuf_release(&review);
	strbuf_release(&accept);
	return text;
}

static const char deliveries_sql[] =
	"CREATE TABLE IF NOT EXISTS drift_deliveries (id INTEGER PRIMARY KEY, source TEXT NOT NULL, load_id TEXT, "
	"at TEXT NOT NULL, ok INTEGER NOT NULL, error TEXT);";

/* The webhook, when project.yml names one: a failure is a warning and a
 * row in drift_deliveries, never a failed sync. */
static void deliver(const struct project *p, sqlite3 *db, const char *source, const char *load_id, const char *at,
		    const struct drift_events *ev, struct strvec *warnings)
{
	const char *var = p->governance_webhook_env;
	struct strbuf e = STRBUF_INIT;
	if (!var)
		return;
	const char *url = env_lookup(&p->env, var, NULL);
	if (!url || !*url) {
		strbuf_addf(&e, "%s (governance.webhook_url_env) is not set", var);
	} else {
		char *body = webhook_body(p, source, load_id, at, ev);
		governance_post_json(url, body, &e);
		free(body);
	}
	if (e.len)
		strvec_pushf(warnings, "schema drift webhook (%s) not delivered: %s", var, e.buf);
	struct strbuf ignored = STRBUF_INIT;
	if (opsdb_ensure(db, "drift", deliveries_sql, &ignored) == 0) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "INSERT INTO drift_deliveries (source, load_id, at, ok, error) VALUES (?1, ?2, ?3, ?4, ?5)",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, source, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, load_id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, at, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 4, e.len == 0);
			if (e.len)
				sqlite3_bind_text(st, 5, e.buf, -1, SQLITE_TRANSIENT);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	strbuf_release(&ignored);
	strbuf_release(&e);
}

int governance_after_sync(const struct project *p, struct warehouse *wh, const char *source, const char *load_id,
			  const json_t *observed, struct strvec *warnings, struct strbuf *err)
{
	struct drift_schema obs = DRIFT_SCHEMA_INIT;
	struct drift_events found = DRIFT_EVENTS_INIT;
	sqlite3 *db = NULL;
	char at[32];
	int ret = -1;
	if (!observed || !json_object_size(observed))
		return 0;
	if (observed_schema(wh, source, observed, &obs, err) < 0)
		goto out;
	if (!obs.nr) {
		ret = 0;
		goto out;
	}
	clock_format_utc(at, clock_now_sec());
	if (opsdb_open(p->state_dir, &db, err) < 0 || drift_record_sync(db, source, load_id, at, &obs, &found, err) < 0)
		goto out;
	/* in the order every report uses */
	if (found.nr)
		qsort(found.v, found.nr, sizeof(found.v[0]), by_table_column);
	struct strbuf sb = STRBUF_INIT;
	drift_describe_breaking(&sb, &found, NULL);
	if (sb.len)
		strvec_pushf(warnings,
			     "breaking schema drift in raw_%s: %s. dbt models downstream of %s are skipped until it is "
			     "accepted. Review: dango governance drift-report %s. Accept: dango governance accept %s",
			     source, sb.buf, source, source, source);
	strbuf_reset(&sb);
	describe_additive(&sb, &found, load_id);
	if (sb.len)
		strvec_pushf(warnings, "new %s in raw_%s: %s (recorded; nothing is blocked)",
			     strchr(sb.buf, ',') ? "columns" : "column", source, sb.buf);
	strbuf_release(&sb);
	int fresh = 0;
	for (size_t i = 0; i < found.nr; i++)
		fresh |= found.v[i].load_id && !strcmp(found.v[i].load_id, load_id);
	if (fresh)
		deliver(p, db, source, load_id, at, &found, warnings);
	ret = 0;
out:
	opsdb_close(db);
	drift_schema_release(&obs);
	drift_events_release(&found);
	return ret;
}

/* ---- impact on the dbt project ------------------------------------------------------ */

static int reads_source(const struct dbt_node *n, const char *source)
{
	if (n->kind != NODE_SOURCE)
		return 0;
	if (n->schema)
		return !strncmp(n->schema, "raw_", 4) && !strcmp(n->schema + 4, source);
	return n->source_name && !strcmp(n->source_name, source);
}

void governance_source_nodes(const struct dbt_project *dp, const char *source, struct strvec *ids)
{
	for (size_t i = 0; i < dp->nr; i++)
		if (reads_source(dp->nodes[i], source))
			strvec_push(ids, dp->nodes[i]->unique_id);
}

void governance_downstream_models(const struct dbt_project *dp, const char *source, int selected_only,
				  struct strvec *names)
{
	unsigned char *down = xcalloc(dp->nr + 1, 1);
	size_t *stack = xcalloc(dp->nr + 1, sizeof(*stack)), top = 0;
	for (size_t i = 0; i < dp->nr; i++)
		if (reads_source(dp->nodes[i], source)) {
			down[i] = 1;
			stack[top++] = i;
		}
	while (top) {
		const struct dbt_node *n = dp->nodes[stack[--top]];
		for (size_t c = 0; c < n->nchildren; c++)
			if (!down[n->children[c]]) {
				down[n->children[c]] = 1;
				stack[top++] = n->children[c];
			}
	}
	for (size_t i = 0; i < dp->nr; i++) {
		const struct dbt_node *n = dp->nodes[i];
		/* a selected ephemeral model is not built (so not skipped either) */
		if (down[i] && n->kind == NODE_MODEL && n->enabled &&
		    (!selected_only || (n->selected && n->mat != MAT_EPHEMERAL)))
			strvec_push(names, n->name);
	}
	free(down);
	free(stack);
}

void governance_skip_reason(struct strbuf *sb, const char *source, const struct drift_events *ev)
{
	strbuf_addf(sb, "downstream of %s: breaking schema drift (", source);
	drift_describe_breaking(sb, ev, source);
	strbuf_addf(sb, "). Review: dango governance drift-report %s. Accept: dango governance accept %s", source,
		    source);
}

void governance_skip_line(struct strbuf *sb, const char *source, size_t nr_models, const struct drift_events *ev)
{
	strbuf_addf(sb, "skipping %zu %s ", nr_models, nr_models == 1 ? "model" : "models");
	governance_skip_reason(sb, source, ev);
}
