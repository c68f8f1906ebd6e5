#ifndef DANGO_VERSION_H
#define DANGO_VERSION_H
#define DANGO_VERSION "0.1.0"
/* The dbt release whose behaviour Dango's dbt engine follows: what
 * require-dbt-version is checked against. */
#define DANGO_DBT_VERSION "1.9.0"
#endif
