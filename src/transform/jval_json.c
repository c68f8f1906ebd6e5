/* Jinja values to and from JSON (jansson): artifacts, tojson/fromjson and
 * the golden tests' contexts share one mapping. */
#include "transform/dbt.h"

#include <jansson.h>
#include <stdlib.h>

json_t *dbt_jval_to_json(struct jval v)
{
	switch (v.type) {
	case JVAL_NONE:
	case JVAL_UNDEFINED:
		return json_null();
	case JVAL_BOOL:
		return json_boolean(v.u.b);
	case JVAL_INT:
		return json_integer(v.u.i);
	case JVAL_FLOAT:
		return json_real(v.u.f);
	case JVAL_STR:
		return json_string(jval_str_cstr(v));
	case JVAL_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < jval_len(v); i++)
			json_array_append_new(a, dbt_jval_to_json(*jval_list_at(v, i)));
		return a;
	}
	case JVAL_DICT: {
		json_t *o = json_object();
		const struct jval *k, *val;
		for (size_t i = 0; jval_dict_entry(v, i, &k, &val); i++) {
			char *ks = jval_to_cstr(*k);
			json_object_set_new(o, ks, dbt_jval_to_json(*val));
			free(ks);
		}
		return o;
	}
	default: {
		char *s = jval_to_cstr(v);
		json_t *j = json_string(s);
		free(s);
		return j;
	}
	}
}

struct jval dbt_jval_from_json(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		struct jval d = jval_dict_new();
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			jval_dict_set(d, k, dbt_jval_from_json(v));
		return d;
	}
	case JSON_ARRAY: {
		struct jval l = jval_list_new();
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			jval_list_append(l, dbt_jval_from_json(v));
		return l;
	}
	case JSON_STRING:
		return jval_strn(json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return jval_int(json_integer_value(j));
	case JSON_REAL:
		return jval_float(json_real_value(j));
	case JSON_TRUE:
		return jval_bool(1);
	case JSON_FALSE:
		return jval_bool(0);
	default:
		return jval_none();
	}
}
