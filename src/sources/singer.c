/* The Singer protocol (SCHEMA, RECORD, STATE, ACTIVATE_VERSION) over the
 * command connector's lines.
 *
 * A SCHEMA declares its stream's columns to the normalizer with the JSON
 * Schema's types (integer BIGINT, number DOUBLE, boolean, string with
 * format date-time TIMESTAMPTZ and date DATE, objects with properties
 * flattened to a__b columns, arrays as child tables); its key_properties
 * make the stream merge on them. A RECORD's time_extracted fills
 * _dlt_extracted_at of its row, its version the column _sdc_table_version.
 * The last STATE is kept for the engine to commit with the rows. An
 * ACTIVATE_VERSION makes the rows of older versions go once the new ones
 * are in (sync_resource.delete_where). */
#include "sources/command_int.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "ingest/sync.h"

#include <stdlib.h>
#include <string.h>

int singer_looks_like(const struct jv *msg)
{
	static const char *const types[] = { "SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION", "BATCH", NULL };
	const struct jv *t = jv_get(msg, "type");
	if (!t || t->type != JV_STR)
		return 0;
	for (size_t i = 0; types[i]; i++)
		if (t->len == strlen(types[i]) && !memcmp(t->s, types[i], t->len))
			return 1;
	return 0;
}

/* ---- SCHEMA: JSON Schema to declared columns ---------------------------------------- */

enum decl { D_NONE, D_SCALAR, D_OBJECT, D_LIST };

/* The non-null types of a schema ("type": "x" or ["null", "x"], or the
 * branches of anyOf/oneOf) as bits. */
#define T_STRING 1
#define T_INTEGER 2
#define T_NUMBER 4
#define T_BOOLEAN 8
#define T_OBJECT 16
#define T_ARRAY 32

static unsigned type_bits(json_t *schema, json_t **branch)
{
	unsigned bits = 0;
	json_t *t = json_object_get(schema, "type"), *v;
	size_t i;
	static const char *const names[] = { "string", "integer", "number", "boolean", "object", "array" };
	if (json_is_string(t) || json_is_array(t)) {
		json_t *one = json_is_string(t) ? t : NULL;
		for (i = 0; one ? i < 1 : i < json_array_size(t); i++) {
			const char *n = json_string_value(one ? one : json_array_get(t, i));
			for (size_t k = 0; n && k < ARRAY_SIZE(names); k++)
				if (!strcmp(n, names[k]))
					bits |= 1u << k;
		}
		*branch = schema;
		return bits;
	}
	json_t *any = json_object_get(schema, "anyOf");
	if (!any)
		any = json_object_get(schema, "oneOf");
	json_array_foreach(any, i, v) {
		json_t *b = NULL;
		unsigned vb = type_bits(v, &b);
		/* the first branch that is not just null carries formats and properties */
		if (vb && !bits)
			*branch = b;
		bits |= vb;
	}
	return bits;
}

/* What a field is, and for a scalar its column type. */
static enum decl schema_decl(json_t *schema, enum norm_type *type, json_t **branch)
{
	json_t *b = schema;
	unsigned bits = type_bits(schema, &b);
	*branch = b;
	if (!bits)
		return D_NONE;
	if (bits == T_OBJECT)
		return json_is_object(json_object_get(b, "properties")) ? D_OBJECT : D_NONE;
	if (bits == T_ARRAY)
		return D_LIST;
	if (bits & (T_OBJECT | T_ARRAY)) {
		*type = NT_JSON;
		return D_SCALAR;
	}
	if (bits == T_STRING) {
		const char *f = json_string_value(json_object_get(b, "format"));
		*type = f && !strcmp(f, "date-time") ? NT_TIMESTAMP : f && !strcmp(f, "date") ? NT_DATE : NT_TEXT;
	} else if (bits == T_INTEGER) {
		*type = NT_BIGINT;
	} else if (!(bits & ~(T_INTEGER | T_NUMBER))) {
		*type = NT_DOUBLE;
	} else if (bits == T_BOOLEAN) {
		*type = NT_BOOL;
	} else {
		*type = NT_TEXT; /* a string or a number, say */
	}
	return D_SCALAR;
}

static void declare_props(struct normalizer *n, int t, int parent, json_t *props, int depth);

