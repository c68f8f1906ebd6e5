#include "warehouse/row_id.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <duckdb.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct row_ids {
	uint64_t high;             /* random, with the version nibble set */
	_Atomic uint64_t next;     /* the next row's number */
};

#define ROW_NUMBER_MASK ((UINT64_C(1) << 62) - 1)

/* One chunk of ids: one atomic add a chunk, whatever thread runs it. The
 * vector holds DuckDB's UUID layout: a hugeint whose top bit is flipped
 * (so that ids sort as their text does). */
static void make_ids(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
	struct row_ids *ids = duckdb_scalar_function_get_extra_info(info);
	idx_t n = duckdb_data_chunk_get_size(input);
	duckdb_hugeint *out = duckdb_vector_get_data(output);
	uint64_t first = atomic_fetch_add_explicit(&ids->next, n, memory_order_relaxed);
	int64_t upper = (int64_t)(ids->high ^ (UINT64_C(1) << 63));
	for (idx_t i = 0; i < n; i++) {
		out[i].upper = upper;
		/* variant bits 10, then the row's number */
		out[i].lower = (UINT64_C(1) << 63) | ((first + i) & ROW_NUMBER_MASK);
	}
}

int row_id_register(void *con)
{
	struct row_ids *ids = xcalloc(1, sizeof(*ids));
	if (random_bytes(&ids->high, sizeof(ids->high)) < 0) {
		free(ids);
		return -1;
	}
	/* version 8 (free-form) in bits 76-79 of the UUID */
	ids->high = (ids->high & ~(UINT64_C(0xf) << 12)) | (UINT64_C(8) << 12);
	duckdb_scalar_function f = duckdb_create_scalar_function();
	duckdb_scalar_function_set_name(f, "__dango_row_id");
	duckdb_logical_type t = duckdb_create_logical_type(DUCKDB_TYPE_UUID);
	duckdb_scalar_function_set_return_type(f, t);
	duckdb_destroy_logical_type(&t);
	duckdb_scalar_function_set_volatile(f);
	duckdb_scalar_function_set_extra_info(f, ids, free);
	duckdb_scalar_function_set_function(f, make_ids);
	duckdb_state st = duckdb_register_scalar_function(*(duckdb_connection *)con, f);
	duckdb_destroy_scalar_function(&f);
	return st == DuckDBSuccess ? 0 : -1;
}
