/* The dbt-compatible transformation engine: a dbt project loaded into a
 * graph of nodes (models, seeds, tests, sources), selected, compiled and run
 * against DuckDB.
 *
 * The flow, one file a step:
 *   manifest.c     dbt_project.yml, profiles.yml, the files under the paths,
 *                  schema.yml; each model parsed once (execute=False) to learn
 *                  its refs, sources and config()          -> struct dbt_project
 *   context.c      the dbt Jinja context (ref, source, config, var, this, ...)
 *   graph.c        edges, topological order, cycles
 *   govern.c       model versions' order, access and groups
 *   selector.c     --select / --exclude, selectors.yml
 *   state.c        --state DIR (state:, result:, source_status:), --defer
 *   materialize.c  view, table, incremental, ephemeral, seed, test on DuckDB
 *   runner.c       the scheduler over the worker pool (pool.c)
 *   artifacts.c    target/manifest.json, run_results.json, compiled/ and run/
 *
 * Ownership: strings in these structs belong to the project and go with
 * dbt_project_release(). Errors go into a struct strbuf *err; nothing here
 * prints (messages for the console go through the project's on_log hook). */
#ifndef DANGO_TRANSFORM_DBT_H
#define DANGO_TRANSFORM_DBT_H
#include "core/strvec.h"
#include "transform/jinja/jinja.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct strbuf;
struct warehouse;
struct ynode;

enum node_kind { NODE_MODEL, NODE_SEED, NODE_TEST, NODE_SOURCE, NODE_SNAPSHOT,
		 /* parsed into the manifest and selectable, never run */
		 NODE_ANALYSIS, NODE_EXPOSURE, NODE_METRIC, NODE_SEMANTIC_MODEL, NODE_SAVED_QUERY };
#define DBT_NODE_KINDS 10

enum materialized { MAT_VIEW, MAT_TABLE, MAT_INCREMENTAL, MAT_EPHEMERAL, MAT_SEED, MAT_TEST, MAT_NONE, MAT_SNAPSHOT,
		    MAT_EXTERNAL, MAT_CUSTOM /* a materialization macro of the project or a package (custom.c) */ };

struct dbt_node {
	enum node_kind kind;
	size_t index;             /* in project->nodes */
	char *unique_id;          /* model.proj.name, test.proj.name.hash, source.proj.src.tbl */
	char *name;               /* model/seed/test name; source: table name */
	char *path;               /* relative to its resource path: staging/stg_x.sql */
	char *file;               /* relative to the dbt project: models/staging/stg_x.sql */
	char *abs_file;
	struct strvec fqn;
	char *raw_sql;            /* models, singular tests */
	struct jinja_template *tmpl;
	struct jval config;       /* dict: the merged config */
	enum materialized mat;
	char *database;           /* NULL: the warehouse's own */
	char *schema, *alias;     /* the relation it builds or reads */
	char *description;
	struct jval columns;      /* dict name -> dict(name, description, data_type) */
	struct strvec refs;       /* "name" or "pkg.name", as called */
	struct strvec sources;    /* "src.table" */
	size_t *parents, nparents, aparents;
	size_t *children, nchildren, achildren;
	int enabled;
	/* tests */
	char *test_name;          /* unique, not_null, ... or a custom test's name; NULL: singular */
	char *column_name;
	struct jval test_kwargs;  /* dict: values, to, field, ... (expressions as strings) */
	long attached;            /* the model a generic test is defined on, or -1 */
	long unit_model;          /* a unit test: the model it tests, or -1 */
	/* sources */
	char *source_name, *identifier, *loaded_at_field;
	struct jval freshness;
	/* a feature Dango does not support, or a parse-time render that
	 * failed: the node fails with this when it runs, not the project */
	char *load_error;
	char *package_name;       /* a package's node: its package; NULL: the root project's */
	/* filled when compiled */
	char *compiled_sql;
	int selected;
	/* a microbatch model while one of its batches renders (microbatch.c):
	 * refs and sources with an event_time read only the batch */
	int in_batch, batch_incremental;
	char batch_start[32], batch_end[32], batch_id[16];
	/* model versions: this node is version `version` of model `name`
	 * (NULL: unversioned); latest_version is its model's latest */
	char *version, *latest_version;
	char *checksum;           /* dbt's: SHA-256 of the stripped file (manifest.json) */
	const char *checksum_name;/* NULL: "sha256"; "path": a seed over 1 MiB, checksum is its path */
	struct jval props;        /* exposures, metrics...: their YAML entry as a dict */
};

