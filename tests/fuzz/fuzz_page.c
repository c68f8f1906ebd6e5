/* libFuzzer target: what the REST API connector does with one HTTP page,
 * without the network: the Link header (http.c's link_next), the JSON
 * body, where the records are (find_records), which paginator the page
 * implies (detect_paginator), and the next link or cursor it gives
 * (jv_path, jv_text, resolve_link). These are static functions of the
 * connector, reached by including its files: a rename there is a compile
 * error here, not a silently stale target.
 *
 * Input: the first line is the Link header's value, the rest the body. */
#include "../../src/sources/http.c"
#include "../../src/sources/rest_api.c"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const selectors[] = { NULL, "data", "data.items", "$.results", "0" };
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	size_t hlen = nl ? (size_t)(nl - text) : 0;
	const char *body = nl ? nl + 1 : text;
	size_t blen = size - (size_t)(body - text);
	struct http_response resp;
	http_response_init(&resp);
	resp.link_next = link_next(text, hlen);
	struct jv_doc doc = JV_DOC_INIT;
	struct strbuf err = STRBUF_INIT, next = STRBUF_INIT, tmp = STRBUF_INIT;
	if (resp.link_next)
		resolve_link(&next, "https://api.example.com/v1/items", resp.link_next);
	if (jv_parse(&doc, body, blen, &err) == 0 && doc.root) {
		int found;
		const char *sel = selectors[size % (sizeof(selectors) / sizeof(selectors[0]))];
		const struct jv *recs = find_records(doc.root, sel, &found);
		for (size_t i = 0; recs && recs->type == JV_ARR && i < recs->n; i++) {
			strbuf_reset(&tmp);
			jv_text(jv_path(&recs->kids[i], "id"), &tmp);
		}
		struct paginator pg = { 0 };
		detect_paginator(&pg, &resp, doc.root);
		if (pg.type == PG_JSON_LINK) {
			const struct jv *nv = jv_path(doc.root, pg.next_url_path);
			strbuf_reset(&tmp);
			if (nv && jv_text(nv, &tmp) == 0 && tmp.len) {
				strbuf_reset(&next);
				resolve_link(&next, "https://api.example.com/v1/items", tmp.buf);
			}
		} else if (pg.type == PG_CURSOR) {
			strbuf_reset(&tmp);
			jv_text(jv_path(doc.root, pg.cursor_path), &tmp);
		}
	}
	jv_doc_release(&doc);
	http_response_release(&resp);
	strbuf_release(&err);
	strbuf_release(&next);
	strbuf_release(&tmp);
	return 0;
}
