/* Record shapes (see rest_shape.h). The records are written as JSON text
 * from the raw text of the page's values (nothing is re-encoded) and
 * parsed once more, so that the rest of the engine sees ordinary objects. */
#include "sources/rest_shape.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdlib.h>
#include <string.h>

static void list_push(struct jv_list *l, const struct jv *v)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = v;
}

void jv_list_release(struct jv_list *l)
{
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

void jv_collect(const struct jv *v, const char *path, struct jv_list *out)
{
	if (!v)
		return;
	const char *star = path;
	/* the first part that is exactly "*" */
	while ((star = strchr(star, '*'))) {
		int starts = star == path || star[-1] == '.';
		int ends = !star[1] || star[1] == '.';
		if (starts && ends)
			break;
		star++;
	}
	if (!star) {
		const struct jv *p = jv_path(v, path);
		if (p)
			list_push(out, p);
		return;
	}
	char *prefix = xstrndup(path, (size_t)(star - path));
	if (*prefix && prefix[strlen(prefix) - 1] == '.')
		prefix[strlen(prefix) - 1] = '\0';
	const struct jv *node = *prefix ? jv_path(v, prefix) : v;
	const char *rest = star[1] == '.' ? star + 2 : "";
	free(prefix);
	if (node && (node->type == JV_ARR || node->type == JV_OBJ))
		for (size_t i = 0; i < node->n; i++)
			jv_collect(&node->kids[i], rest, out);
}

void shape_state_release(struct shape_state *st)
{
	strvec_clear(&st->header);
	strbuf_release(&st->text);
}

static const char *shape_type(const json_t *shape)
{
	const char *t = json_string_value(json_object_get(shape, "type"));
	return t ? t : json_string_value(shape);
}

int shape_check(const json_t *shape, const char *where, struct strbuf *err)
{
	const char *t = shape_type(shape);
	if (!t || (strcmp(t, "rows_with_header") && strcmp(t, "zip") && strcmp(t, "entries"))) {
		strbuf_addf(err, "%s: record_shape type '%s' is not rows_with_header, zip or entries", where, t ? t : "?");
		return -1;
	}
	if (!strcmp(t, "zip") && (!json_is_array(json_object_get(shape, "names")) ||
				  !json_is_array(json_object_get(shape, "values")))) {
		strbuf_addf(err, "%s: record_shape zip needs 'names' and 'values' lists of paths", where);
		return -1;
	}
	return 0;
}

static void add_raw(struct strbuf *sb, const struct jv *v)
{
	const char *raw;
	size_t n;
	if (!v) {
		strbuf_addstr(sb, "null");
		return;
	}
	jv_raw(v, &raw, &n);
	strbuf_add(sb, raw, n);
}

/* A string that is a plain decimal number, written as that number. */
static void add_maybe_number(struct strbuf *sb, const struct jv *v)
{
	if (v && v->type == JV_STR && !v->esc && v->len && v->len < 40) {
		char buf[48], *end;
		memcpy(buf, v->s, v->len);
		buf[v->len] = '\0';
		strtod(buf, &end);
		if (!*end && strspn(buf, "0123456789.-+eE") == v->len && buf[0] != '+' && buf[0] != '.') {
			strbuf_addstr(sb, buf);
			return;
		}
	}
	add_raw(sb, v);
}

static void unique_name(struct strvec *names, const char *want, size_t i)
{
	struct strbuf sb = STRBUF_INIT;
	if (*want)
		strbuf_addstr(&sb, want);
	else
		strbuf_addf(&sb, "column_%zu", i + 1);
	for (int k = 2; strvec_has(names, sb.buf); k++) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s_%d", *want ? want : "column", k);
	}
	strvec_push(names, sb.buf);
	strbuf_release(&sb);
}

static int rows_with_header(const struct jv *recs, struct shape_state *st, struct strbuf *out)
{
	size_t first = 0, nrec = 0;
	struct strbuf cell = STRBUF_INIT;
	if (!recs || recs->type != JV_ARR)
		return 0;
	if (!st->have_header && recs->n) {
		const struct jv *h = &recs->kids[0];
		for (size_t i = 0; h->type == JV_ARR && i < h->n; i++) {
			strbuf_reset(&cell);
			jv_text(&h->kids[i], &cell);
			unique_name(&st->header, cell.buf, i);
		}
		st->have_header = 1;
		first = 1;
	}
	for (size_t r = first; r < recs->n; r++) {
		const struct jv *row = &recs->kids[r];
		if (row->type != JV_ARR || !row->n)
			continue; /* an empty row of the sheet */
		strbuf_addstr(out, nrec++ ? ",{" : "{");
		for (size_t i = 0; i < row->n; i++) {
			if (i)
				strbuf_addch(out, ',');
			if (i < st->header.nr) {
				strbuf_add_json_str(out, st->header.v[i]);
			} else {
				strbuf_reset(&cell);
				strbuf_addf(&cell, "column_%zu", i + 1);
				strbuf_add_json_str(out, cell.buf);
			}
			strbuf_addch(out, ':');
			add_raw(out, &row->kids[i]);
		}
		strbuf_addch(out, '}');
	}
	strbuf_release(&cell);
	return 0;
}

