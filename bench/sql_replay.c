/* The reference for bench/transform.sh: run the SQL files named in a list,
 * one after another, each with one duckdb_query call on one connection, as
 * the plainest possible runner would (no templates, no graph, no
 * artifacts). Usage: sql_replay DB LIST */
#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(fp);
	return buf;
}

int main(int argc, char **argv)
{
	duckdb_database db;
	duckdb_connection con;
	char line[4096];
	int ret = 0;
	if (argc != 3) {
		fprintf(stderr, "usage: %s DB LIST\n", argv[0]);
		return 2;
	}
	FILE *list = fopen(argv[2], "r");
	if (!list || duckdb_open(argv[1], &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		return 1;
	while (fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\n")] = '\0';
		char *sql = slurp(line);
		duckdb_result res;
		if (!sql || duckdb_query(con, sql, &res) != DuckDBSuccess) {
			fprintf(stderr, "%s: %s\n", line, sql ? duckdb_result_error(&res) : "cannot read");
			ret = 1;
		}
		duckdb_destroy_result(&res);
		free(sql);
		if (ret)
			break;
	}
	fclose(list);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return ret;
}
