/* The C API of the Jinja interpreter: natives with keyword arguments, host
 * objects, macros loaded from macro files and called from C, call blocks
 * with a native callee, return(), docs, errors, values outliving renders. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "transform/jinja/jinja.h"

/* Parse and render src; returns the output (caller frees) or NULL with the
 * error in *err (caller frees). */
static char *render_with(struct jinja_env *env, struct jval ctx, const char *src, char **err)
{
	struct strbuf out = STRBUF_INIT, e = STRBUF_INIT;
	struct jinja_template *t = jinja_template_parse(env, "models/a.sql", src, strlen(src), &e);
	int rc = t ? jinja_render(env, t, ctx, &out, &e) : -1;
	jinja_template_unref(t);
	if (err)
		*err = rc ? strbuf_detach(&e, NULL) : NULL;
	strbuf_release(&e);
	if (rc) {
		strbuf_release(&out);
		return NULL;
	}
	return strbuf_detach(&out, NULL);
}

static void expect_render(struct jinja_env *env, struct jval ctx, const char *src, const char *want)
{
	char *err = NULL;
	char *got = render_with(env, ctx, src, &err);
	if (!got)
		fail_msg("render failed: %s", err);
	assert_string_equal(got, want);
	free(got);
}

static void expect_error(struct jinja_env *env, struct jval ctx, const char *src, const char *want)
{
	char *err = NULL;
	char *got = render_with(env, ctx, src, &err);
	if (got)
		fail_msg("expected an error, got '%s'", got);
	assert_string_equal(err, want);
	free(err);
}

/* ref('name') or ref('package', 'name'), with an optional v= keyword */
static int native_ref(struct jinja_call *c, struct jval *ret)
{
	size_t argc = jinja_call_argc(c);
	if (argc < 1 || argc > 2)
		return jinja_call_error(c, "ref() takes 1 or 2 arguments");
	const char *name = jval_str_cstr(*jinja_call_arg(c, argc - 1));
	if (!name)
		return jinja_call_error(c, "ref() needs a string");
	const struct jval *v = jinja_call_kwarg(c, "v");
	char *s = xasprintf("\"main\".\"%s\"%s", name, v ? "_v" : "");
	*ret = jval_str(s);
	free(s);
	return 0;
}

/* config(**kwargs): remembers the kwargs in the host's dict */
static int native_config(struct jinja_call *c, struct jval *ret)
{
	struct jval *store = jinja_call_data(c);
	for (size_t i = 0; i < jinja_call_kwargc(c); i++)
		jval_dict_set(*store, jinja_call_kwname(c, i), jval_ref(*jinja_call_kwval(c, i)));
	*ret = jval_str("");
	return 0;
}

static void test_natives_and_kwargs(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	struct jval config = jval_dict_new();
	jinja_env_set_global(&env, "ref", jval_native("ref", native_ref, NULL, NULL));
	jinja_env_set_global(&env, "config", jval_native("config", native_config, &config, NULL));
	expect_render(&env, jval_none(),
		      "{{ config(materialized='table', tags=['a', 'b']) }}select * from {{ ref('orders') }} join {{ ref('pkg', 'x', v=2) }}",
		      "select * from \"main\".\"orders\" join \"main\".\"x\"_v");
	/* the kwargs dict outlives the render and the template */
	assert_string_equal(jval_str_cstr(*jval_dict_get(config, "materialized")), "table");
	const struct jval *tags = jval_dict_get(config, "tags");
	assert_non_null(tags);
	assert_int_equal(jval_len(*tags), 2);
	assert_string_equal(jval_str_cstr(*jval_list_at(*tags, 1)), "b");
	expect_error(&env, jval_none(), "\n  {{ ref() }}", "models/a.sql:2:6: ref() takes 1 or 2 arguments");
	jinja_env_release(&env);
	jval_unref(config);
}

/* A relation object: attributes from a getter, printed as a quoted name. */
struct relation {
	const char *schema, *name;
};

static int rel_getattr(void *data, const char *attr, struct jval *out)
{
	struct relation *r = data;
	if (!strcmp(attr, "schema"))
		*out = jval_str(r->schema);
	else if (!strcmp(attr, "identifier"))
		*out = jval_str(r->name);
	else
		return 1;
	return 0;
}

static void rel_str(void *data, struct strbuf *out)
{
	struct relation *r = data;
	strbuf_addf(out, "\"%s\".\"%s\"", r->schema, r->name);
}

static int freed_relations;

static void rel_free(void *data)
{
	freed_relations++;
	free(data);
}

static const struct jinja_object_ops relation_ops = { "Relation", rel_getattr, rel_str, NULL,
						      rel_free, NULL, 0 };

