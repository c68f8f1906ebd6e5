/* The scheduler: every node of the graph passes through it in dependency
 * order. Selected nodes run on the worker pool, one DuckDB connection per
 * worker; the others (unselected nodes, sources, ephemeral models) pass
 * through at once, so that a selected node still waits for selected nodes
 * upstream of an unselected one. A node that errors, fails or is skipped
 * blocks everything downstream (printed as SKIP); the rest goes on, unless
 * fail_fast. The console is the caller's: on_start and on_done run on the
 * calling thread only. */
#include "transform/dbt.h"
#include "core/pool.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "warehouse/warehouse.h"

#include <stdlib.h>
#include <string.h>

struct task {
	struct dbt_project *p;
	struct dbt_node *n;
	struct dbt_result *res;
	struct warehouse *conns;
};

static void run_task(void *data, size_t worker)
{
	struct task *t = data;
	dbt_execute_node(t->p, t->n, &t->conns[worker], t->res);
}

/* The node's artifacts (target/compiled, target/run), written by a thread of
 * their own so that file system latency overlaps with the warehouse's work;
 * a failure to write them does not fail the node. */
static void write_task(void *data, size_t worker)
{
	struct task *t = data;
	struct strbuf err = STRBUF_INIT;
	if (t->n->compiled_sql)
		dbt_write_compiled(t->p, t->n, "compiled", t->n->compiled_sql, &err);
	if (t->res->run_sql && *t->res->run_sql)
		dbt_write_compiled(t->p, t->n, "run", t->res->run_sql, &err);
	strbuf_release(&err);
}

static int runnable(const struct dbt_node *n)
{
	if (!n->selected)
		return 0;
	if (n->kind == NODE_SOURCE)
		return 0;
	if (n->kind == NODE_MODEL && n->mat == MAT_EPHEMERAL)
		return 0;
	return 1;
}

static int blocked_source(const struct dbt_node *n, const struct strvec *skip)
{
	if (n->kind != NODE_SOURCE || !skip)
		return 0;
	for (size_t i = 0; i < skip->nr; i++) {
		const char *s = skip->v[i];
		size_t l = strlen(n->source_name);
		if (!strcmp(s, n->source_name) ||
		    (!strncmp(s, n->source_name, l) && s[l] == '.' && !strcmp(s + l + 1, n->name)))
			return 1;
	}
	return 0;
}

/* Each node's pre-set skip reason (o->preskip_ids), or NULL; borrowed. */
static const char **preskip_reasons(const struct dbt_project *p, const struct dbt_run_opts *o)
{
	const char **reason = xcalloc(p->nr + 1, sizeof(*reason));
	for (size_t k = 0; o->preskip_ids && k < o->preskip_ids->nr; k++)
		for (size_t i = 0; i < p->nr; i++)
			if (!strcmp(p->nodes[i]->unique_id, o->preskip_ids->v[k]))
				reason[i] = o->preskip_reasons->v[k];
	return reason;
}

void dbt_results_free(struct dbt_project *p, struct dbt_result *results)
{
	if (!results)
		return;
	for (size_t i = 0; i < p->nr; i++)
		dbt_result_release(&results[i]);
	free(results);
}

int dbt_run(struct dbt_project *p, struct warehouse *wh, const struct dbt_run_opts *o, struct dbt_result **out,
	    struct strbuf *err)
{
	size_t total = 0;
	struct dbt_result *res = xcalloc(p->nr + 1, sizeof(*res));
	*out = res;
	for (size_t i = 0; i < p->nr; i++)
		total += runnable(p->nodes[i]);

	/* schemas first, on one connection: concurrent CREATE SCHEMA conflict */
	struct strvec schemas = STRVEC_INIT;
	for (size_t i = 0; i < p->nr; i++) {
		struct dbt_node *n = p->nodes[i];
		if (runnable(n) && n->kind != NODE_TEST && n->schema && !strvec_has(&schemas, n->schema))
			strvec_push(&schemas, n->schema);
	}
	for (size_t i = 0; i < schemas.nr; i++) {
		struct strbuf sql = STRBUF_INIT;
		strbuf_addstr(&sql, "CREATE SCHEMA IF NOT EXISTS ");
		strbuf_add_sql_ident(&sql, schemas.v[i]);
		int r = warehouse_exec(wh, sql.buf, err);
		strbuf_release(&sql);
		if (r < 0) {
			strvec_clear(&schemas);
			return -1;
		}
	}
	strvec_clear(&schemas);
	if (dbt_catalog_load(p, wh, err) < 0)
		return -1;

