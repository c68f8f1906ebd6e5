/* libFuzzer target: the Jinja lexer, parser and renderer, in the dbt
 * context of a small project loaded once (tests/fixtures/dbt/jaffle, or
 * $DANGO_FUZZ_DBT), so that every input renders in the same environment,
 * with the same macros and globals, as the models of one `dango run` do.
 * Each input is rendered twice: at parse time (execute=False) and at run
 * time (execute=True, no warehouse). */
#include "core/strbuf.h"
#include "transform/dbt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dbt_project project;
static struct dbt_node *node;
static struct jinja_env plain;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("DANGO_FUZZ_DBT");
	struct dbt_load_opts o = { .project_dir = dir ? dir : "tests/fixtures/dbt/jaffle" };
	struct strbuf err = STRBUF_INIT;
	if (dbt_project_load(&project, &o, &err) < 0 || !project.nr) {
		fprintf(stderr, "fuzz_jinja: cannot load %s (run from the source tree): %s\n", o.project_dir,
			err.buf);
		exit(1);
	}
	node = project.nodes[0];
	strbuf_release(&err);
	jinja_env_init(&plain);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *src = malloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	/* the bare engine, one environment for all inputs */
	struct jinja_template *t = jinja_template_parse(&plain, "fuzz.sql", src, size, &err);
	if (t) {
		jinja_render(&plain, t, jval_undefined(), &out, &err);
		jinja_template_unref(t);
	}
	for (int execute = 0; execute < 2; execute++) {
		strbuf_reset(&out);
		strbuf_reset(&err);
		dbt_render_string(&project, node, NULL, execute, "fuzz.sql", src, &out, &err);
	}
	strbuf_release(&out);
	strbuf_release(&err);
	free(src);
	return 0;
}