static void declare_field(struct normalizer *n, int t, int parent, const char *key, json_t *schema, int depth)
{
	enum norm_type type = NT_TEXT;
	json_t *b;
	enum decl d = schema_decl(schema, &type, &b);
	if (depth > 30)
		return; /* left to inference */
	switch (d) {
	case D_SCALAR:
		normalizer_declare_column(n, t, parent, key, type);
		break;
	case D_OBJECT:
		declare_props(n, t, normalizer_declare_object(n, t, parent, key), json_object_get(b, "properties"),
			      depth + 1);
		break;
	case D_LIST: {
		int child = normalizer_declare_list(n, t, parent, key);
		json_t *items = json_object_get(b, "items"), *ib;
		enum norm_type it = NT_TEXT;
		enum decl id = json_is_object(items) ? schema_decl(items, &it, &ib) : D_NONE;
		if (id == D_OBJECT)
			declare_props(n, child, -1, json_object_get(ib, "properties"), depth + 1);
		else if (id == D_SCALAR)
			normalizer_declare_column(n, child, -1, "value", it);
		break;
	}
	default:
		break;
	}
}

static void declare_props(struct normalizer *n, int t, int parent, json_t *props, int depth)
{
	const char *key;
	json_t *v;
	json_object_foreach(props, key, v)
		if (json_is_object(v))
			declare_field(n, t, parent, key, v, depth);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int on_schema(struct cmd_extract *x, const char *line, size_t len, struct strbuf *err)
{
	json_error_t je;
	json_t *m = json_loadb(line, len, 0, &je), *schema, *keys, *v;
	const char *name = jstr(m, "stream");
	int ret = -1;
	size_t i;
	if (!name || !*name) {
		strbuf_addstr(err, "SCHEMA without a \"stream\" name");
		goto out;
	}
	schema = json_object_get(m, "schema");
	if (!json_is_object(schema)) {
		strbuf_addf(err, "SCHEMA of stream '%s' has no \"schema\" object", name);
		goto out;
	}
	keys = json_object_get(m, "key_properties");
	if (keys && !json_is_array(keys)) {
		strbuf_addf(err, "SCHEMA of stream '%s': \"key_properties\" must be a list of field names", name);
		goto out;
	}
	struct cmd_stream *st = cmd_stream_get(x, name, 1);
	int first = !st->have_schema;
	st->have_schema = 1;
	if (first && json_array_size(keys)) {
		json_array_foreach(keys, i, v) {
			if (!json_is_string(v)) {
				strbuf_addf(err, "SCHEMA of stream '%s': \"key_properties\" must be a list of field names", name);
				goto out;
			}
			strvec_push(&st->key, json_string_value(v));
		}
		st->wd = WD_MERGE;
	}
	if (first)
		cmd_stream_describe(x, st);
	declare_props(&x->norm, st->t, -1, json_object_get(schema, "properties"), 0);
	json_t *marks = json_object_get(m, "bookmark_properties");
	if (first && json_array_size(marks)) {
		struct strbuf sb = STRBUF_INIT;
		json_array_foreach(marks, i, v)
			if (json_is_string(v))
				strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", json_string_value(v));
		strvec_pushf(&x->job->notes, "stream %s: bookmark_properties %s (the program's cursor, kept in its STATE)",
			     name, sb.buf);
		strbuf_release(&sb);
	}
	ret = 0;
out:
	if (!m)
		strbuf_addf(err, "invalid JSON in SCHEMA: %s", je.text);
	json_decref(m);
	return ret;
}

/* ---- RECORD, STATE, ACTIVATE_VERSION ------------------------------------------------ */

static int name_of(const struct jv *msg, const char *what, struct strbuf *name, struct strbuf *err)
{
	const struct jv *s = jv_get(msg, "stream");
	if (!s || s->type != JV_STR || !s->len) {
		strbuf_addf(err, "%s without a \"stream\" name", what);
		return -1;
	}
	jv_unescape(name, s->s, s->len);
	return 0;
}

static int on_record(struct cmd_extract *x, const struct jv *msg, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	struct norm_extra extra[2];
	size_t nx = 0;
	int ret = -1;
	if (name_of(msg, "RECORD", &name, err) < 0)
		goto out;
	struct cmd_stream *st = cmd_stream_get(x, name.buf, 0);
	if (!st || !st->have_schema) {
		strbuf_addf(err, "RECORD for stream '%s' before its SCHEMA (the Singer specification needs a SCHEMA "
			    "message first)", name.buf);
		goto out;
	}
	const struct jv *rec = jv_get(msg, "record");
	if (!rec || rec->type != JV_OBJ) {
		strbuf_addf(err, "RECORD of stream '%s' has no \"record\" object", name.buf);
		goto out;
	}
	if (!st->selected) {
		ret = 0;
		goto out;
	}
	const struct jv *te = jv_get(msg, "time_extracted"), *ver = jv_get(msg, "version");
	if (te && te->type == JV_STR && !te->esc && norm_is_timestamp(te->s, te->len)) {
		extra[nx].name = "_dlt_extracted_at";
		jv_raw(te, &extra[nx].raw, &extra[nx].len);
		extra[nx++].type = NT_TIMESTAMP;
	}
	if (ver && ver->type == JV_NUM && ver->is_int) {
		extra[nx].name = "_sdc_table_version";
		jv_raw(ver, &extra[nx].raw, &extra[nx].len);
		extra[nx++].type = NT_BIGINT;
		st->has_version = 1;
	}
	ret = cmd_add_record(x, st, rec, extra, nx, err);
out:
	strbuf_release(&name);
	return ret;
}

static int on_state(struct cmd_extract *x, const struct jv *msg, struct strbuf *err)
{
	const struct jv *v = jv_get(msg, "value");
	const char *raw;
	size_t n;
	json_error_t je;
	if (!v) {
		strbuf_addstr(err, "STATE without a \"value\"");
		return -1;
	}
	jv_raw(v, &raw, &n);
	json_t *st = json_loadb(raw, n, JSON_DECODE_ANY, &je);
	if (!st) {
		strbuf_addf(err, "STATE value: %s", je.text);
		return -1;
	}
	json_decref(x->state);
	x->state = st;
	return 0;
}

static int on_activate(struct cmd_extract *x, const struct jv *msg, struct strbuf *err)
{
	struct strbuf name = STRBUF_INIT;
	const struct jv *ver = jv_get(msg, "version");
	int ret = -1;
	if (name_of(msg, "ACTIVATE_VERSION", &name, err) < 0)
		goto out;
	if (!ver || ver->type != JV_NUM || !ver->is_int) {
		strbuf_addf(err, "ACTIVATE_VERSION of stream '%s' without an integer \"version\"", name.buf);
		goto out;
	}
	struct cmd_stream *st = cmd_stream_get(x, name.buf, 0);
	if (!st || !st->have_schema) {
		strbuf_addf(err, "ACTIVATE_VERSION for stream '%s' before its SCHEMA", name.buf);
		goto out;
	}
	st->activated = 1;
	st->version = strtoll(ver->s, NULL, 10);
	ret = 0;
out:
	strbuf_release(&name);
	return ret;
}

int singer_message(struct cmd_extract *x, const struct jv *msg, const char *line, size_t len, struct strbuf *err)
{
	const struct jv *t = jv_get(msg, "type");
	if (msg->type != JV_OBJ || !t || t->type != JV_STR) {
		strbuf_addstr(err, "not a Singer message (an object with a \"type\")");
		return -1;
	}
#define IS(word) (t->len == sizeof(word) - 1 && !memcmp(t->s, word, t->len))
	if (IS("RECORD"))
		return on_record(x, msg, err);
	if (IS("SCHEMA"))
		return on_schema(x, line, len, err);
	if (IS("STATE"))
		return on_state(x, msg, err);
	if (IS("ACTIVATE_VERSION"))
		return on_activate(x, msg, err);
#undef IS
	strbuf_addf(err, "unsupported Singer message type '%.*s' (SCHEMA, RECORD, STATE and ACTIVATE_VERSION are)",
		    (int)(t->len > 40 ? 40 : t->len), t->s);
	return -1;
}

void singer_finish(struct cmd_extract *x)
{
	for (size_t i = 0; i < x->nr_streams; i++) {
		struct cmd_stream *st = &x->streams[i];
		if (!st->activated || !st->selected)
			continue;
		struct sync_resource *res = sync_job_resource(x->job, st->table);
		free(res->delete_where);
		/* rows of older versions go; a row without a version is older
		 * unless this load wrote it */
		if (st->has_version)
			res->delete_where = xasprintf("_sdc_table_version < %lld OR (_sdc_table_version IS NULL AND "
						      "_dlt_load_id <> '%s')",
						      st->version, x->job->load_id);
		else
			res->delete_where = xasprintf("_dlt_load_id <> '%s'", x->job->load_id);
		strvec_pushf(&x->job->notes, "stream %s: version %lld activated (rows of older versions removed)",
			     st->name, st->version);
	}
}
