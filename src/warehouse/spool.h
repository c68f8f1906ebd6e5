/* Dango's spool files and __dango_spool(), the table function that reads
 * them into DuckDB.
 *
 * The normalizer (sources/normalize.c) splits records into rows of values
 * already unescaped; writing them as JSON made DuckDB parse every record a
 * second time. A spool file is instead a list of rows of tagged values:
 *
 *   file   = MAGIC row* END count
 *   row    = u32 length (of the fields that follow), field*
 *   field  = varint (column << 3 | kind), [varint size, bytes]   (STR INT NUM JSON)
 *                                         [8 bytes, little endian] (I64)
 *                                         []                       (TRUE FALSE)
 *   END    = u32 0xffffffff; count = u64 rows (little endian)
 *
 * A column missing from a row is NULL. Numbers stay as written (INT: no
 * fraction or exponent), so that a column widened to text later keeps them
 * as the JSON had them; the reader converts each value to its column's
 * final type. Sizes may be written with more varint bytes than needed (the
 * writer reserves them before unescaping a string).
 *
 * __dango_spool(files VARCHAR[], names VARCHAR[], columns BIGINT[],
 * kinds VARCHAR[]) returns one column per name: the values of file column
 * columns[i], as kinds[i]: 'bool', 'bigint', 'double', 'text' (strings
 * only), or 'json' (VARCHAR: every value as JSON text, strings quoted, for
 * the caller to convert as DuckDB's JSON reader would). Files are read in
 * their order by one thread, or in parallel when DuckDB lets it; a file
 * that is truncated or not a spool file is an error naming it and the row. */
#ifndef DANGO_WAREHOUSE_SPOOL_H
#define DANGO_WAREHOUSE_SPOOL_H

#define SPOOL_MAGIC "DANGOSP1"
#define SPOOL_MAGIC_LEN 8
#define SPOOL_END 0xffffffffu

enum spool_kind {
	SPOOL_STR,   /* text, unescaped */
	SPOOL_INT,   /* a JSON number without fraction or exponent, as written */
	SPOOL_NUM,   /* any other JSON number, as written */
	SPOOL_TRUE,
	SPOOL_FALSE,
	SPOOL_JSON,  /* an array or object, its JSON text */
	SPOOL_I64    /* an integer, 8 bytes */
};

/* the file columns before a table's own */
enum { SPOOL_COL_ID, SPOOL_COL_PARENT_ID, SPOOL_COL_LIST_IDX, SPOOL_COL_FIRST };

/* Registers __dango_spool() on a DuckDB connection (a duckdb_connection *);
 * 0, or -1 when DuckDB refused it. */
int spool_register(void *con);

#endif
