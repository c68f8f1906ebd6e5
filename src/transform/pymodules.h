/* The Python modules dbt puts in `modules` (pydatetime.c, pyitertools.c):
 * datetime, pytz and itertools as Jinja values, and the typed datetime
 * values run_query gives. Every function returns a new reference. */
#ifndef DANGO_TRANSFORM_PYMODULES_H
#define DANGO_TRANSFORM_PYMODULES_H
#include <stdint.h>
#include <time.h>

#include "transform/jinja/value.h"

struct jval dbt_datetime_module(void);
struct jval dbt_pytz_module(void);
struct jval dbt_itertools_module(void);
/* datetime, pytz and itertools into the dict mods */
void dbt_pymodules_add(struct jval mods);

/* A datetime: aware in UTC (pytz.utc, as dbt's run_started_at) or naive
 * local time. */
struct jval dbt_datetime_value(time_t t, long usec, int utc);
/* A date, days since 1970-01-01 (None outside years 1..9999). */
struct jval dbt_date_value(int32_t days_since_epoch);
/* A naive datetime (TIMESTAMP), or aware in UTC (TIMESTAMPTZ). */
struct jval dbt_timestamp_value(int64_t us_since_epoch, int aware);

/* A DATE, TIME or TIMESTAMP[TZ] cell from its text as DuckDB prints it
 * (wh_result_str) and its column's type name (wh_result_type_name): a
 * date, time or datetime; undefined for other types and for values Python
 * has none of (infinity, BC). */
struct jval dbt_datetime_from_sql(const char *text, const char *type_name);

#endif