	size_t nthreads = o->threads > 0 ? (size_t)o->threads : 1;
	p->run_wh = wh;
	p->run_threads = (int)nthreads;
	if (nthreads > total)
		nthreads = total ? total : 1;
	struct warehouse *conns = xcalloc(nthreads, sizeof(*conns));
	for (size_t i = 0; i < nthreads; i++) {
		if (warehouse_connect_extra(wh, &conns[i], err) < 0 ||
		    (dbt_duckdb_connection_setup(p, &conns[i], err) < 0 && (warehouse_close(&conns[i]), 1))) {
			for (size_t j = 0; j < i; j++)
				warehouse_close(&conns[j]);
			free(conns);
			return -1;
		}
	}

	size_t *pending = xcalloc(p->nr + 1, sizeof(*pending));
	unsigned char *failed = xcalloc(p->nr + 1, 1);
	size_t *ready = xcalloc(p->nr + 1, sizeof(*ready));
	const char **reason = preskip_reasons(p, o);
	size_t nready = 0, rhead = 0, order = 0;
	struct task *tasks = xcalloc(p->nr + 1, sizeof(*tasks));
	int any_failed = 0, stopping = 0;
	size_t running = 0;
	for (size_t i = 0; i < p->nr; i++) {
		pending[i] = p->nodes[i]->nparents;
		if (!pending[i])
			ready[nready++] = i;
	}
	struct pool pool, writer;
	struct task *inline_done = NULL;
	pool_init(&pool, nthreads, run_task);
	pool_init(&writer, 1, write_task);

#define RESOLVE(idx)                                                                  \
	do {                                                                          \
		struct dbt_node *n_ = p->nodes[idx];                                  \
		for (size_t c_ = 0; c_ < n_->nchildren; c_++)                        \
			if (--pending[n_->children[c_]] == 0)                        \
				ready[nready++] = n_->children[c_];                  \
	} while (0)

	for (;;) {
		/* hand out no more than there are workers, so that START lines
		 * are printed when a node really starts */
		while (rhead < nready && running < nthreads) {
			size_t i = ready[rhead++];
			struct dbt_node *n = p->nodes[i];
			int blocked = reason[i] != NULL;
			const char *why = NULL;
			for (size_t k = 0; k < n->nparents; k++)
				if (failed[n->parents[k]]) {
					blocked = 1;
					why = p->nodes[n->parents[k]]->unique_id;
					if (!reason[i])
						reason[i] = reason[n->parents[k]];
				}
			if (blocked_source(n, o->skip_sources))
				blocked = 1;
			if (!runnable(n)) {
				failed[i] = (unsigned char)blocked;
				RESOLVE(i);
				continue;
			}
			if (blocked || stopping) {
				/* --fail-fast: what was not run is a SKIP, as dbt reports it */
				res[i].status = DBT_SKIPPED;
				res[i].ran = 1;
				res[i].order = ++order;
				res[i].message = reason[i] ? xstrdup(reason[i])
						 : blocked ? xasprintf("skipped: an upstream node failed or was skipped (%s)",
								     why ? why : "?")
							 : xstrdup("skipped: --fail-fast stopped the run at the first failure");
				failed[i] = 1;
				if (o->on_done)
					o->on_done(o->data, n, &res[i], total);
				RESOLVE(i);
				continue;
			}
			res[i].order = ++order;
			res[i].ran = 1;
			if (o->on_start)
				o->on_start(o->data, n, res[i].order, total);
			tasks[i] = (struct task){ p, n, &res[i], conns };
			if (nthreads == 1) {
				/* one thread: run it here, without a handoff to a worker
				 * and back (two context switches a node) */
				run_task(&tasks[i], 0);
				inline_done = &tasks[i];
			} else {
				pool_submit(&pool, &tasks[i]);
			}
			running++;
		}
		struct task *t = nthreads == 1 ? inline_done : pool_wait(&pool);
		inline_done = NULL;
		if (!t)
			break;
		running--;
		size_t i = t->n->index;
		enum dbt_status st = res[i].status;
		if (st == DBT_ERROR || st == DBT_FAIL) {
			failed[i] = 1;
			any_failed = 1;
			if (o->fail_fast)
				stopping = 1;
		}
		if (o->on_done)
			o->on_done(o->data, t->n, &res[i], total);
		pool_submit(&writer, t);
		RESOLVE(i);
	}
	while (pool_wait(&writer))
		;
	pool_release(&writer);
#undef RESOLVE
	pool_release(&pool);
	for (size_t i = 0; i < nthreads; i++)
		warehouse_close(&conns[i]);
	p->run_wh = NULL;
	free(conns);
	free(pending);
	free(failed);
	free(ready);
	free(reason);
	free(tasks);
	return any_failed || stopping ? 1 : 0;
}
