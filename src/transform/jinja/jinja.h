/* A Jinja2 interpreter for dbt-style templates.
 *
 * Output matches Python Jinja2 3.x as dbt configures it: a sandboxed
 * environment with the `do` and loop-control extensions, dbt's `docs`,
 * `test` and `materialization` blocks, default whitespace handling (no
 * trim_blocks/lstrip_blocks, one trailing newline dropped), and by default
 * StrictUndefined (printing, testing or iterating an undefined is an error;
 * `is defined` and `|default` still work).
 *
 *   struct jinja_env env;
 *   jinja_env_init(&env);
 *   jinja_env_set_global(&env, "ref", jval_native("ref", my_ref, NULL, NULL));
 *   struct jinja_template *t = jinja_template_parse(&env, "models/a.sql", src, len, &err);
 *   if (!t || jinja_render(&env, t, ctx, &out, &err) < 0)
 *           fprintf(stderr, "%s\n", err.buf);   // "models/a.sql:3:12: 'x' is undefined"
 *   jinja_template_unref(t);
 *   jinja_env_release(&env);
 *
 * Errors: every function that can fail returns -1 (or NULL) and appends one
 * message "FILE:LINE:COL: message" to err; nothing is printed or exits.
 *
 * Threads: an env and parsed templates may be shared by threads rendering at
 * the same time once set up; values passed to renders must not be mutated
 * by two threads at once (templates can mutate lists and dicts).
 */
#ifndef DANGO_JINJA_H
#define DANGO_JINJA_H
#include "value.h"

#include <stddef.h>

struct strbuf;

struct jinja_env {
	struct jval globals; /* dict: names every render sees, after its context */
	struct jval filters; /* dict: host filters by name (natives) */
	struct jval tests;   /* dict: host tests by name (natives) */
	/* Jinja's default Undefined instead of StrictUndefined: an undefined
	 * prints as "", is false and iterates as empty. */
	int lenient_undefined;
};

void jinja_env_init(struct jinja_env *env);
void jinja_env_release(struct jinja_env *env);
/* Set a global (v is stolen). */
void jinja_env_set_global(struct jinja_env *env, const char *name, struct jval v);
/* A host filter: fn gets the filtered value as argument 0, then the
 * filter's own arguments. Register filters before parsing templates that
 * use them: unknown filters and tests are parse errors, as in Jinja. */
void jinja_env_add_filter(struct jinja_env *env, const char *name, jinja_fn fn, void *data);
/* A host test: fn gets the value as argument 0 and returns a truth value. */
void jinja_env_add_test(struct jinja_env *env, const char *name, jinja_fn fn, void *data);

/* --- templates ------------------------------------------------------------ */
struct jinja_template;

/* Parse src (len bytes; need not be NUL-terminated). file names the
 * template in error messages. env may be NULL (then host filters and tests
 * are checked at render time). Returns a template with one reference, or
 * NULL with an error. */
struct jinja_template *jinja_template_parse(const struct jinja_env *env, const char *file,
					    const char *src, size_t len, struct strbuf *err);
struct jinja_template *jinja_template_ref(struct jinja_template *t);
/* Drop a reference; the template is freed when no macro value uses it. */
void jinja_template_unref(struct jinja_template *t);
const char *jinja_template_file(const struct jinja_template *t);

/* Render t with the variables of ctx (a dict, or none) and env's globals,
 * appending to out. 0 or -1 (out then holds partial output). */
int jinja_render(const struct jinja_env *env, struct jinja_template *t, struct jval ctx,
		 struct strbuf *out, struct strbuf *err);

/* Put the top-level macros of t into dict (name -> macro value), as a dbt
 * macro file provides them; `test` and `materialization` blocks appear
 * under their macro names (test_NAME, materialization_NAME_ADAPTER). The
 * macros keep t alive. Free names in their bodies resolve, when called,
 * in the context of the render (or jinja_invoke) that calls them. Returns
 * how many macros were added. */
int jinja_template_macros(struct jinja_template *t, struct jval dict);
/* The same, the macros looking up their free names in ns (a dict the host
 * keeps alive longer than the macros' use) after the render's context and
 * before the globals: a dbt package's own macros. */
int jinja_template_macros_ns(struct jinja_template *t, struct jval dict, struct jval ns);

/* dbt docs blocks: {% docs name %}...{% enddocs %}. */
size_t jinja_template_doc_count(const struct jinja_template *t);
const char *jinja_template_doc_name(const struct jinja_template *t, size_t i);
/* Render the body of docs block name; -1 with an error if there is none. */
int jinja_render_doc(const struct jinja_env *env, struct jinja_template *t, const char *name,
		     struct jval ctx, struct strbuf *out, struct strbuf *err);

/* Call a callable value (macro, native...) from C with ctx as the context,
 * e.g. a project's generate_schema_name(custom, node). *ret gets the result
 * (owned): a macro's rendered body as a string, or what it return()ed. */
int jinja_invoke(const struct jinja_env *env, struct jval ctx, struct jval callee, size_t argc,
		 const struct jval *argv, size_t kwc, const char *const *kwnames,
		 const struct jval *kwvals, struct jval *ret, struct strbuf *err);

/* --- for natives ----------------------------------------------------------- */
/* A native gets a struct jinja_call describing its arguments. All values
 * are borrowed for the duration of the call. A call block passes its body
 * as the keyword argument "caller" (a macro value to call with
 * jinja_call_invoke). */
struct jinja_call;

const char *jinja_call_name(const struct jinja_call *c);
/* The template file the call is written in (as given to the parse). */
const char *jinja_call_file(const struct jinja_call *c);
void *jinja_call_data(const struct jinja_call *c);
size_t jinja_call_argc(const struct jinja_call *c);
const struct jval *jinja_call_arg(const struct jinja_call *c, size_t i); /* NULL past the end */
size_t jinja_call_kwargc(const struct jinja_call *c);
const char *jinja_call_kwname(const struct jinja_call *c, size_t i);
const struct jval *jinja_call_kwval(const struct jinja_call *c, size_t i);
const struct jval *jinja_call_kwarg(const struct jinja_call *c, const char *name);
/* The argument at position pos, or else the keyword argument name. */
const struct jval *jinja_call_param(const struct jinja_call *c, size_t pos, const char *name);
/* The render's context dict (borrowed; none when there is none). */
struct jval jinja_call_context(const struct jinja_call *c);
/* Report an error at the call site; returns -1 for `return jinja_call_error(...)`. */
int jinja_call_error(struct jinja_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Call a value (e.g. the caller) from inside a native. */
int jinja_call_invoke(struct jinja_call *c, struct jval callee, size_t argc, const struct jval *argv,
		      size_t kwc, const char *const *kwnames, const struct jval *kwvals,
		      struct jval *ret);

#endif
