/* dbt's artifacts, in the shape tools read: target/manifest.json (nodes,
 * sources, parent and child maps), target/run_results.json, and the SQL of
 * each node under target/compiled/ and target/run/. */
#include "transform/dbt.h"
#include "core/fs.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "version.h"
#include "warehouse/warehouse.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static void iso_time(char *buf, size_t size, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06dZ", (int)((t - (double)s) * 1e6));
}

static json_t *metadata(struct dbt_project *p, const char *schema)
{
	char now[40];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	iso_time(now, sizeof(now), (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	json_t *m = json_object();
	json_object_set_new(m, "dbt_schema_version", json_string(schema));
	json_object_set_new(m, "dbt_version", json_string("1.7.0"));
	json_object_set_new(m, "dango_version", json_string(DANGO_VERSION));
	json_object_set_new(m, "generated_at", json_string(now));
	json_object_set_new(m, "adapter_type", json_string(p->target.type ? p->target.type : "duckdb"));
	json_object_set_new(m, "project_name", json_string(p->name));
	json_object_set_new(m, "env", json_object());
	return m;
}

static json_t *strings(const struct strvec *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sv->nr; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

/* a version as the YAML wrote it: 2 is a number, "beta" a string */
static json_t *version_json(const char *v)
{
	if (!v)
		return json_null();
	char *end;
	long long i = strtoll(v, &end, 10);
	if (*v && !*end)
		return json_integer(i);
	double d = strtod(v, &end);
	if (*v && !*end)
		return json_real(d);
	return json_string(v);
}

/* refs as dbt lists them: name, package, version ("m@v2" is m, version 2) */
static json_t *refs_json(const struct dbt_node *n)
{
	json_t *refs = json_array();
	for (size_t i = 0; i < n->refs.nr; i++) {
		const char *r = n->refs.v[i], *at = strstr(r, "@v"), *dot = strchr(r, '.');
		if (strchr(r, ':'))
			continue; /* metric:x, measure:x */
		json_t *o = json_object();
		const char *name = dot && (!at || dot < at) ? dot + 1 : r;
		size_t len = at ? (size_t)(at - name) : strlen(name);
		char *nm = xstrndup(name, len);
		json_object_set_new(o, "name", json_string(nm));
		free(nm);
		if (dot && (!at || dot < at)) {
			char *pkg = xstrndup(r, (size_t)(dot - r));
			json_object_set_new(o, "package", json_string(pkg));
			free(pkg);
		} else {
			json_object_set_new(o, "package", json_null());
		}
		json_object_set_new(o, "version", version_json(at ? at + 2 : NULL));
		json_array_append_new(refs, o);
	}
	return refs;
}

static json_t *sources_json(const struct dbt_node *n)
{
	json_t *srcs = json_array();
	for (size_t i = 0; i < n->sources.nr; i++) {
		json_t *pair = json_array();
		const char *dot = strchr(n->sources.v[i], '.');
		char *src = xstrndup(n->sources.v[i], dot ? (size_t)(dot - n->sources.v[i]) : 0);
		json_array_append_new(pair, json_string(src));
		json_array_append_new(pair, json_string(dot ? dot + 1 : n->sources.v[i]));
		free(src);
		json_array_append_new(srcs, pair);
	}
	return srcs;
}

static json_t *depends_json(struct dbt_project *p, const struct dbt_node *n)
{
	json_t *dep = json_object(), *deps = json_array(), *macros = json_array();
	for (size_t i = 0; i < n->nparents; i++)
		json_array_append_new(deps, json_string(p->nodes[n->parents[i]]->unique_id));
	struct strvec used = STRVEC_INIT;
	dbt_node_macros(p, n, &used);
	for (size_t i = 0; i < used.nr; i++) {
		char *uid = xasprintf("macro.%s.%s", p->name, used.v[i]);
		json_array_append_new(macros, json_string(uid));
		free(uid);
	}
	strvec_clear(&used);
	json_object_set_new(dep, "macros", macros);
	json_object_set_new(dep, "nodes", deps);
	return dep;
}

/* An exposure, metric, semantic model or saved query: its YAML entry's
 * properties (type, owner, label, measures...), with dbt's common keys */
static json_t *semantic_json(struct dbt_project *p, struct dbt_node *n)
{
	json_t *o = dbt_jval_to_json(n->props);
	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_set_new(o, "unique_id", json_string(n->unique_id));
	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "resource_type", json_string(dbt_node_kind_name(n->kind)));
	json_object_set_new(o, "package_name", json_string(p->name));
	json_object_set_new(o, "path", json_string(n->path));
	json_object_set_new(o, "original_file_path", json_string(n->file));
	json_object_set_new(o, "fqn", strings(&n->fqn));
	json_object_set_new(o, "description", json_string(n->description ? n->description : ""));
	json_object_set_new(o, "config", dbt_jval_to_json(n->config));
	json_object_set_new(o, "depends_on", depends_json(p, n));
	json_object_set_new(o, "refs", refs_json(n));
	json_object_set_new(o, "sources", sources_json(n));
	json_t *metrics = json_array();
	for (size_t i = 0; i < n->refs.nr; i++)
		if (!strncmp(n->refs.v[i], "metric:", 7)) {
			json_t *one = json_array();
			json_array_append_new(one, json_string(n->refs.v[i] + 7));
			json_array_append_new(metrics, one);
		}
	json_object_set_new(o, "metrics", metrics);
	return o;
}

static json_t *node_json(struct dbt_project *p, struct dbt_node *n)
{
	if (n->kind >= NODE_EXPOSURE)
		return semantic_json(p, n);
	json_t *o = json_object();
	struct strbuf sb = STRBUF_INIT;
	json_object_set_new(o, "unique_id", json_string(n->unique_id));
	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "resource_type",
			    json_string(n->unit_model >= 0 ? "unit_test" : dbt_node_kind_name(n->kind)));
	json_object_set_new(o, "package_name", json_string(n->package_name ? n->package_name : p->name));
	json_object_set_new(o, "path", json_string(n->path ? n->path : ""));
	if (n->checksum) {
		json_t *ck = json_object();
		json_object_set_new(ck, "name", json_string(n->checksum_name ? n->checksum_name : "sha256"));
		json_object_set_new(ck, "checksum", json_string(n->checksum));
		json_object_set_new(o, "checksum", ck);
	}
	if (n->kind == NODE_MODEL) {
		const char *access = dbt_config_str(n, "access"), *group = dbt_config_str(n, "group");
		const struct jval *c = jval_dict_get(n->config, "contract");
		const struct jval *e = c && c->type == JVAL_DICT ? jval_dict_get(*c, "enforced") : NULL;
		json_t *contract = json_object();
		json_object_set_new(contract, "enforced", json_boolean(e && e->type == JVAL_BOOL && e->u.b));
		json_object_set_new(o, "contract", contract);
		json_object_set_new(o, "access", json_string(access ? access : "protected"));
		json_object_set_new(o, "group", group ? json_string(group) : json_null());
		json_object_set_new(o, "version", version_json(n->version));
		json_object_set_new(o, "latest_version", version_json(n->latest_version));
	} else if (n->kind != NODE_SOURCE) {
		const char *group = dbt_config_str(n, "group");
		json_object_set_new(o, "group", group ? json_string(group) : json_null());
	}
	json_object_set_new(o, "original_file_path", json_string(n->file ? n->file : ""));
	json_object_set_new(o, "fqn", strings(&n->fqn));
	json_object_set_new(o, "database", json_string(n->database ? n->database : p->target.database));
	json_object_set_new(o, "schema", n->schema ? json_string(n->schema) : json_null());
	json_object_set_new(o, "description", json_string(n->description ? n->description : ""));
	json_object_set_new(o, "columns", dbt_jval_to_json(n->columns));
	if (n->kind == NODE_SOURCE) {
		json_object_set_new(o, "source_name", json_string(n->source_name));
		json_object_set_new(o, "identifier", json_string(n->identifier));
		json_object_set_new(o, "loaded_at_field", n->loaded_at_field ? json_string(n->loaded_at_field) : json_null());
		json_object_set_new(o, "freshness", dbt_jval_to_json(n->freshness));
	} else {
		json_object_set_new(o, "alias", json_string(n->alias ? n->alias : n->name));
		json_object_set_new(o, "config", dbt_jval_to_json(n->config));
		const struct jval *tags = jval_dict_get(n->config, "tags");
		json_object_set_new(o, "tags", tags ? dbt_jval_to_json(*tags) : json_array());
		json_object_set_new(o, "language", json_string("sql"));
		json_object_set_new(o, "raw_code", json_string(n->raw_sql ? n->raw_sql : ""));
		json_object_set_new(o, "compiled", json_boolean(n->compiled_sql != NULL));
		if (n->compiled_sql)
			json_object_set_new(o, "compiled_code", json_string(n->compiled_sql));
		json_object_set_new(o, "refs", refs_json(n));
		json_object_set_new(o, "sources", sources_json(n));
		json_object_set_new(o, "depends_on", depends_json(p, n));
		if (n->test_name) {
			json_t *tm = json_object();
			json_object_set_new(tm, "name", json_string(n->test_name));
			json_object_set_new(tm, "kwargs", dbt_jval_to_json(n->test_kwargs));
			json_object_set_new(tm, "namespace", json_null());
			json_object_set_new(o, "test_metadata", tm);
			json_object_set_new(o, "column_name", n->column_name ? json_string(n->column_name) : json_null());
			json_object_set_new(o, "attached_node",
					    n->attached >= 0 ? json_string(p->nodes[n->attached]->unique_id) : json_null());
		}
	}
	if (n->kind != NODE_TEST && n->kind != NODE_ANALYSIS && n->schema) {
		dbt_node_relation_sql(&sb, n);
		json_object_set_new(o, "relation_name", json_string(sb.buf));
	} else {
		json_object_set_new(o, "relation_name", json_null());
	}
	strbuf_release(&sb);
	return o;
}

static int write_json(struct dbt_project *p, const char *name, json_t *root, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fs_mkdir_p(p->target_path, 0755);
	fs_path_join(&path, p->target_path, name);
	if (!text || fs_write_atomic(path.buf, text, strlen(text)) < 0) {
		strbuf_addf(err, "cannot write '%s': %s", path.buf, strerror(errno));
		ret = -1;
	}
	free(text);
	strbuf_release(&path);
	return ret;
}

int dbt_write_manifest(struct dbt_project *p, struct strbuf *err)
{
	json_t *root = json_object(), *nodes = json_object(), *sources = json_object();
	json_t *parents = json_object(), *children = json_object();
	json_t *semantic[4] = { json_object(), json_object(), json_object(), json_object() };
	json_object_set_new(root, "metadata", metadata(p, "https://schemas.getdbt.com/dbt/manifest/v11.json"));
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		json_t *section = n->kind == NODE_SOURCE	   ? sources
				  : n->kind >= NODE_EXPOSURE ? semantic[n->kind - NODE_EXPOSURE]
							     : nodes;
		json_object_set_new(section, n->unique_id, node_json(p, n));
		json_t *pa = json_array(), *ch = json_array();
		for (size_t k = 0; k < n->nparents; k++)
			json_array_append_new(pa, json_string(p->nodes[n->parents[k]]->unique_id));
		for (size_t k = 0; k < n->nchildren; k++)
			json_array_append_new(ch, json_string(p->nodes[n->children[k]]->unique_id));
		json_object_set_new(parents, n->unique_id, pa);
		json_object_set_new(children, n->unique_id, ch);
	}
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "sources", sources);
	json_t *macros = json_object();
	const struct jval *k, *v;
	for (size_t i = 0; jval_dict_entry(p->macros, i, &k, &v); i++) {
		json_t *m = json_object();
		char *name = jval_to_cstr(*k);
		char *uid = xasprintf("macro.%s.%s", p->name, name);
		json_object_set_new(m, "unique_id", json_string(uid));
		json_object_set_new(m, "name", json_string(name));
		json_object_set_new(m, "package_name", json_string(p->name));
		const struct jval *sql = jval_dict_get(p->macro_sql, name);
		json_object_set_new(m, "macro_sql", json_string(sql ? jval_str_cstr(*sql) : ""));
		json_object_set_new(macros, uid, m);
		free(uid);
		free(name);
	}
	json_object_set_new(root, "macros", macros);
	json_t *docs = json_object();
	for (size_t i = 0; jval_dict_entry(p->docs, i, &k, &v); i++) {
		char *name = jval_to_cstr(*k);
		char *uid = xasprintf("doc.%s.%s", p->name, name);
		json_t *d = json_object();
		json_object_set_new(d, "name", json_string(name));
		json_object_set_new(d, "block_contents", dbt_jval_to_json(*v));
		json_object_set_new(docs, uid, d);
		free(uid);
		free(name);
	}
	json_object_set_new(root, "docs", docs);
	json_object_set_new(root, "exposures", semantic[0]);
	json_object_set_new(root, "metrics", semantic[1]);
	json_object_set_new(root, "semantic_models", semantic[2]);
	json_object_set_new(root, "saved_queries", semantic[3]);
	json_t *groups = json_object();
	for (size_t i = 0; jval_dict_entry(p->groups, i, &k, &v); i++) {
		json_t *g = dbt_jval_to_json(*v);
		json_object_set_new(g, "resource_type", json_string("group"));
		json_object_set_new(g, "package_name", json_string(p->name));
		const struct jval *uid = jval_dict_get(*v, "unique_id");
		json_object_set_new(groups, jval_str_cstr(*uid), g);
	}
	json_object_set_new(root, "groups", groups);
	json_object_set_new(root, "selectors", json_object());
	json_object_set_new(root, "disabled", json_object());
	json_object_set_new(root, "parent_map", parents);
	json_object_set_new(root, "child_map", children);
	int r = write_json(p, "manifest.json", root, err);
	json_decref(root);
	return r;
}

