/* .dango/profiles.yml follows project.yml's warehouse: a duckdb target on the
 * DuckDB file, or a dbt-postgres target on the PostgreSQL server, so that
 * 'dbt run --profiles-dir .dango --project-dir dbt' (with dbt-duckdb or
 * dbt-postgres) and 'dango run' build the same tables in the same place.
 *
 * The file holds no secret: the password is {{ env_var('...') }} of the
 * variable project.yml names. A profiles.yml written by Dango (its first
 * line says so) is rewritten when project.yml's warehouse changes; one
 * written by hand is left alone ('dango validate' checks its type). */
#ifndef DANGO_PROFILES_H
#define DANGO_PROFILES_H
struct project;
struct strbuf;

/* A new project's profile (the DuckDB file), into sb. */
void profiles_default(struct strbuf *sb);
/* The profile for p's warehouse into sb. */
void profiles_render(const struct project *p, struct strbuf *sb);

/* Rewrite .dango/profiles.yml if Dango wrote it and it no longer matches
 * project.yml. 1 if it was rewritten (what into note), 0 if not, -1 with err. */
int profiles_sync(const struct project *p, struct strbuf *note, struct strbuf *err);

/* A postgres warehouse's password and URL variables, taken from the
 * project's .env into the process environment (where env_var() in
 * profiles.yml reads them) unless already set there. */
void profiles_export_env(const struct project *p);

#endif