static void test_objects(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	struct relation *rel = xmalloc(sizeof(*rel));
	rel->schema = "analytics";
	rel->name = "orders";
	struct jval ctx = jval_dict_new();
	jval_dict_set(ctx, "this", jval_object(&relation_ops, rel));
	struct jval target = jval_dict_new();
	jval_dict_set(target, "schema", jval_str("dev"));
	jval_dict_set(ctx, "target", jval_object_dict(target));
	expect_render(&env, ctx,
		      "{{ this }} {{ this.schema }}.{{ this.identifier }} {{ this.nope is defined }} {{ target.schema }}",
		      "\"analytics\".\"orders\" analytics.orders False dev");
	expect_error(&env, ctx, "{{ this.nope }}",
		     "models/a.sql:1:4: 'Relation object' has no attribute 'nope'");
	freed_relations = 0;
	jval_unref(ctx);
	assert_int_equal(freed_relations, 1);
	jinja_env_release(&env);
}

static const char MACROS[] =
	"{% macro generate_schema_name(custom_schema_name, node) -%}\n"
	"    {%- if custom_schema_name is none -%}{{ target.schema }}\n"
	"    {%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}{%- endif -%}\n"
	"{%- endmacro %}\n"
	"{% macro cols(xs) %}{% for x in xs %}{{ quote(x) }}{{ ', ' if not loop.last }}{% endfor %}{% endmacro %}\n"
	"{% macro quote(x) %}\"{{ x }}\"{% endmacro %}\n"
	"{% macro get_list() %}{{ return([1, 'two', {'k': none}]) }}{% endmacro %}\n"
	"{% test not_null(model, column_name) %}select * from {{ model }} where {{ column_name }} is null{% endtest %}\n"
	"{% docs orders %}The **orders** table, {{ 1 + 1 }} rows.{% enddocs %}\n";

static void test_macro_files(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
	struct jinja_template *mt =
		jinja_template_parse(&env, "macros/util.sql", MACROS, strlen(MACROS), &err);
	assert_non_null(mt);
	struct jval macros = jval_dict_new();
	assert_int_equal(jinja_template_macros(mt, macros), 5);
	assert_non_null(jval_dict_get(macros, "test_not_null"));
	assert_null(jval_dict_get(macros, "dbt_docs__orders"));
	/* the project's macros become globals */
	for (size_t i = 0; ; i++) {
		const struct jval *k, *v;
		if (!jval_dict_entry(macros, i, &k, &v))
			break;
		jinja_env_set_global(&env, jval_str_cstr(*k), jval_ref(*v));
	}
	/* docs */
	assert_int_equal(jinja_template_doc_count(mt), 1);
	assert_string_equal(jinja_template_doc_name(mt, 0), "orders");
	assert_int_equal(jinja_render_doc(&env, mt, "orders", jval_none(), &out, &err), 0);
	assert_string_equal(out.buf, "The **orders** table, 2 rows.");
	assert_int_equal(jinja_render_doc(&env, mt, "nope", jval_none(), &out, &err), -1);
	strbuf_reset(&err);
	/* the macro file can go: the macros keep its tree alive */
	jinja_template_unref(mt);

	struct jval ctx = jval_dict_new();
	struct jval target = jval_dict_new();
	jval_dict_set(target, "schema", jval_str("dev"));
	jval_dict_set(ctx, "target", target);
	expect_render(&env, ctx, "select {{ cols(['a', 'b']) }} from {{ generate_schema_name(' x ', {}) }}.t",
		      "select \"a\", \"b\" from dev_x.t");

	/* calling a macro from C, with the node's context */
	struct jval args[2] = { jval_none(), jval_dict_new() };
	struct jval ret;
	assert_int_equal(jinja_invoke(&env, ctx, *jval_dict_get(macros, "generate_schema_name"), 2,
				      args, 0, NULL, NULL, &ret, &err),
			 0);
	assert_string_equal(jval_str_cstr(ret), "dev");
	jval_unref(ret);
	const char *kwn[] = { "custom_schema_name", "node" };
	jval_set(&args[0], jval_str("mart"));
	assert_int_equal(jinja_invoke(&env, ctx, *jval_dict_get(macros, "generate_schema_name"), 0,
				      NULL, 2, kwn, args, &ret, &err),
			 0);
	assert_string_equal(jval_str_cstr(ret), "dev_mart");
	jval_unref(ret);
	/* return() hands back a value, not a string */
	assert_int_equal(jinja_invoke(&env, ctx, *jval_dict_get(macros, "get_list"), 0, NULL, 0,
				      NULL, NULL, &ret, &err),
			 0);
	assert_int_equal(ret.type, JVAL_LIST);
	assert_int_equal(jval_len(ret), 3);
	char *s = jval_to_cstr(ret);
	assert_string_equal(s, "[1, 'two', {'k': None}]");
	free(s);
	jval_unref(ret);
	/* errors inside a macro are reported where they happen */
	jval_dict_set(ctx, "target", jval_dict_new());
	expect_error(&env, ctx, "{{ generate_schema_name(none, {}) }}",
		     "macros/util.sql:2:45: 'dict object' has no attribute 'schema'");
	jval_unref(args[0]);
	jval_unref(args[1]);
	jval_unref(ctx);
	jval_unref(macros);
	strbuf_release(&err);
	strbuf_release(&out);
	jinja_env_release(&env);
}