int dbt_write_run_results(struct dbt_project *p, const struct dbt_result *results, const char *command,
			  double elapsed, struct strbuf *err)
{
	json_t *root = json_object(), *list = json_array();
	json_object_set_new(root, "metadata", metadata(p, "https://schemas.getdbt.com/dbt/run-results/v5.json"));
	/* in the order they ran */
	size_t max = 0;
	for (size_t i = 0; i < p->nr; i++)
		if (results[i].ran && results[i].order > max)
			max = results[i].order;
	size_t *by_order = xcalloc(max + 1, sizeof(*by_order));
	for (size_t i = 0; i < p->nr; i++)
		if (results[i].ran)
			by_order[results[i].order] = i + 1;
	for (size_t o = 1; o <= max; o++) {
		if (!by_order[o])
			continue;
		size_t i = by_order[o] - 1;
		const struct dbt_result *r = &results[i];
		struct dbt_node *n = p->nodes[i];
		json_t *e = json_object(), *timing = json_array();
		char a[40], b[40];
		json_object_set_new(e, "status", json_string(r->status == DBT_ERROR && r->batches_ok ? "partial success"
										   : dbt_status_name(r->status)));
		if (r->status != DBT_SKIPPED) {
			iso_time(a, sizeof(a), r->started_at);
			iso_time(b, sizeof(b), r->completed_at);
			json_t *t = json_object();
			json_object_set_new(t, "name", json_string("execute"));
			json_object_set_new(t, "started_at", json_string(a));
			json_object_set_new(t, "completed_at", json_string(b));
			json_array_append_new(timing, t);
		}
		json_object_set_new(e, "timing", timing);
		json_object_set_new(e, "thread_id", json_string("Thread-1"));
		json_object_set_new(e, "execution_time", json_real(r->seconds));
		json_t *resp = json_object();
		if (r->code) {
			json_object_set_new(resp, "_message", json_string(r->code));
			json_object_set_new(resp, "code", json_string(r->code));
			json_object_set_new(resp, "rows_affected", json_integer(r->rows));
		}
		json_object_set_new(e, "adapter_response", resp);
		json_object_set_new(e, "message", r->message ? json_string(r->message)
						      : json_string(r->code ? r->code : ""));
		json_object_set_new(e, "failures", n->kind == NODE_TEST && r->status != DBT_ERROR &&
								   r->status != DBT_SKIPPED
							   ? json_integer(r->rows)
							   : json_null());
		json_object_set_new(e, "unique_id", json_string(n->unique_id));
		json_object_set_new(e, "compiled", json_boolean(n->compiled_sql != NULL));
		json_object_set_new(e, "compiled_code", n->compiled_sql ? json_string(n->compiled_sql) : json_null());
		if (r->batch_successful.nr || r->batch_failed.nr) {
			/* a microbatch model: dbt's batch_results, which retry reads */
			json_t *br = json_object();
			const struct strvec *lists[] = { &r->batch_successful, &r->batch_failed };
			for (size_t k = 0; k < 2; k++) {
				json_t *l = json_array();
				for (size_t bi = 0; bi < lists[k]->nr; bi++) {
					const char *tab = strchr(lists[k]->v[bi], '\t');
					json_t *pair = json_array();
					json_array_append_new(pair, json_stringn(lists[k]->v[bi], tab ? (size_t)(tab - lists[k]->v[bi]) : 0));
					json_array_append_new(pair, json_string(tab ? tab + 1 : ""));
					json_array_append_new(l, pair);
				}
				json_object_set_new(br, k ? "failed" : "successful", l);
			}
			json_object_set_new(e, "batch_results", br);
		}
		if (n->kind != NODE_TEST) {
			struct strbuf sb = STRBUF_INIT;
			dbt_node_relation_sql(&sb, n);
			json_object_set_new(e, "relation_name", json_string(sb.buf));
			strbuf_release(&sb);
		} else {
			json_object_set_new(e, "relation_name", json_null());
		}
		json_array_append_new(list, e);
	}
	free(by_order);
	json_object_set_new(root, "results", list);
	json_object_set_new(root, "elapsed_time", json_real(elapsed));
	json_t *args = dbt_jval_to_json(p->invocation);
	if (!json_is_object(args)) {
		json_decref(args);
		args = json_object();
	}
	json_object_set_new(args, "which", json_string(command));
	json_object_set_new(root, "args", args);
	int ret = write_json(p, "run_results.json", root, err);
	json_decref(root);
	return ret;
}