struct dbt_target {
	char *profile, *name, *type, *schema, *database, *path;
	int threads;
	struct strvec pg_params;  /* type postgres: libpq keyword, value, ... (pg_target.c) */
	struct jval duckdb;       /* dbt-duckdb's extensions, settings, attach, external_root (duckdb_profile.c) */
};

struct dbt_project {
	char *dir;                /* absolute path of the dbt project */
	char *name, *profile_name;
	char *target_path;        /* absolute */
	struct strvec model_paths, seed_paths, test_paths, macro_paths, snapshot_paths, analysis_paths;
	struct dbt_target target;
	struct jval vars;         /* dict: the project's vars, then --vars on top */
	struct jval macros;       /* dict: name -> macro */
	struct jval docs;         /* dict: name -> rendered docs block */
	struct jinja_env env;
	struct jinja_template **tmpls; /* macro files, kept alive */
	size_t ntmpls, atmpls;
	struct dbt_node **nodes;
	size_t nr, alloc;
	struct jval by_name;      /* dict: "model:name", "seed:name", "source:src.tbl" -> index */
	size_t nmacros;
	int full_refresh;
	/* logs from log(), print(), exceptions.warn(): called from any thread,
	 * under log_lock */
	void (*on_log)(void *data, int level, const char *msg);
	void *log_data;
	pthread_mutex_t log_lock;
	/* the relations in the warehouse ("schema.name" -> "table"/"view"),
	 * read once per run and kept up to date by the materializations:
	 * DuckDB's information_schema costs a catalog scan per query */
	struct jval catalog;
	int have_catalog;
	pthread_mutex_t catalog_lock;
	/* packages (packages.c) */
	char *packages_dir;       /* absolute: packages-install-path */
	struct jval internal;     /* dict: dbt's own macros, the `dbt` namespace */
	struct jval namespaces;   /* dict: package name -> dict of its macros (root, packages, "dbt") */
	struct jval dispatch;     /* dict: macro_namespace -> list of package names to search */
	struct jval pkg_vars;     /* dict: package name -> dict of its dbt_project.yml vars */
	struct strvec packages;   /* installed package names, in load order */
	struct strvec package_dirs; /* their folders (absolute), parallel to packages */
	struct strvec pkg_schema_dirs; /* the packages' model and seed folders, relative to dir */
	struct ydoc *root_doc;    /* dbt_project.yml while loading (borrowed) */
	struct strvec on_run_start, on_run_end; /* the project's hooks, as written */
	int empty;                /* --empty: refs and sources read no rows */
	int no_version_check;     /* require-dbt-version is not checked */
	/* whose each hook of on_run_start/on_run_end is (a project name): the
	 * packages' hooks come first, by package name, then the root's, as dbt
	 * orders them (packages.c) */
	struct strvec hook_owner_start, hook_owner_end;
	struct strvec pkg_hooks;  /* while loading: owner, "0"/"1" (end), sql, ... */
	/* run_query and statement on a warehouse that is not DuckDB (a
	 * postgres target, pg_target.c): the column names and typed rows
	 * (lists, owned by the caller) of sql, or -1 with err */
	int (*other_query)(void *conn, const char *sql, struct jval *names, struct jval *rows, struct strbuf *err);
	void *other_conn;
	/* --event-time-start / --event-time-end (microbatch models) */
	int have_event_time;
	time_t event_time_start, event_time_end;
	struct jval groups;       /* dict: group name -> dict(name, owner, file) */
	struct jval macro_sql;    /* dict: macro name -> its source text (state:modified.macros) */
	struct jval invocation;   /* dict: the command's arguments, for run_results.json's args */
	struct strvec restrict_access; /* packages with restrict-access: true */
	struct dbt_state *state;  /* --state: the other run's artifacts (state.c), or NULL */
	/* set by dbt_run: the warehouse and --threads, for a microbatch
	 * model's concurrent batches (their own connections) */
	struct warehouse *run_wh;
	int run_threads;
	/* dango retry: unique_id -> the last run's batch_results ({successful,
	 * failed}: lists of [start, end]) of a partly built microbatch model */
	struct jval retry_batches;
};

