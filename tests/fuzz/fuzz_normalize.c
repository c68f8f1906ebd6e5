/* libFuzzer target: the JSON parser and normalizer of API pages
 * (src/sources/normalize.c): parse, then write every record of the page
 * (or the page itself) into spool files, as an API sync does. */
#include "core/fs.h"
#include "core/strbuf.h"
#include "sources/normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char spool[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(spool, sizeof(spool), "/tmp/dango-fuzz-normalize.%d", (int)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct jv_doc doc = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, sb = STRBUF_INIT;
	if (jv_parse(&doc, (const char *)data, size, &err) == 0 && doc.root) {
		struct normalizer n;
		fs_remove_tree(spool);
		fs_mkdir_p(spool, 0700);
		normalizer_init(&n, spool);
		n.rotate_bytes = 4096; /* exercise file rotation too */
		int t = normalizer_table(&n, "items", -1);
		const struct jv *recs = doc.root;
		if (recs->type == JV_ARR) {
			for (size_t i = 0; i < recs->n; i++)
				if (normalizer_add(&n, t, &recs->kids[i], NULL, 0, i & 1 ? "seed" : NULL, 1000, &err) < 0)
					break;
		} else {
			normalizer_add(&n, t, recs, NULL, 0, NULL, 2, &err);
		}
		normalizer_finish(&n, &err);
		for (size_t i = 0; i < n.nr_tables; i++)
			for (size_t k = 0; k < n.tables[i].files.nr; k++)
				normalizer_relation(&n, &n.tables[i], n.tables[i].files.v[k], &sb);
		normalizer_release(&n);
		fs_remove_tree(spool);
	}
	jv_doc_release(&doc);
	strbuf_release(&err);
	strbuf_release(&sb);
	return 0;
}
