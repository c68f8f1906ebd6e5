/* Record shapes of the REST engine: APIs whose pages are not a list of
 * objects. An endpoint's `record_shape:` turns a page into records:
 *
 *   {type: rows_with_header}  a list of lists whose first row names the
 *                             columns (Google Sheets' values)
 *   {type: zip, names: [P, ...], values: [Q, ...]}
 *                             each record a list of values named by lists
 *                             in the page (GA4's dimensionHeaders.*.name
 *                             with each row's dimensionValues.*.value);
 *                             a value path may be {path: Q, numbers: true}
 *   {type: entries, key_field: F}
 *                             an object keyed by (say) a date, whose values
 *                             are records or lists of them (Matomo)
 *
 * Paths are dotted (jv_path) where a part `*` means every element of a
 * list (or value of an object); a data_selector may use it too
 * (Google Ads' searchStream: `*.results`).
 *
 * The records made are a JSON array parsed into the caller's jv_doc. */
#ifndef DANGO_SOURCES_REST_SHAPE_H
#define DANGO_SOURCES_REST_SHAPE_H
#include <jansson.h>
#include "sources/normalize.h"

struct jv_list {
	const struct jv **v;
	size_t nr, alloc;
};

/* Append the values at path under v to out ('*' parts fan out). */
void jv_collect(const struct jv *v, const char *path, struct jv_list *out);
void jv_list_release(struct jv_list *l);

struct shape_state {
	struct strvec header;   /* rows_with_header: the column names, once seen */
	int have_header;
	struct strbuf text;     /* the made records, as JSON (the doc points into it) */
};
#define SHAPE_STATE_INIT { STRVEC_INIT, 0, STRBUF_INIT }
void shape_state_release(struct shape_state *st);

/* Check a record_shape block: 0, or -1 with err (where names the endpoint). */
int shape_check(const json_t *shape, const char *where, struct strbuf *err);

/* The records of one page: root is the page, recs what the data selector
 * found (a list, or an object for entries). Fills out (parsed into doc):
 * 0, or -1 with err. */
int shape_records(const json_t *shape, const struct jv *root, const struct jv *recs, struct shape_state *st,
		  struct jv_doc *doc, struct jv_list *out, struct strbuf *err);

#endif