int dbt_write_compiled(struct dbt_project *p, struct dbt_node *n, const char *kind, const char *sql,
		       struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;
	strbuf_addf(&path, "%s/%s/%s/%s", p->target_path, kind, p->name, n->file);
	if (n->test_name)
		strbuf_addf(&path, "/%s.sql", n->name);
	size_t len = strlen(sql);
	/* the same SQL as last run: leave the file alone (truncating frees its
	 * blocks, which some file systems discard synchronously) */
	int rfd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (rfd >= 0) {
		struct strbuf old = STRBUF_INIT;
		int same = strbuf_read_fd(&old, rfd) == 0 && old.len == len && !memcmp(old.buf, sql, len);
		strbuf_release(&old);
		close(rfd);
		if (same) {
			strbuf_release(&path);
			return 0;
		}
	}
	/* one open per file: these are thousands, and written as dbt does, in
	 * place (the folders are made only when missing) */
	int fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		char *slash = strrchr(path.buf, '/');
		*slash = '\0';
		fs_mkdir_p(path.buf, 0755);
		*slash = '/';
		fd = open(path.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0 || write(fd, sql, len) != (ssize_t)len) {
		strbuf_addf(err, "cannot write '%s': %s", path.buf, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	strbuf_release(&path);
	return ret;
}

static json_t *criteria(double secs)
{
	if (secs <= 0)
		return json_null();
	json_t *o = json_object();
	/* back in the unit it was most likely given in */
	const char *period = "minute";
	double count = secs / 60;
	if (secs >= 86400 && (long long)secs % 86400 == 0) {
		period = "day";
		count = secs / 86400;
	} else if (secs >= 3600 && (long long)secs % 3600 == 0) {
		period = "hour";
		count = secs / 3600;
	}
	json_object_set_new(o, "count", json_integer((json_int_t)count));
	json_object_set_new(o, "period", json_string(period));
	return o;
}

int dbt_write_sources(struct dbt_project *p, const struct dbt_freshness *res, double elapsed, struct strbuf *err)
{
	json_t *root = json_object(), *list = json_array();
	json_object_set_new(root, "metadata", metadata(p, "https://schemas.getdbt.com/dbt/sources/v3.json"));
	for (size_t i = 0; i < p->nr; i++) {
		const struct dbt_freshness *f = &res[i];
		if (!f->ran)
			continue;
		json_t *o = json_object(), *c = json_object();
		char at[40];
		iso_time(at, sizeof(at), f->now);
		json_object_set_new(o, "unique_id", json_string(p->nodes[i]->unique_id));
		json_object_set_new(o, "status", json_string(f->status));
		json_object_set_new(o, "max_loaded_at", f->max_loaded_at ? json_string(f->max_loaded_at) : json_null());
		json_object_set_new(o, "snapshotted_at", json_string(at));
		json_object_set_new(o, "max_loaded_at_time_ago_in_s", f->max_loaded_at ? json_real(f->age) : json_null());
		if (f->message)
			json_object_set_new(o, "error", json_string(f->message));
		json_object_set_new(c, "warn_after", criteria(f->warn_after));
		json_object_set_new(c, "error_after", criteria(f->error_after));
		const struct jval *flt = jval_dict_get(p->nodes[i]->freshness, "filter");
		json_object_set_new(c, "filter", flt && jval_str_cstr(*flt) ? json_string(jval_str_cstr(*flt)) : json_null());
		json_object_set_new(o, "criteria", c);
		json_object_set_new(o, "execution_time", json_real(f->seconds));
		json_object_set_new(o, "thread_id", json_string("Thread-1"));
		json_object_set_new(o, "adapter_response", json_object());
		json_object_set_new(o, "timing", json_array());
		json_array_append_new(list, o);
	}
	json_object_set_new(root, "results", list);
	json_object_set_new(root, "elapsed_time", json_real(elapsed));
	int r = write_json(p, "sources.json", root, err);
	json_decref(root);
	return r;
}

/* --- catalog.json (dango docs generate) ------------------------------------------------- */
static json_t *stat_entry(const char *id, const char *label, json_t *value, int include, const char *desc)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "value", value);
	json_object_set_new(o, "include", json_boolean(include));
	json_object_set_new(o, "description", json_string(desc));
	return o;
}