/* --- pg_target.c: a dbt-postgres target (dango run, test, build) --------------- */
/* Read a `type: postgres` output of profiles.yml into p->target. */
int dbt_pg_target_load(struct dbt_project *p, const struct ynode *out, const char *file, const char *tname,
		       struct strbuf *err);
/* Build the selected models and run the selected tests on PostgreSQL, in
 * graph order, printing dbt's lines through line(); the number of nodes
 * that failed, or -1 (cannot connect). *results (if results is not NULL)
 * gets the nodes' results, parallel to p->nodes, for run_results.json
 * (the caller frees them with dbt_results_free). */
struct dbt_result;
/* preskip_ids (may be NULL): unique ids of nodes (sources held back by
 * schema drift) skipped with everything downstream of them. */
struct strvec;
/* threads: how many nodes are built at once, each worker on a connection
 * of its own (fewer when fewer nodes run), in dependency order. */
int dbt_pg_run(struct dbt_project *p, void (*line)(const char *), const struct strvec *preskip_ids, int threads,
	       struct dbt_result **results, struct strbuf *err);
/* The adapter of p's target: "postgres" for a dbt-postgres target, else
 * "duckdb" (the prefix dispatch and materializations look for first). */
const char *dbt_adapter_type(const struct dbt_project *p);
int dbt_target_is_postgres(const struct dbt_project *p);
/* The connection run_query, statements and the adapter use: the calling
 * worker's (dbt_other_conn_for_thread; NULL ends it), else p->other_conn. */
void *dbt_other_conn(const struct dbt_project *p);
void dbt_other_conn_for_thread(void *conn);
/* For `dango compile`: connect and read the catalog, so that rendering
 * with no DuckDB warehouse (wh NULL) introspects and runs run_query on the
 * server; dbt_pg_close ends it. -1 with err (cannot connect). */
int dbt_pg_open(struct dbt_project *p, struct strbuf *err);
void dbt_pg_close(struct dbt_project *p);
/* `dango run-operation` on a postgres target: connect, run the macro in
 * one transaction (committed when it returns, rolled back when it fails,
 * as dbt-postgres), disconnect. -1 with err. */
int dbt_pg_run_operation(struct dbt_project *p, const char *macro, struct jval args, struct strbuf *err);

/* --- manifest.c: loading ---------------------------------------------------- */
struct dbt_load_opts {
	const char *project_dir;  /* holds dbt_project.yml */
	const char *profiles_dir; /* holds profiles.yml (NULL: project_dir, then ~/.dbt) */
	const char *profiles_base;/* relative DuckDB paths are relative to it (NULL: cwd) */
	const char *target;       /* NULL: the profile's default */
	const char *vars;         /* --vars: JSON or YAML, or NULL */
	int full_refresh;
	void (*on_log)(void *data, int level, const char *msg);
	void *log_data;
};

/* dbt's MAXIMUM_SEED_SIZE: a bigger seed's checksum is its path */
#define DBT_MAX_SEED_SIZE (1024 * 1024)
/* Python's str.strip() of UTF-8 text: [*start, *end) is what remains */
void dbt_py_strip(const char *buf, size_t len, size_t *start, size_t *end);

/* Load and parse the whole project (every model rendered once with
 * execute=False to learn its dependencies and config). */
