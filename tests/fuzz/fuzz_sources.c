/* libFuzzer target: the YAML loader with sources.yml validation, and what
 * `validate`, `source list --verbose`, `sync` and `--vars` then do with
 * the tree (walk the secrets, turn blocks into JSON, vars into values). */
#include "core/env.h"
#include "core/strbuf.h"
#include "project/sources.h"
#include "sources/preset.h"
#include "transform/dbt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void on_secret(const char *key, const char *var, const char *value, void *data)
{
	struct strbuf *sb = data;
	strbuf_addstr(sb, key);
	strbuf_addstr(sb, var);
	if (value)
		env_mask(sb, value);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct strbuf err = STRBUF_INIT, sink = STRBUF_INIT;
	struct source_list list = { 0 };
	struct env env = { 0 };
	strbuf_init(&list.text, 0);
	if (sources_parse(&list, "sources.yml", (const char *)data, size, &err) == 0) {
		for (size_t i = 0; i < list.nr; i++) {
			const struct source *s = &list.items[i];
			source_each_secret(s, &env, on_secret, &sink);
			if (s->block) {
				json_t *j = yaml_to_json(s->block);
				char *text = json_dumps(j, JSON_COMPACT);
				free(text);
				json_decref(j);
			}
		}
	}
	sources_release(&list);
	/* the same text as --vars */
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct jval vars = jval_undefined();
	strbuf_reset(&err);
	if (dbt_parse_vars(text, &vars, &err) == 0) {
		strbuf_reset(&sink);
		jval_write_repr(&sink, vars);
		jval_unref(vars);
	}
	free(text);
	strbuf_release(&err);
	strbuf_release(&sink);
	return 0;
}