static int zip(const json_t *shape, const struct jv *root, const struct jv *recs, struct strbuf *out,
	       struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	struct jv_list l = { 0 };
	struct strbuf cell = STRBUF_INIT;
	size_t i, nrec = 0;
	json_t *p;
	json_array_foreach(json_object_get(shape, "names"), i, p) {
		if (!json_is_string(p))
			continue;
		l.nr = 0;
		jv_collect(root, json_string_value(p), &l);
		for (size_t k = 0; k < l.nr; k++) {
			strbuf_reset(&cell);
			jv_text(l.v[k], &cell);
			unique_name(&names, cell.buf, names.nr);
		}
	}
	for (size_t r = 0; recs && recs->type == JV_ARR && r < recs->n; r++) {
		size_t col = 0;
		strbuf_addstr(out, nrec++ ? ",{" : "{");
		json_array_foreach(json_object_get(shape, "values"), i, p) {
			const char *path = json_is_string(p) ? json_string_value(p)
							     : json_string_value(json_object_get(p, "path"));
			int numbers = json_is_true(json_object_get(p, "numbers"));
			if (!path)
				continue;
			l.nr = 0;
			jv_collect(&recs->kids[r], path, &l);
			for (size_t k = 0; k < l.nr; k++, col++) {
				if (col >= names.nr) {
					strbuf_addf(err, "record_shape zip: a record has more values than the %zu names", names.nr);
					strvec_clear(&names);
					jv_list_release(&l);
					strbuf_release(&cell);
					return -1;
				}
				if (col)
					strbuf_addch(out, ',');
				strbuf_add_json_str(out, names.v[col]);
				strbuf_addch(out, ':');
				if (numbers)
					add_maybe_number(out, l.v[k]);
				else
					add_raw(out, l.v[k]);
			}
		}
		strbuf_addch(out, '}');
	}
	strvec_clear(&names);
	jv_list_release(&l);
	strbuf_release(&cell);
	return 0;
}

/* One member of the entries object: its key added to each record. */
static void entry_record(struct strbuf *out, const char *field, const char *key, const struct jv *v, size_t *nrec)
{
	strbuf_addstr(out, (*nrec)++ ? ",{" : "{");
	strbuf_add_json_str(out, field);
	strbuf_addch(out, ':');
	strbuf_add_json_str(out, key);
	if (v->type == JV_OBJ) {
		for (size_t i = 0; i < v->n; i++) {
			struct strbuf k = STRBUF_INIT;
			if (v->kids[i].kesc)
				jv_unescape(&k, v->kids[i].key, v->kids[i].klen);
			else
				strbuf_add(&k, v->kids[i].key, v->kids[i].klen);
			if (strcmp(k.buf, field)) {
				strbuf_addch(out, ',');
				strbuf_add_json_str(out, k.buf);
				strbuf_addch(out, ':');
				add_raw(out, &v->kids[i]);
			}
			strbuf_release(&k);
		}
	} else {
		strbuf_addstr(out, ",\"value\":");
		add_raw(out, v);
	}
	strbuf_addch(out, '}');
}

static int entries(const json_t *shape, const struct jv *recs, struct strbuf *out)
{
	const char *field = json_string_value(json_object_get(shape, "key_field"));
	size_t nrec = 0;
	if (!field)
		field = "key";
	if (!recs || recs->type != JV_OBJ)
		return 0;
	for (size_t i = 0; i < recs->n; i++) {
		struct strbuf key = STRBUF_INIT;
		const struct jv *v = &recs->kids[i];
		if (v->kesc)
			jv_unescape(&key, v->key, v->klen);
		else
			strbuf_add(&key, v->key, v->klen);
		if (v->type == JV_ARR) {
			for (size_t k = 0; k < v->n; k++)
				entry_record(out, field, key.buf, &v->kids[k], &nrec);
		} else {
			entry_record(out, field, key.buf, v, &nrec);
		}
		strbuf_release(&key);
	}
	return 0;
}

int shape_records(const json_t *shape, const struct jv *root, const struct jv *recs, struct shape_state *st,
		  struct jv_doc *doc, struct jv_list *out, struct strbuf *err)
{
	const char *t = shape_type(shape);
	int rc;
	strbuf_reset(&st->text);
	strbuf_addch(&st->text, '[');
	if (!strcmp(t, "rows_with_header"))
		rc = rows_with_header(recs, st, &st->text);
	else if (!strcmp(t, "zip"))
		rc = zip(shape, root, recs, &st->text, err);
	else
		rc = entries(shape, recs, &st->text);
	strbuf_addch(&st->text, ']');
	if (rc < 0)
		return -1;
	struct strbuf e = STRBUF_INIT;
	if (jv_parse(doc, st->text.buf, st->text.len, &e) < 0) {
		strbuf_addf(err, "record_shape %s made invalid JSON: %s", t, e.buf);
		strbuf_release(&e);
		return -1;
	}
	strbuf_release(&e);
	out->nr = 0;
	for (size_t i = 0; i < doc->root->n; i++)
		list_push(out, &doc->root->kids[i]);
	return 0;
}
