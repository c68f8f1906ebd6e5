/* libFuzzer target: dbt node selection (--select / --exclude) on a small
 * project loaded once (tests/fixtures/dbt/jaffle, or $DANGO_FUZZ_DBT).
 * Input: selector tokens separated by white space; after a token
 * "--exclude" they are exclusions. */
#include "core/strbuf.h"
#include "core/strvec.h"
#include "transform/dbt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct dbt_project project;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("DANGO_FUZZ_DBT");
	struct dbt_load_opts o = { .project_dir = dir ? dir : "tests/fixtures/dbt/jaffle" };
	struct strbuf err = STRBUF_INIT;
	if (dbt_project_load(&project, &o, &err) < 0 || dbt_graph_build(&project, &err) < 0) {
		fprintf(stderr, "fuzz_selector: cannot load %s (run from the source tree): %s\n", o.project_dir,
			err.buf);
		exit(1);
	}
	dbt_graph_add_test_edges(&project);
	strbuf_release(&err);
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct strvec sel = STRVEC_INIT, exc = STRVEC_INIT;
	struct strbuf tok = STRBUF_INIT, err = STRBUF_INIT;
	struct strvec *to = &sel;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || isspace(data[i]) || !data[i]) {
			if (tok.len) {
				if (!strcmp(tok.buf, "--exclude"))
					to = &exc;
				else
					strvec_push(to, tok.buf);
				strbuf_reset(&tok);
			}
			continue;
		}
		strbuf_addch(&tok, (char)data[i]);
	}
	unsigned kinds = size ? data[0] : 0xf;
	dbt_select(&project, &sel, &exc, kinds, size > 1 ? data[1] & 1 : 1, &err);
	strvec_clear(&sel);
	strvec_clear(&exc);
	strbuf_release(&tok);
	strbuf_release(&err);
	return 0;
}