/* statement(name, fetch_result=False): runs its caller's body as "SQL" and
 * keeps it, as dbt's statement block does. */
struct statements {
	struct strbuf log;
};

static int native_statement(struct jinja_call *c, struct jval *ret)
{
	struct statements *st = jinja_call_data(c);
	const struct jval *name = jinja_call_param(c, 0, "name");
	const struct jval *fetch = jinja_call_kwarg(c, "fetch_result");
	const struct jval *caller = jinja_call_kwarg(c, "caller");
	if (!name || !caller)
		return jinja_call_error(c, "statement() needs a name and a body");
	struct jval sql;
	if (jinja_call_invoke(c, *caller, 0, NULL, 0, NULL, NULL, &sql) < 0)
		return -1;
	strbuf_addf(&st->log, "[%s fetch=%d] %s\n", jval_str_cstr(*name),
		    fetch ? jval_truthy(*fetch) : 0, jval_str_cstr(sql));
	jval_unref(sql);
	*ret = jval_str("");
	return 0;
}

static void test_call_block_native(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	struct statements st = { STRBUF_INIT };
	jinja_env_set_global(&env, "statement", jval_native("statement", native_statement, &st, NULL));
	expect_render(&env, jval_none(),
		      "{% for t in ['a', 'b'] %}{% call statement('load_' ~ t, fetch_result=True) %}select * from {{ t }}{% endcall %}{% endfor %}done",
		      "done");
	assert_string_equal(st.log.buf, "[load_a fetch=1] select * from a\n[load_b fetch=1] select * from b\n");
	expect_error(&env, jval_none(), "{% call statement('x') %}{{ missing }}{% endcall %}",
		     "models/a.sql:1:29: 'missing' is undefined");
	strbuf_release(&st.log);
	jinja_env_release(&env);
}

static int filter_as_bool(struct jinja_call *c, struct jval *ret)
{
	const char *s = jval_str_cstr(*jinja_call_arg(c, 0));
	*ret = jval_bool(s && !strcmp(s, "True"));
	return 0;
}

static int test_relation(struct jinja_call *c, struct jval *ret)
{
	const struct jval *v = jinja_call_arg(c, 0);
	*ret = jval_bool(v->type == JVAL_OBJECT);
	return 0;
}

static void test_host_filters_tests(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	jinja_env_add_filter(&env, "as_bool", filter_as_bool, NULL);
	jinja_env_add_test(&env, "relation", test_relation, NULL);
	expect_render(&env, jval_none(), "{{ 'True'|as_bool }} {{ ('x' ~ 'y')|as_bool }} {{ 1 is relation }}",
		      "True False False");
	expect_error(&env, jval_none(), "{{ 1|nope }}", "models/a.sql:1:6: no filter named 'nope'");
	jinja_env_release(&env);
}

static void test_errors(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	expect_error(&env, jval_none(), "a\nb\n  {{ foo }}", "models/a.sql:3:6: 'foo' is undefined");
	expect_error(&env, jval_none(), "{% if true %}\n\n\n\n",
		     "models/a.sql:4:1: unexpected end of template, expected 'endif' or 'else' or 'elif' (the innermost open block is 'if')");
	expect_error(&env, jval_none(), "{{ 1 +* 2 }}", "models/a.sql:1:7: expected an expression, got '*'");
	jinja_env_release(&env);
}

static void test_lenient_undefined(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	env.lenient_undefined = 1;
	expect_render(&env, jval_none(), "[{{ nope }}]{% if nope %}x{% endif %}{% for a in nope %}y{% endfor %}{{ nope|length }}",
		      "[]0");
	expect_error(&env, jval_none(), "{{ nope.attr }}", "models/a.sql:1:4: 'nope' is undefined");
	jinja_env_release(&env);
}

