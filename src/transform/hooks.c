/* The project's on-run-start and on-run-end hooks, and run-operation.
 *
 * Each hook is rendered (execute=True) and its SQL executed, in order, on
 * the run's connection; on-run-end sees `results` (one object a node that
 * ran: status, message, execution_time, failures, node), `schemas` and
 * `database_schemas` (where the run built relations), as dbt gives them.
 * run-operation renders a call of the macro with the given arguments; what
 * the macro does (run_query, statements, log) is its effect, and its
 * output is not executed, as in dbt. */
#include "transform/dbt.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <stdlib.h>
#include <string.h>

static struct jval result_object(struct dbt_project *p, const struct dbt_node *n, const struct dbt_result *r)
{
	struct jval d = jval_dict_new(), node = jval_dict_new();
	jval_dict_set(node, "name", jval_str(n->name));
	jval_dict_set(node, "unique_id", jval_str(n->unique_id));
	jval_dict_set(node, "resource_type",
		      jval_str(n->unit_model >= 0 ? "unit_test" : dbt_node_kind_name(n->kind)));
	jval_dict_set(node, "schema", n->schema ? jval_str(n->schema) : jval_none());
	jval_dict_set(node, "alias", jval_str(n->alias ? n->alias : n->name));
	jval_dict_set(node, "database", jval_str(n->database ? n->database : p->target.database ? p->target.database : ""));
	jval_dict_set(node, "package_name", jval_str(n->package_name ? n->package_name : p->name));
	jval_dict_set(node, "original_file_path", jval_str(n->file ? n->file : ""));
	jval_dict_set(node, "config", jval_ref(n->config));
	jval_dict_set(d, "node", jval_object_dict(node));
	jval_dict_set(d, "status", jval_str(dbt_status_name(r->status)));
	jval_dict_set(d, "message", r->message ? jval_str(r->message) : jval_none());
	jval_dict_set(d, "execution_time", jval_float(r->seconds));
	jval_dict_set(d, "failures", n->kind == NODE_TEST ? jval_int(r->rows) : jval_none());
	jval_dict_set(d, "thread_id", jval_str("Thread-1"));
	struct jval ar = jval_dict_new();
	jval_dict_set(ar, "_message", jval_str(r->code ? r->code : "OK"));
	jval_dict_set(ar, "code", jval_str(r->code ? r->code : "OK"));
	jval_dict_set(ar, "rows_affected", jval_int(r->rows));
	jval_dict_set(d, "adapter_response", ar);
	return jval_object_dict(d);
}

static struct jval hook_context(struct dbt_project *p, const struct dbt_result *results)
{
	struct jval extra = jval_dict_new(), res = jval_list_new(), schemas = jval_list_new(),
		    dbs = jval_list_new();
	struct strvec seen = STRVEC_INIT;
	for (size_t i = 0; results && i < p->nr; i++) {
		const struct dbt_node *n = p->nodes[i];
		if (!results[i].ran)
			continue;
		jval_list_append(res, result_object(p, n, &results[i]));
		if (n->kind == NODE_TEST || !n->schema || strvec_has(&seen, n->schema))
			continue;
		strvec_push(&seen, n->schema);
		jval_list_append(schemas, jval_str(n->schema));
		struct jval pair = jval_list_new();
		jval_list_append(pair, jval_str(n->database ? n->database : p->target.database ? p->target.database : ""));
		jval_list_append(pair, jval_str(n->schema));
		jval_list_append(dbs, pair);
	}
	strvec_clear(&seen);
	jval_dict_set(extra, "results", res);
	jval_dict_set(extra, "schemas", schemas);
	jval_dict_set(extra, "database_schemas", dbs);
	return extra;
}

int dbt_run_hooks(struct dbt_project *p, struct warehouse *wh, int end, const struct dbt_result *results,
		  void (*on_hook)(void *data, const char *name, size_t i, size_t total, int r), void *data,
		  struct strbuf *err)
{
	const struct strvec *hooks = end ? &p->on_run_end : &p->on_run_start;
	const char *kind = end ? "on-run-end" : "on-run-start";
	if (!hooks->nr)
		return 0;
	struct jval extra = hook_context(p, results);
	int ret = 0;
	const struct strvec *owners = end ? &p->hook_owner_end : &p->hook_owner_start;
	for (size_t i = 0, k = 0; i < hooks->nr && !ret; i++, k++) {
		struct strbuf sql = STRBUF_INIT, what = STRBUF_INIT, name = STRBUF_INIT;
		/* named as dbt: <project>.<kind>.<index within the project> */
		const char *owner = i < owners->nr ? owners->v[i] : p->name;
		if (i && i < owners->nr && strcmp(owner, owners->v[i - 1]))
			k = 0;
		if (strcmp(owner, p->name))
			strbuf_addf(&what, "dbt_packages/%s/dbt_project.yml (%s)", owner, kind);
		else
			strbuf_addf(&what, "dbt_project.yml (%s)", kind);
		strbuf_addf(&name, "%s.%s.%zu", owner, kind, k);
		ret = dbt_render_extra(p, wh, what.buf, hooks->v[i], extra, &sql, err);
		strbuf_trim(&sql);
		if (ret == 0 && sql.len)
			ret = warehouse_exec(wh, sql.buf, err);
		if (on_hook)
			on_hook(data, name.buf, i + 1, hooks->nr, ret);
		if (ret < 0) {
			struct strbuf pre = STRBUF_INIT;
			strbuf_addf(&pre, "%s hook %s failed: ", kind, name.buf);
			strbuf_insert(err, 0, pre.buf, pre.len);
			strbuf_release(&pre);
		}
		strbuf_release(&sql);
		strbuf_release(&what);
		strbuf_release(&name);
	}
	jval_unref(extra);
	return ret;
}

int dbt_run_operation(struct dbt_project *p, struct warehouse *wh, const char *macro, struct jval args,
		      struct strbuf *err)
{
	const char *dot = strchr(macro, '.');
	const struct jval *m = NULL;
	if (dot) {
		char *pkg = xstrndup(macro, (size_t)(dot - macro));
		m = dbt_find_macro(p, pkg, dot + 1);
		free(pkg);
	} else {
		m = dbt_find_macro(p, NULL, macro);
	}
	if (!m) {
		strbuf_addf(err, "run-operation: no macro named '%s' in the project, its packages or dbt's", macro);
		return -1;
	}
	/* a call with keyword arguments, read from a name of the context */
	struct strbuf src = STRBUF_INIT, out = STRBUF_INIT;
	struct jval extra = jval_dict_new();
	jval_dict_set(extra, "__dango_args", jval_ref(args));
	jval_dict_set(extra, "__dango_macro", jval_ref(*m));
	strbuf_addstr(&src, "{{ __dango_macro(");
	const struct jval *k, *v;
	for (size_t i = 0; args.type == JVAL_DICT && jval_dict_entry(args, i, &k, &v); i++)
		strbuf_addf(&src, "%s%s=__dango_args['%s']", i ? ", " : "", jval_str_cstr(*k), jval_str_cstr(*k));
	strbuf_addstr(&src, ") }}");
	int r = dbt_render_extra(p, wh, macro, src.buf, extra, &out, err);
	jval_unref(extra);
	strbuf_release(&src);
	strbuf_release(&out);
	return r;
}

struct jval dbt_hook_extra(struct dbt_project *p, const struct dbt_result *results)
{
	return hook_context(p, results);
}