int dbt_project_load(struct dbt_project *p, const struct dbt_load_opts *o, struct strbuf *err);
void dbt_project_release(struct dbt_project *p);
struct dbt_node *dbt_project_find(const struct dbt_project *p, const char *key);
const char *dbt_node_kind_name(enum node_kind k);
const char *dbt_mat_name(enum materialized m);
/* "staging.stg_x" as the console shows a relation */
void dbt_node_relation_name(struct strbuf *sb, const struct dbt_node *n);
/* "staging"."stg_x" for SQL */
void dbt_node_relation_sql(struct strbuf *sb, const struct dbt_node *n);
const char *dbt_config_str(const struct dbt_node *n, const char *key);
void dbt_log(struct dbt_project *p, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Relations known to be in the warehouse (see catalog above). */
int dbt_catalog_load(struct dbt_project *p, struct warehouse *wh, struct strbuf *err);
/* "table", "view" or NULL; asks wh when the catalog was not loaded */
const char *dbt_catalog_get(struct dbt_project *p, struct warehouse *wh, const char *schema, const char *name);
void dbt_catalog_set(struct dbt_project *p, const char *schema, const char *name, const char *kind);

/* --- packages.c: dbt_packages/, dispatch, dbt's own macros ------------------- */
/* Read `dispatch:` and `packages-install-path` from the root dbt_project.yml,
 * load dbt's built-in macros and the macros of every package installed in
 * dbt_packages/ into their namespaces. A package listed in packages.yml or
 * dependencies.yml but not installed is an error naming `dango deps`. */
int dbt_packages_load(struct dbt_project *p, const struct ynode *root, struct strbuf *err);
/* A macro by name: pkg NULL searches the root project, the packages, then
 * dbt's own (as dbt finds generic tests and materializations). Borrowed. */
const struct jval *dbt_find_macro(const struct dbt_project *p, const char *pkg, const char *name);
/* adapter.dispatch's search: the macro for name in namespace (NULL: the
 * root project then dbt), trying duckdb__ then default__ in each package
 * of the dispatch search order. Borrowed, or NULL. */
const struct jval *dbt_dispatch_find(const struct dbt_project *p, const char *name, const char *ns);

/* The name in dir/dbt_project.yml, or NULL; the caller's. */
char *dbt_project_name_in(const char *dir);

/* --- context.c: rendering ---------------------------------------------------- */
/* Render a node's SQL with execute=True, inlining its ephemeral refs as
 * CTEs; wh may be NULL (then run_query and introspection fail). The result
 * is the caller's. */
char *dbt_compile_node(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct strbuf *err);
/* A unit test's inputs and overrides, for dbt_compile_unit. */
struct dbt_unit {
	struct jval fixtures;   /* dict: "model" | "source:src.table" | "this" -> SQL of the given rows */
	struct jval macros;     /* dict: macro name -> the value it returns */
	struct jval vars, env_vars; /* dicts */
};
/* dbt_compile_node with ref/source/this of the fixtures and the overrides. */
char *dbt_compile_unit(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, const struct dbt_unit *unit,
		       struct strbuf *err);
/* Call macro (a {% materialization %}) in n's context with the names of
 * extra (a dict) on top; *ret gets its return value (the caller's); the
 * statements it runs are appended to log (may be NULL). */
int dbt_invoke_in_node(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct jval macro,
		       struct jval extra, struct strbuf *log, struct jval *ret, struct strbuf *err);
/* Parse-time render (execute=False) of n: fills refs, sources, config. */
int dbt_parse_node(struct dbt_project *p, struct dbt_node *n, struct strbuf *err);
/* Render a string (hook, description, test argument) in n's context. */
int dbt_render_string(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, int execute,
		      const char *what, const char *src, struct strbuf *out, struct strbuf *err);
/* Render src with execute=True outside any node, with the names of extra
 * (a dict: on-run-end's results, run-operation's arguments) as well. */
int dbt_render_extra(struct dbt_project *p, struct warehouse *wh, const char *what, const char *src,
		     struct jval extra, struct strbuf *out, struct strbuf *err);
/* Install the globals that do not depend on a node (var, env_var, log, ...). */
void dbt_context_setup(struct dbt_project *p);
/* `selected_resources`: the unique ids of the selected nodes (call after
 * dbt_select, before rendering starts: it changes a global). */
void dbt_context_set_selected(struct dbt_project *p);
/* Replace the value of every DBT_ENV_SECRET_* variable in sb by "*****"
 * (env_var() refuses them outside profiles.yml and packages.yml). */
void dbt_mask_secrets(struct strbuf *sb);
/* A value as JSON (new reference; other types as their text), and back. */
struct json_t *dbt_jval_to_json(struct jval v);
struct jval dbt_jval_from_json(struct json_t *j);
/* A YAML node as a value (scalars typed as YAML 1.1 reads them). */
struct jval dbt_yaml_value(const struct ynode *y);
/* Parse --vars text (JSON is YAML) into a dict; -1 with a message. */
int dbt_parse_vars(const char *text, struct jval *out, struct strbuf *err);

/* --- govern.c: model versions and access ------------------------------------ */
/* Refs that break a model's access (private to its group, protected to
 * its package), and groups that are not defined: -1 with dbt's message,
 * naming both nodes. */
int dbt_check_access(struct dbt_project *p, struct strbuf *err);
/* The by_name key of version v of model name ("name@vV"); the caller's. */
char *dbt_version_key(const char *name, const char *v);
/* Compare two version identifiers as dbt orders them (numbers as numbers). */
int dbt_version_cmp(const char *a, const char *b);

/* --- state.c: --state DIR, state:/result:/source_status:, --defer ------------ */
/* Read DIR/manifest.json (required), run_results.json and sources.json
 * into p->state; -1 with err. */
int dbt_state_load(struct dbt_project *p, const char *dir, struct strbuf *err);
void dbt_state_free(struct dbt_project *p);
/* Does n match method:value (state:modified.body, result:error, ...)? */
int dbt_state_match(const struct dbt_project *p, const struct dbt_node *n, const char *method, const char *value);
/* NULL if method's artifacts are there, else what is missing (static) */
const char *dbt_state_missing(const struct dbt_project *p, const char *method);
/* --defer (favor_state 0) / --favor-state: unselected models, seeds and
 * snapshots read the state manifest's relations; undefer puts them back. */
int dbt_state_defer(struct dbt_project *p, struct warehouse *wh, int favor_state, size_t *deferred);
void dbt_state_undefer(struct dbt_project *p);
/* The names of the project's macros n calls, transitively (depends_on.macros) */
void dbt_node_macros(const struct dbt_project *p, const struct dbt_node *n, struct strvec *out);

/* --- graph.c ---------------------------------------------------------------- */
/* Resolve refs and sources to edges; -1 with "model 'x' (models/x.sql)
 * depends on a node named 'y' which was not found" or a cycle. */
int dbt_graph_build(struct dbt_project *p, struct strbuf *err);
/* Nodes in an order where parents come first (indices, caller frees). */
size_t *dbt_graph_order(const struct dbt_project *p);
/* For `dango build`: a model's children also wait for the tests on it. */
void dbt_graph_add_test_edges(struct dbt_project *p);

/* --- selector.c ------------------------------------------------------------- */
/* Mark n->selected for the nodes of the given kinds (bit 1<<kind) that match
 * select (all when empty) and not exclude. -1 on a bad selector. */
int dbt_select(struct dbt_project *p, const struct strvec *select, const struct strvec *exclude,
	       unsigned kinds, int indirect_tests, struct strbuf *err);
/* --selector NAME: the selector of the project's selectors.yml (union,
 * intersection, exclude, method/value with parents, children, depths,
 * childrens_parents, indirect_selection; a string is CLI syntax). */
int dbt_select_named(struct dbt_project *p, const char *name, unsigned kinds, struct strbuf *err);
/* The `default: true` selector's name in *name (caller's; NULL: none). */
int dbt_default_selector(struct dbt_project *p, char **name, struct strbuf *err);


/* --- materialize.c: running one node on one connection ------------------------------- */
enum dbt_status { DBT_SUCCESS, DBT_ERROR, DBT_SKIPPED, DBT_PASS, DBT_FAIL, DBT_WARN };

struct dbt_result {
	enum dbt_status status;
	char *message;        /* error text, or the test's "Got 2 results, ..." */
	int64_t rows;         /* rows inserted (seeds, incrementals), failing rows (tests) */
	double seconds;
	double started_at, completed_at; /* epoch seconds */
	char *run_sql;        /* what was executed, for target/run/ */
	char *code;           /* adapter_response code: OK, INSERT, CREATE... */
	size_t order;         /* 1-based position in the console output; 0: not run */
	int ran;              /* selected and reached */
	size_t batches, batches_ok; /* a microbatch model: its batches, and how many succeeded */
	/* and run_results.json's batch_results: "start\tend" (ISO, UTC) of each */
	struct strvec batch_successful, batch_failed;
};

void dbt_result_release(struct dbt_result *r);
/* Build n (compiling it first) on wh; fills res. Never prints. */
void dbt_execute_node(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct dbt_result *res);
/* unit.c: run unit test n (n->unit_model >= 0): res gets PASS or FAIL (the
 * differing rows in its message), or ERROR with err; statements go to log. */
void dbt_unit_run(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct dbt_result *res,
		  struct strbuf *log, struct strbuf *err);
const char *dbt_status_name(enum dbt_status s);

/* --- microbatch.c -------------------------------------------------------------------- */
/* Inside a batch of reader (a microbatch model), a ref or source to t with
 * an event_time reads only the batch: *out gets dbt's filtered subquery
 * of rel and 1 is returned; 0 when nothing is filtered. alias: the
 * subquery gets dbt's alias _dbt_et_filter_subq_<name> (relations that
 * require one: postgres). */
int dbt_microbatch_filter(const struct dbt_node *reader, const struct dbt_node *t, struct jval rel, int alias,
			  struct jval *out);
/* A datetime flag as dbt takes it (2024-01-01, 2024-01-01 10:00:00,
 * 2024-01-01T10:00:00): 0, or -1 with err. */
int dbt_parse_event_time(const char *flag, const char *s, time_t *out, struct strbuf *err);

/* --- duckdb_profile.c: dbt-duckdb's extensions, settings, attach ------------------------ */
/* Read them from the target's node of profiles.yml (where: "profiles.yml:
 * target 'dev'", for messages; relative paths are relative to base). */
int dbt_duckdb_profile_load(struct dbt_project *p, const struct ynode *target, const char *base, const char *where,
			    struct strbuf *err);
/* Load the extensions, SET the settings and ATTACH the databases on wh
 * (once per opened warehouse); -1 with an error naming profiles.yml. */
int dbt_duckdb_setup(struct dbt_project *p, struct warehouse *wh, struct strbuf *err);
/* Only the settings: for each further connection to the same database. */
int dbt_duckdb_connection_setup(struct dbt_project *p, struct warehouse *wh, struct strbuf *err);
/* external.c: a source table's config (the source's, then the table's)
 * and its dbt-duckdb external_location, formatted, as config
 * "__external_location"; source and table are their YAML as values. */
int dbt_source_external(struct dbt_project *p, struct dbt_node *n, struct jval source, struct jval table,
			struct strbuf *err);
/* The profile's external_root (absolute), or NULL. */
const char *dbt_duckdb_external_root(const struct dbt_project *p);

/* --- custom.c: materializations of the project and its packages ------------------------ */
/* The materialization a model named `name` gets: builtin (mat_from's
 * answer) unless the root project defines that materialization, then
 * MAT_EXTERNAL for dbt-duckdb's external, MAT_CUSTOM when the project or
 * a package defines it, else MAT_NONE. */
enum materialized dbt_mat_resolve(struct dbt_project *p, const char *name, enum materialized builtin);

/* --- snapshot.c: dbt's snapshot materialization ------------------------------------------ */
/* Build or update snapshot n from its compiled query body; every statement
 * is appended to log; rows gets the rows inserted. -1 with err. */
int dbt_snapshot_build(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, const char *body,
		       struct strbuf *log, int64_t *rows, struct strbuf *err);

/* --- runner.c: the selected nodes in graph order over a worker pool -------------------- */
struct dbt_run_opts {
	int threads;
	int fail_fast;
	const struct strvec *skip_sources; /* "src" or "src.table": their dependents are skipped */
	void (*on_start)(void *data, struct dbt_node *n, size_t order, size_t total);
	void (*on_done)(void *data, struct dbt_node *n, const struct dbt_result *r, size_t total);
	void *data;
	/* Nodes pre-marked as skipped, by unique_id, each with its reason
	 * (preskip_reasons[i] for preskip_ids[i]): they and everything
	 * downstream are SKIP with that reason as their message. */
	const struct strvec *preskip_ids, *preskip_reasons;
};

/* Run; results[i] is for p->nodes[i] (the caller frees with
 * dbt_results_free). extra connections are opened on wh's database.
 * Returns 0 if everything passed, 1 if something failed, -1 on an error
 * before anything ran (err). */
int dbt_run(struct dbt_project *p, struct warehouse *wh, const struct dbt_run_opts *o,
	    struct dbt_result **results, struct strbuf *err);
void dbt_results_free(struct dbt_project *p, struct dbt_result *results);

/* --- hooks.c: on-run-start, on-run-end, run-operation ----------------------------------- */
/* Run the project's on-run-start (results NULL) or on-run-end hooks on wh;
 * on_hook(data, i, total, sql_or_NULL, r) reports each (r: 0 or -1). -1 with err
 * at the first that fails. */
int dbt_run_hooks(struct dbt_project *p, struct warehouse *wh, int end, const struct dbt_result *results,
		  void (*on_hook)(void *data, const char *name, size_t i, size_t total, int r), void *data,
		  struct strbuf *err);
/* What on-run-end hooks see besides the context: results (results[i] for
 * p->nodes[i], those that ran), schemas, database_schemas (a dict). */
struct jval dbt_hook_extra(struct dbt_project *p, const struct dbt_result *results);
/* Call macro (name or package.name) with the arguments of args (a dict). */
int dbt_run_operation(struct dbt_project *p, struct warehouse *wh, const char *macro, struct jval args,
		      struct strbuf *err);

/* --- freshness.c: `dango freshness`, dbt's source freshness ----------------------------- */
struct dbt_freshness {
	const char *status;  /* pass, warn, error (stale) or "runtime error" (message) */
	char *max_loaded_at; /* as text */
	double age, now;     /* seconds since max_loaded_at; the time of the check */
	double warn_after, error_after; /* seconds, 0: not set */
	double seconds;
	char *message;
	int ran;
};
/* Does n (a source table) have warn_after or error_after? */
int dbt_freshness_wanted(const struct dbt_node *n);
void dbt_freshness_check(struct dbt_project *p, struct dbt_node *n, struct warehouse *wh, struct dbt_freshness *f);
void dbt_freshness_release(struct dbt_freshness *f);
/* target/catalog.json: every relation of the project in wh, with its
 * columns (type, index, comment) and row count; found gets how many. */
int dbt_write_catalog(struct dbt_project *p, struct warehouse *wh, size_t *found, struct strbuf *err);
/* target/sources.json; results parallel to p->nodes */
int dbt_write_sources(struct dbt_project *p, const struct dbt_freshness *results, double elapsed, struct strbuf *err);

/* --- artifacts.c ---------------------------------------------------------------------- */
int dbt_write_manifest(struct dbt_project *p, struct strbuf *err);
int dbt_write_run_results(struct dbt_project *p, const struct dbt_result *results, const char *command,
			  double elapsed, struct strbuf *err);
/* target/compiled/<project>/<file> and target/run/... for a node */
int dbt_write_compiled(struct dbt_project *p, struct dbt_node *n, const char *kind, const char *sql,
		       struct strbuf *err);

#endif
