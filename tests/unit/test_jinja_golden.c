/* Golden tests of the Jinja interpreter: every tests/jinja/cases/NAME.tmpl
 * is rendered with NAME.json as context and compared byte for byte with
 * NAME.out (made by real Jinja2, see scripts/jinja-golden.py), or its error
 * message with NAME.err. One cmocka test per case.
 *
 * The cases are found under $DANGO_SRC/tests/jinja/cases, or
 * tests/jinja/cases from the current directory. JINJA_GOLDEN_WRITE_ERR=1
 * rewrites existing .err files with the messages we produce. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/xalloc.h"
#include "transform/dbt.h"
#include "transform/jinja/jinja.h"
#include "transform/pymodules.h"

void dbt_modules_extend(struct jval mods); /* runtime.c: modules.re */

struct gcase {
	char *name;
	char *dir;
};


static int read_opt(const char *dir, const char *name, const char *ext, struct strbuf *sb)
{
	char *path = xasprintf("%s/%s%s", dir, name, ext);
	int rc = strbuf_read_file(sb, path);
	free(path);
	return rc;
}

/* Print where two outputs first differ, line by line. */
static void report_diff(const char *what, const char *want, const char *got)
{
	size_t line = 1, i = 0;
	while (want[i] && want[i] == got[i]) {
		if (want[i] == '\n')
			line++;
		i++;
	}
	size_t ls = i;
	while (ls > 0 && want[ls - 1] != '\n')
		ls--;
	const char *we = strchr(want + ls, '\n'), *ge = strchr(got + ls, '\n');
	int wl = we ? (int)(we - want - ls) : (int)strlen(want + ls);
	int gl = ge ? (int)(ge - got - ls) : (int)strlen(got + ls);
	print_error("%s differs at line %zu, byte %zu:\n- %.*s\n+ %.*s\n--- expected ---\n%s\n"
		    "--- actual ---\n%s\n",
		    what, line, i, wl, want + ls, gl, got + ls, want, got);
}

static void run_case(void **state)
{
	struct gcase *gc = *state;
	struct strbuf src = STRBUF_INIT, want = STRBUF_INIT, err = STRBUF_INIT, out = STRBUF_INIT,
		      js = STRBUF_INIT;
	struct jval ctx = jval_dict_new();
	int expect_err = 0;

	assert_int_equal(read_opt(gc->dir, gc->name, ".tmpl", &src), 0);
	if (!read_opt(gc->dir, gc->name, ".err", &want))
		expect_err = 1;
	else
		assert_int_equal(read_opt(gc->dir, gc->name, ".out", &want), 0);
	if (!read_opt(gc->dir, gc->name, ".json", &js)) {
		json_error_t jerr;
		json_t *j = json_loadb(js.buf, js.len, 0, &jerr);
		if (!j)
			fail_msg("%s.json: %s", gc->name, jerr.text);
		jval_unref(ctx);
		ctx = dbt_jval_from_json(j);
		json_decref(j);
	}

	struct jinja_env env;
	jinja_env_init(&env);
	/* lenient_*: Jinja's default Undefined, as dbt renders (not StrictUndefined) */
	env.lenient_undefined = !strncmp(gc->name, "lenient_", 8);
	/* modules_*: dbt's `modules` (datetime, pytz, itertools, re) */
	if (!strncmp(gc->name, "modules_", 8)) {
		struct jval mods = jval_dict_new();
		dbt_pymodules_add(mods);
		dbt_modules_extend(mods);
		jinja_env_set_global(&env, "modules", jval_object_dict(mods));
	}
	char *file = xasprintf("%s.tmpl", gc->name);
	struct jinja_template *t = jinja_template_parse(&env, file, src.buf, src.len, &err);
	int rc = t ? jinja_render(&env, t, ctx, &out, &err) : -1;
	jinja_template_unref(t);
	jinja_env_release(&env);
	jval_unref(ctx);
	free(file);

	int ok;
	if (expect_err) {
		strbuf_rtrim(&want);
		if (rc == 0) {
			print_error("expected error '%s', rendered:\n%s\n", want.buf, out.buf);
			ok = 0;
		} else if (getenv("JINJA_GOLDEN_WRITE_ERR")) {
			char *path = xasprintf("%s/%s.err", gc->dir, gc->name);
			FILE *fp = fopen(path, "w");
			if (fp) {
				fprintf(fp, "%s\n", err.buf);
				fclose(fp);
			}
			free(path);
			ok = 1;
		} else {
			ok = !strcmp(want.buf, err.buf);
			if (!ok)
				report_diff("error", want.buf, err.buf);
		}
	} else if (rc) {
		print_error("render failed: %s\n", err.buf);
		ok = 0;
	} else {
		ok = want.len == out.len && !memcmp(want.buf, out.buf, out.len);
		if (!ok)
			report_diff("output", want.buf, out.buf);
	}
	strbuf_release(&src);
	strbuf_release(&want);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&js);
	if (!ok)
		fail();
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *root = getenv("DANGO_SRC");
	char *dir = root ? xasprintf("%s/tests/jinja/cases", root) : xstrdup("tests/jinja/cases");
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", dir);
		free(dir);
		return 1;
	}
	char **names = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len > 5 && !strcmp(de->d_name + len - 5, ".tmpl")) {
			/* an optional filter: only cases whose names contain argv[1] */
			if (argc > 1 && !strstr(de->d_name, argv[1]))
				continue;
			ALLOC_GROW(names, n + 1, alloc);
			names[n++] = xstrndup(de->d_name, len - 5);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	struct CMUnitTest *tests = xcalloc(n ? n : 1, sizeof(*tests));
	struct gcase *cases = xcalloc(n ? n : 1, sizeof(*cases));
	for (size_t i = 0; i < n; i++) {
		cases[i].name = names[i];
		cases[i].dir = dir;
		tests[i].name = names[i];
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	int rc = _cmocka_run_group_tests("jinja_golden", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(tests);
	free(cases);
	free(dir);
	return rc;
}