/* one relation's entry, or NULL when it is not in the warehouse */
static json_t *catalog_entry(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	struct wh_result r;
	const char *name = n->alias ? n->alias : n->name;
	if (wh->pg) {
		/* a postgres target: pg_catalog, as dbt-postgres' get_catalog
		 * reads it (format_type, attnum, the descriptions, the owner) */
		strbuf_addstr(&sql, "select a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnum, "
				    "col_description(c.oid, a.attnum), case c.relkind when 'v' then 'VIEW' when 'm' then "
				    "'MATERIALIZED VIEW' else 'BASE TABLE' end, obj_description(c.oid, 'pg_class'), "
				    "pg_get_userbyid(c.relowner) from pg_catalog.pg_class c join pg_catalog.pg_namespace s on "
				    "s.oid = c.relnamespace join pg_catalog.pg_attribute a on a.attrelid = c.oid where "
				    "c.relkind in ('r', 'v', 'm', 'f', 'p') and a.attnum > 0 and not a.attisdropped and "
				    "s.nspname = ");
		strbuf_add_sql_str(&sql, n->schema ? n->schema : "");
		strbuf_addstr(&sql, " and c.relname = ");
		strbuf_add_sql_str(&sql, name);
		strbuf_addstr(&sql, " order by a.attnum");
	} else {
		strbuf_addstr(&sql, "SELECT c.column_name, c.data_type, c.column_index, c.comment, t.kind, t.comment, NULL "
				    "FROM duckdb_columns() c JOIN (SELECT schema_name, table_name AS rel, 'BASE TABLE' AS kind, "
				    "comment FROM duckdb_tables() UNION ALL SELECT schema_name, view_name, 'VIEW', comment FROM "
				    "duckdb_views() WHERE NOT internal) t ON t.schema_name = c.schema_name AND t.rel = "
				    "c.table_name WHERE c.schema_name = ");
		strbuf_add_sql_str(&sql, n->schema ? n->schema : "");
		strbuf_addstr(&sql, " AND c.table_name = ");
		strbuf_add_sql_str(&sql, name);
		strbuf_addstr(&sql, " ORDER BY c.column_index");
	}
	int q = warehouse_query(wh, sql.buf, &r, err);
	strbuf_release(&sql);
	if (q < 0)
		return NULL;
	if (!r.rows) {
		wh_result_free(&r);
		return NULL;
	}
	json_t *o = json_object(), *meta = json_object(), *cols = json_object(), *stats = json_object();
	char *kind = wh_result_str(&r, 0, 4), *tcomment = wh_result_str(&r, 0, 5), *owner = wh_result_str(&r, 0, 6);
	json_object_set_new(meta, "type", json_string(kind ? kind : "BASE TABLE"));
	json_object_set_new(meta, "schema", json_string(n->schema));
	json_object_set_new(meta, "name", json_string(name));
	json_object_set_new(meta, "database", json_string(n->database ? n->database : p->target.database ? p->target.database : ""));
	json_object_set_new(meta, "comment", tcomment ? json_string(tcomment) : json_null());
	json_object_set_new(meta, "owner", owner ? json_string(owner) : json_null());
	free(owner);
	for (size_t i = 0; i < r.rows; i++) {
		char *cn = wh_result_str(&r, i, 0), *ct = wh_result_str(&r, i, 1), *cc = wh_result_str(&r, i, 3);
		json_t *c = json_object();
		json_object_set_new(c, "type", json_string(ct ? ct : ""));
		json_object_set_new(c, "index", json_integer((json_int_t)wh_result_int(&r, i, 2)));
		json_object_set_new(c, "name", json_string(cn ? cn : ""));
		json_object_set_new(c, "comment", cc ? json_string(cc) : json_null());
		json_object_set_new(cols, cn ? cn : "", c);
		free(cn);
		free(ct);
		free(cc);
	}
	wh_result_free(&r);
	int64_t rows = -1;
	if (kind && !strcmp(kind, "BASE TABLE")) {
		struct strbuf cnt = STRBUF_INIT, ignored = STRBUF_INIT;
		strbuf_addstr(&cnt, "SELECT count(*) FROM ");
		dbt_node_relation_sql(&cnt, n);
		if (warehouse_query_int(wh, cnt.buf, &rows, &ignored) < 0)
			rows = -1;
		strbuf_release(&cnt);
		strbuf_release(&ignored);
	}
	if (rows >= 0) {
		json_object_set_new(stats, "row_count",
				    stat_entry("row_count", "Row Count", json_integer((json_int_t)rows), 1,
					       "The number of rows in the table"));
		json_object_set_new(stats, "has_stats", stat_entry("has_stats", "Has Stats?", json_true(), 0,
								   "Indicates whether there are statistics for this table"));
	} else {
		json_object_set_new(stats, "has_stats", stat_entry("has_stats", "Has Stats?", json_false(), 0,
								   "Indicates whether there are statistics for this table"));
	}
	free(kind);
	free(tcomment);
	json_object_set_new(o, "metadata", meta);
	json_object_set_new(o, "columns", cols);
	json_object_set_new(o, "stats", stats);
	json_object_set_new(o, "unique_id", json_string(n->unique_id));
	return o;
}

int dbt_write_catalog(struct dbt_project *p, struct warehouse *wh, size_t *found, struct strbuf *err)
{
	json_t *root = json_object(), *nodes = json_object(), *sources = json_object();
	json_object_set_new(root, "metadata", metadata(p, "https://schemas.getdbt.com/dbt/catalog/v1.json"));
	*found = 0;
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (n->kind == NODE_TEST || (n->kind == NODE_MODEL && n->mat == MAT_EPHEMERAL))
			continue;
		json_t *e = catalog_entry(p, n, wh, err);
		if (!e) {
			if (err->len) {
				json_decref(root);
				json_decref(nodes);
				json_decref(sources);
				return -1;
			}
			continue;
		}
		(*found)++;
		json_object_set_new(n->kind == NODE_SOURCE ? sources : nodes, n->unique_id, e);
	}
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "sources", sources);
	json_object_set_new(root, "errors", json_null());
	int r = write_json(p, "catalog.json", root, err);
	json_decref(root);
	return r;
}