static void test_values(void **state)
{
	struct jval d = jval_dict_new();
	jval_dict_set(d, "b", jval_int(1));
	jval_dict_set(d, "a", jval_float(0.5));
	jval_dict_set(d, "b", jval_list_new());
	assert_int_equal(jval_dict_setv(d, jval_list_new(), jval_none()), -1);
	char *s = jval_to_cstr(d);
	assert_string_equal(s, "{'b': [], 'a': 0.5}");
	free(s);
	struct jval k = jval_str("b");
	assert_int_equal(jval_dict_del(d, k, NULL), 1);
	jval_unref(k);
	for (int i = 0; i < 100; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		jval_dict_set(d, key, jval_int(i));
	}
	assert_int_equal(jval_dict_get(d, "k77")->u.i, 77);
	assert_int_equal(jval_len(d), 101);
	struct strbuf sb = STRBUF_INIT;
	double fs[] = { 1.0, 0.1, 1e20, 1e16, 1e15, 1.5e-5, 123.456, -0.0 };
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		jval_write_float(&sb, fs[i]);
		strbuf_addch(&sb, ' ');
	}
	assert_string_equal(sb.buf, "1.0 0.1 1e+20 1e+16 1000000000000000.0 1.5e-05 123.456 -0.0 ");
	strbuf_release(&sb);
	jval_unref(d);
}

/* Renders of one parsed template in several threads at once. */
struct thread_arg {
	struct jinja_env *env;
	struct jinja_template *t;
	struct jval ctx;
	int ok;
};

static void *render_thread(void *p)
{
	struct thread_arg *a = p;
	a->ok = 1;
	for (int i = 0; i < 200; i++) {
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		if (jinja_render(a->env, a->t, a->ctx, &out, &err) || strcmp(out.buf, "0,1,2,|abc"))
			a->ok = 0;
		strbuf_release(&out);
		strbuf_release(&err);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	struct strbuf err = STRBUF_INIT;
	const char *src = "{% macro m(x) %}{{ x }},{% endmacro %}{% for i in range(3) %}{{ m(i) }}{% endfor %}|{{ s }}";
	struct jinja_template *t = jinja_template_parse(&env, "t.sql", src, strlen(src), &err);
	assert_non_null(t);
	struct jval ctx = jval_dict_new();
	jval_dict_set(ctx, "s", jval_str("abc"));
	pthread_t th[4];
	struct thread_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ &env, t, ctx, 0 };
		pthread_create(&th[i], NULL, render_thread, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(args[i].ok);
	}
	jval_unref(ctx);
	jinja_template_unref(t);
	strbuf_release(&err);
	jinja_env_release(&env);
}

/* 1,000 model-sized templates parsed and rendered in one environment all
 * give the same text (no state leaks between renders); speed is measured by
 * bench/transform.sh, never asserted here. */
static void test_repeated_renders(void **state)
{
	struct jinja_env env;
	jinja_env_init(&env);
	jinja_env_set_global(&env, "ref", jval_native("ref", native_ref, NULL, NULL));
	const char *src =
		"{{ config_value }}\n"
		"with src as (select * from {{ ref('stg_orders') }}),\n"
		"{%- set cols = ['id', 'customer_id', 'amount', 'status', 'created_at'] %}\n"
		"final as (\n  select\n  {%- for c in cols %}\n    {{ c | lower }}{{ ',' if not loop.last }}\n  {%- endfor %}\n"
		"  from src\n  {% if is_incremental %}where created_at > (select max(created_at) from {{ this }}){% endif %}\n)\n"
		"select * from final {# comment #}\n";
	struct jval ctx = jval_dict_new();
	jval_dict_set(ctx, "config_value", jval_str("-- x"));
	jval_dict_set(ctx, "is_incremental", jval_bool(1));
	jval_dict_set(ctx, "this", jval_str("\"a\".\"b\""));
	struct strbuf first = STRBUF_INIT;
	for (int i = 0; i < 1000; i++) {
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		struct jinja_template *t = jinja_template_parse(&env, "m.sql", src, strlen(src), &err);
		assert_non_null(t);
		assert_int_equal(jinja_render(&env, t, ctx, &out, &err), 0);
		if (!i)
			strbuf_addbuf(&first, &out);
		assert_string_equal(out.buf, first.buf);
		jinja_template_unref(t);
		strbuf_release(&out);
		strbuf_release(&err);
	}
	assert_non_null(strstr(first.buf, "customer_id,"));
	assert_non_null(strstr(first.buf, "where created_at > (select max(created_at) from \"a\".\"b\")"));
	strbuf_release(&first);
	jval_unref(ctx);
	jinja_env_release(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_natives_and_kwargs),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_macro_files),
		cmocka_unit_test(test_call_block_native),
		cmocka_unit_test(test_host_filters_tests),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_lenient_undefined),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_repeated_renders),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
