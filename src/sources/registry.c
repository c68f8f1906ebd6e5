#include "sources/registry.h"
#include "core/strbuf.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "project/schema.h"
#include "sources/preset.h"

#include <string.h>

static const char *const formats[] = { "csv", "tsv", "json", "ndjson", "jsonl", "parquet", NULL };
static const char *const dispositions[] = { "append", "replace", "merge", NULL };
static const char *const on_errors[] = { "fail", "skip", NULL };
static const char *const dedup_strategies[] = { "latest_only", "scd_type2", "none", NULL };

/* Options of DuckDB's CSV reader that users may set; shared by csv and local_files. */
#define FILE_KEYS                                                                              \
	{ "path", CFG_STR, 0, NULL, NULL, "one file" },                                        \
	{ "directory", CFG_STR, 0, NULL, NULL, "a folder of files" },                          \
	{ "file_pattern", CFG_STR, 0, NULL, NULL, "glob of files in the folder, e.g. *.csv" },\
	{ "format", CFG_STR, 0, NULL, formats, "file format (default: from the extension)" }, \
	{ "delimiter", CFG_STR, 0, NULL, NULL, "CSV field separator" },                        \
	{ "header", CFG_BOOL, 0, NULL, NULL, "first CSV line holds column names" },            \
	{ "quote", CFG_STR, 0, NULL, NULL, "CSV quote character" },                            \
	{ "escape", CFG_STR, 0, NULL, NULL, "CSV escape character" },                          \
	{ "encoding", CFG_STR, 0, NULL, NULL, "text encoding (utf-8, latin-1, utf-16)" },      \
	{ "skip_rows", CFG_INT, 0, NULL, NULL, "lines to skip before the header" },            \
	{ "null_strings", CFG_STR_LIST, 0, NULL, NULL, "values read as NULL" },                \
	{ "column_types", CFG_FREE_MAP, 0, NULL, NULL, "column: type overrides" },             \
	{ "primary_key", CFG_STR_LIST, 0, NULL, NULL, "column(s) identifying a row" },         \
	{ "write_disposition", CFG_STR, 0, NULL, dispositions, "append, replace or merge" },  \
	{ "on_error", CFG_STR, 0, NULL, on_errors, "fail (default) or skip bad rows" },        \
	{ "table_name", CFG_STR, 0, NULL, NULL, "name of the raw table" }

static const struct cfg_key csv_keys[] = { FILE_KEYS, { NULL } };
static const struct cfg_key local_files_keys[] = { FILE_KEYS, { NULL } };

static int check_path_or_directory(const struct ydoc *doc, const struct ynode *source,
				   const struct ynode *block, const char *name, struct strbuf *err)
{
	int has_path = ymap_get(block, "path") != NULL, has_dir = ymap_get(block, "directory") != NULL;
	if (has_path == has_dir) {
		ynode_where(err, doc, block ? block : source);
		strbuf_addf(err, "source '%s' needs %s 'path' or 'directory'\n", name,
			    has_path ? "only one of" : "either");
		return 1;
	}
	return 0;
}

static const char *const auth_types[] = {
	"bearer", "api_key", "basic", "oauth2_client_credentials", "custom_header", "oauth", "none", NULL
};
static const char *const paginator_types[] = {
	"auto", "single_page", "offset", "page_number", "cursor", "json_link", "header_link", NULL
};
static const char *const methods[] = { "GET", "POST", NULL };
static const char *const cross_origins[] = { "strip", "refuse", "allow", NULL };

static const struct cfg_key paginator_keys[] = {
	{ "type", CFG_STR, CFG_REQUIRED, NULL, paginator_types, "how pages are linked" },
	{ "limit", CFG_INT, 0, NULL, NULL, "page size" },
	{ "limit_param", CFG_STR, 0, NULL, NULL, NULL },
	{ "offset_param", CFG_STR, 0, NULL, NULL, NULL },
	{ "page_param", CFG_STR, 0, NULL, NULL, NULL },
	{ "base_page", CFG_INT, 0, NULL, NULL, NULL },
	{ "total_path", CFG_STR, 0, NULL, NULL, NULL },
	{ "has_more_path", CFG_STR, 0, NULL, NULL, NULL },
	{ "cursor_path", CFG_STR, 0, NULL, NULL, NULL },
	{ "cursor_param", CFG_STR, 0, NULL, NULL, NULL },
	{ "next_url_path", CFG_STR, 0, NULL, NULL, NULL },
	{ "record_cursor_path", CFG_STR, 0, NULL, NULL, "cursor from the last record's field (Stripe's starting_after)" },
	{ "maximum_pages", CFG_INT, 0, NULL, NULL, NULL },
	{ NULL }
};

static const struct cfg_key incremental_keys[] = {
	{ "cursor_path", CFG_STR, CFG_REQUIRED, NULL, NULL, "field of a record that grows" },
	{ "initial_value", CFG_STR, 0, NULL, NULL, NULL },
	{ "param", CFG_STR, 0, NULL, NULL, "query parameter that carries the start value" },
	{ "end_param", CFG_STR, 0, NULL, NULL, NULL },
	{ "start_format", CFG_STR, 0, NULL, NULL, "unix: the API takes epoch seconds" },
	{ NULL }
};

static const struct cfg_key endpoint_keys[] = {
	{ "name", CFG_STR, CFG_REQUIRED, NULL, NULL, "resource (table) name" },
	{ "path", CFG_STR, 0, NULL, NULL, "path below base_url" },
	{ "method", CFG_STR, 0, NULL, methods, NULL },
	{ "params", CFG_FREE_MAP, 0, NULL, NULL, NULL },
	{ "json", CFG_ANY, 0, NULL, NULL, "request body" },
	{ "headers", CFG_FREE_MAP, 0, NULL, NULL, NULL },
	{ "data_selector", CFG_STR, 0, NULL, NULL, "path to the list of records" },
	{ "primary_key", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "write_disposition", CFG_STR, 0, NULL, dispositions, NULL },
	{ "paginator", CFG_MAP, 0, paginator_keys, NULL, NULL },
	{ "incremental", CFG_MAP, 0, incremental_keys, NULL, NULL },
	{ "max_table_nesting", CFG_INT, 0, NULL, NULL, NULL },
	{ "include_from_parent", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "deduplication", CFG_STR, 0, NULL, dedup_strategies, "latest_only, scd_type2 or none (dango generate)" },
	{ NULL }
};

/* What every API source may say about other origins, page sizes and waits. */
#define API_SAFETY_KEYS                                                                                     \
	{ "cross_origin", CFG_STR, 0, NULL, cross_origins,                                                  \
	  "links and redirects to another host: strip (follow without credentials), refuse or allow" },     \
	{ "max_page_mb", CFG_NUM, 0, NULL, NULL, "largest response accepted, in MB (default 100)" },        \
	{ "max_retry_wait", CFG_NUM, 0, NULL, NULL, "longest wait before a retry, Retry-After included (default 60 s)" }, \
	{ "concurrency", CFG_INT, 0, NULL, NULL,                                                           \
	  "pages fetched at once when the paginator knows their URLs ahead (default 4; 1: one at a time)" }

static const struct cfg_key rest_api_keys[] = {
	{ "base_url", CFG_STR, CFG_REQUIRED, NULL, NULL, "https://api.example.com" },
	{ "headers", CFG_FREE_MAP, 0, NULL, NULL, NULL },
	{ "timeout", CFG_NUM, 0, NULL, NULL, "seconds" },
	{ "auth_type", CFG_STR, 0, NULL, auth_types, NULL },
	{ "auth_token_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	{ "api_key_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	{ "api_key_name", CFG_STR, 0, NULL, NULL, NULL },
	{ "api_key_location", CFG_STR, 0, NULL, NULL, NULL },
	{ "username_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	{ "password_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	{ "client_id_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	{ "client_secret_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	{ "token_url", CFG_STR, 0, NULL, NULL, NULL },
	{ "scopes", CFG_STR_LIST, 0, NULL, NULL, NULL },
	{ "header_name", CFG_STR, 0, NULL, NULL, NULL },
	{ "header_value_env", CFG_STR, CFG_SECRET, NULL, NULL, NULL },
	/* auth_type oauth (src/oauth/, docs/oauth.md) */
	{ "oauth_credential", CFG_STR, 0, NULL, NULL, "stored OAuth credential (dango oauth list)" },
	{ "oauth_provider", CFG_STR, 0, NULL, NULL, "google, facebook_ads, hubspot, salesforce or oauth2" },
	{ "authorize_url", CFG_STR, 0, NULL, NULL, "OAuth authorization endpoint (dango oauth setup)" },
	{ "device_url", CFG_STR, 0, NULL, NULL, "OAuth device-authorization endpoint" },
	{ "userinfo_url", CFG_STR, 0, NULL, NULL, "endpoint naming the account of a token" },
	{ "redirect_port", CFG_INT, 0, NULL, NULL, "fixed loopback port for the OAuth redirect" },
	{ "rate_limit_delay", CFG_NUM, 0, NULL, NULL, "seconds between requests" },
	{ "request_max_attempts", CFG_INT, 0, NULL, NULL, NULL },
	{ "request_backoff_factor", CFG_NUM, 0, NULL, NULL, NULL },
	{ "max_pages", CFG_INT, 0, NULL, NULL, NULL },
	API_SAFETY_KEYS,
	{ "paginator", CFG_MAP, 0, paginator_keys, NULL, NULL },
	{ "endpoints", CFG_LIST_MAP, CFG_REQUIRED, endpoint_keys, NULL, NULL },
	{ NULL }
};

/* Presets share one shape: a secret, resources, a start date, a base URL,
 * and the politeness settings of rest_api. */
#define PRESET_KEYS                                                                            \
	{ "rate_limit_delay", CFG_NUM, 0, NULL, NULL, "seconds between requests" },            \
	{ "request_max_attempts", CFG_INT, 0, NULL, NULL, NULL },                              \
	{ "request_backoff_factor", CFG_NUM, 0, NULL, NULL, NULL },                            \
	{ "max_pages", CFG_INT, 0, NULL, NULL, NULL },                                          \
	{ "timeout", CFG_NUM, 0, NULL, NULL, "seconds" },                                       \
	API_SAFETY_KEYS
static const struct cfg_key stripe_keys[] = {
	{ "stripe_secret_key_env", CFG_STR, CFG_SECRET | CFG_REQUIRED, NULL, NULL, NULL },
	{ "endpoints", CFG_STR_LIST, 0, NULL, NULL, "charges, customers, ..." },
	{ "start_date", CFG_STR, 0, NULL, NULL, "YYYY-MM-DD" },
	{ "base_url", CFG_STR, 0, NULL, NULL, NULL },
	PRESET_KEYS,
	{ NULL }
};
static const struct cfg_key github_keys[] = {
	{ "access_token_env", CFG_STR, CFG_SECRET | CFG_REQUIRED, NULL, NULL, NULL },
	{ "repository", CFG_STR, CFG_REQUIRED, NULL, NULL, "owner/name" },
	{ "endpoints", CFG_STR_LIST, 0, NULL, NULL, "issues, pull_requests, ..." },
	{ "start_date", CFG_STR, 0, NULL, NULL, NULL },
	{ "base_url", CFG_STR, 0, NULL, NULL, NULL },
	PRESET_KEYS,
	{ NULL }
};
static const struct cfg_key hubspot_keys[] = {
	{ "api_key_env", CFG_STR, CFG_SECRET, NULL, NULL, "variable holding a private app token" },
	{ "oauth_credential", CFG_STR, 0, NULL, NULL, "a credential saved by dango oauth setup hubspot, instead of api_key_env" },
	{ "authorize_url", CFG_STR, 0, NULL, NULL, "OAuth authorization endpoint (default: HubSpot's)" },
	{ "token_url", CFG_STR, 0, NULL, NULL, "OAuth token endpoint (default: HubSpot's)" },
	{ "endpoints", CFG_STR_LIST, 0, NULL, NULL, "contacts, companies, deals" },
	{ "start_date", CFG_STR, 0, NULL, NULL, NULL },
	{ "base_url", CFG_STR, 0, NULL, NULL, NULL },
	PRESET_KEYS,
	{ NULL }
};
static const char *const command_formats[] = { "auto", "singer", "ndjson", NULL };
static const char *const catalog_flags[] = { "catalog", "properties", NULL };
static const struct cfg_key command_keys[] = {
	{ "run", CFG_STR_LIST, 0, NULL, NULL, "[program, args...], or a string run by /bin/sh -c" },
	{ "command", CFG_STR_LIST, 0, NULL, NULL, "the older name of 'run'" },
	{ "format", CFG_STR, 0, NULL, command_formats, "default auto: told by the first line" },
	{ "env", CFG_FREE_MAP, 0, NULL, NULL, "NAME: value; NAME_env: VAR passes the secret in VAR as NAME" },
	{ "config", CFG_ANY, 0, NULL, NULL, "written to a 0600 JSON file passed as --config FILE (key_env: VAR for secrets)" },
	{ "timeout_minutes", CFG_NUM, 0, NULL, NULL, "stop the program (its whole process group) after this long" },
	{ "working_dir", CFG_STR, 0, NULL, NULL, "folder the program runs in (default: the project)" },
	{ "table_name", CFG_STR, 0, NULL, NULL, "NDJSON: the table (default: the source's name)" },
	{ "table_key", CFG_STR, 0, NULL, NULL, "NDJSON: a field naming each line's table, e.g. _table" },
	{ "primary_key", CFG_STR_LIST, 0, NULL, NULL, "NDJSON: column(s) identifying a row (merge)" },
	{ "write_disposition", CFG_STR, 0, NULL, dispositions, "NDJSON (default: merge with a primary_key, else append)" },
	{ "select", CFG_STR_LIST, 0, NULL, NULL, "Singer: streams to sync (a catalog from --discover)" },
	{ "catalog_flag", CFG_STR, 0, NULL, catalog_flags, "Singer: pass the catalog as --catalog (default) or --properties" },
	{ "discover", CFG_BOOL, 0, NULL, NULL, "Singer: false if the program has no --discover" },
	{ "max_table_nesting", CFG_INT, 0, NULL, NULL, "levels of nested objects flattened (deeper stays JSON)" },
	{ NULL }
};

static int check_command_block(const struct ydoc *doc, const struct ynode *source, const struct ynode *block,
			       const char *name, struct strbuf *err)
{
	const struct ynode *run = ymap_get(block, "run"), *old = ymap_get(block, "command");
	if (!run && !old) {
		ynode_where(err, doc, block ? block : source);
		strbuf_addf(err, "source '%s' needs 'run': the program to start ([program, args...] or a shell command)\n",
			    name);
		return 1;
	}
	if (run && old) {
		ynode_where(err, doc, old);
		strbuf_addf(err, "source '%s': give 'run' or its older name 'command', not both\n", name);
		return 1;
	}
	const struct ynode *cfg = ymap_get(block, "config");
	if (cfg && !ynode_is_null(cfg) && cfg->kind != Y_MAP) {
		ynode_where(err, doc, cfg);
		strbuf_addf(err, "source '%s': 'config' must be a mapping (it is written as a JSON object)\n", name);
		return 1;
	}
	return 0;
}
/* Database sources: a connection, then streams in the shape of Sling's
 * replication file (src/sources/db/db.h). */
static const char *const db_modes[] = { "full-refresh", "incremental", "truncate", NULL };
static const char *const sslmodes[] = { "disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL };
static const struct cfg_key db_stream_keys[] = {
	{ "mode", CFG_STR, 0, NULL, db_modes, "full-refresh, incremental or truncate" },
	{ "primary_key", CFG_STR_LIST, 0, NULL, NULL, "column(s) identifying a row (incremental merges on them)" },
	{ "update_key", CFG_STR, 0, NULL, NULL, "column that grows when a row changes (incremental)" },
	{ "sql", CFG_STR, 0, NULL, NULL, "a custom query instead of the table" },
	{ "object", CFG_STR, 0, NULL, NULL, "target table name in raw_<source>" },
	{ "select", CFG_STR_LIST, 0, NULL, NULL, "columns to keep; -col drops one" },
	{ "disabled", CFG_BOOL, 0, NULL, NULL, NULL },
	{ NULL }
};
#define DB_STREAM_BLOCK_KEYS                                                                   \
	{ "timeout", CFG_INT, 0, NULL, NULL, "seconds a statement may take (0: no limit)" },   \
	{ "defaults", CFG_MAP, 0, db_stream_keys, NULL, "settings of every stream" },          \
	{ "streams", CFG_FREE_MAP, 0, NULL, NULL, "schema.table: {mode: ...}; schema.* for all" }, \
	{ "replication", CFG_STR, 0, NULL, NULL, "a Sling replication file with the streams" }
#define DB_SERVER_KEYS                                                                         \
	{ "host", CFG_STR, 0, NULL, NULL, NULL },                                              \
	{ "port", CFG_INT, 0, NULL, NULL, NULL },                                              \
	{ "database", CFG_STR, 0, NULL, NULL, NULL },                                          \
	{ "user", CFG_STR, 0, NULL, NULL, NULL },                                              \
	{ "password_env", CFG_STR, CFG_SECRET, NULL, NULL, "variable holding the password" },  \
	{ "url_env", CFG_STR, CFG_SECRET, NULL, NULL, "variable holding a connection URL" },   \
	{ "connect_timeout", CFG_INT, 0, NULL, NULL, "seconds" }
static const struct cfg_key postgres_keys[] = {
	DB_SERVER_KEYS,
	{ "sslmode", CFG_STR, 0, NULL, sslmodes, NULL },
	DB_STREAM_BLOCK_KEYS,
	{ NULL }
};
static const struct cfg_key mysql_keys[] = { DB_SERVER_KEYS, DB_STREAM_BLOCK_KEYS, { NULL } };
static const struct cfg_key sqlite_keys[] = {
	{ "path", CFG_STR, CFG_REQUIRED, NULL, NULL, "the database file" },
	DB_STREAM_BLOCK_KEYS,
	{ NULL }
};

/* Each stream's keys (the table cannot say "a map of maps"), and the
 * rules that tie keys together. */
static int check_db(const struct ydoc *doc, const struct ynode *source, const struct ynode *block,
		    const char *name, struct strbuf *err)
{
	int bad = 0;
	struct strbuf where = STRBUF_INIT;
	const struct ynode *streams = ymap_get(block, "streams"), *defaults = ymap_get(block, "defaults");
	const struct ynode *dmode = defaults && defaults->kind == Y_MAP ? ymap_get(defaults, "mode") : NULL;
	const struct ynode *duk = defaults && defaults->kind == Y_MAP ? ymap_get(defaults, "update_key") : NULL;
	if (!streams && !ymap_get(block, "replication")) {
		ynode_where(err, doc, block ? block : source);
		strbuf_addf(err, "source '%s' needs 'streams' (tables to read) or 'replication'\n", name);
		return 1;
	}
	if (streams && streams->kind != Y_MAP) {
		ynode_where(err, doc, streams);
		strbuf_addf(err, "'streams' in source '%s' must be a mapping of table names\n", name);
		return 1;
	}
	for (size_t i = 0; streams && i < streams->n; i++) {
		const struct ynode *v = streams->pairs[i].value;
		const char *sname = streams->pairs[i].key->str;
		strbuf_reset(&where);
		strbuf_addf(&where, "stream '%s' of source '%s'", sname, name);
		if (ynode_is_null(v))
			continue;
		if (v->kind != Y_MAP) {
			ynode_where(err, doc, v);
			strbuf_addf(err, "%s must be a mapping (mode, primary_key, update_key, ...)\n", where.buf);
			bad++;
			continue;
		}
		bad += schema_check(doc, v, db_stream_keys, where.buf, err);
		const struct ynode *mode = ymap_get(v, "mode");
		if (!mode)
			mode = dmode;
		if (mode && mode->kind == Y_SCALAR && !strcmp(mode->str, "incremental") && !ymap_get(v, "update_key") &&
		    !duk) {
			ynode_where(err, doc, mode);
			strbuf_addf(err, "%s: mode incremental needs an update_key\n", where.buf);
			bad++;
		}
	}
	strbuf_release(&where);
	return bad;
}

/* Email inbox over IMAP (sources/imap.c) */
static const char *const imap_security[] = { "tls", "starttls", "none", NULL };
static const struct cfg_key imap_keys[] = {
	{ "host", CFG_STR, CFG_REQUIRED, NULL, NULL, "the IMAP server, e.g. imap.gmail.com" },
	{ "port", CFG_INT, 0, NULL, NULL, "default 993 (tls) or 143" },
	{ "security", CFG_STR, 0, NULL, imap_security, "tls (default, imaps), starttls, or none (loopback tests only)" },
	{ "username", CFG_STR, 0, NULL, NULL, "the account to log in as" },
	{ "username_env", CFG_STR, CFG_SECRET, NULL, NULL, "variable holding the account name" },
	{ "password_env", CFG_STR, CFG_SECRET | CFG_REQUIRED, NULL, NULL, "variable holding the password (an app password)" },
	{ "mailboxes", CFG_STR_LIST, 0, NULL, NULL, "mailboxes to read (default INBOX)" },
	{ "start_date", CFG_STR, 0, NULL, NULL, "YYYY-MM-DD: the first sync reads messages sent since then" },
	{ "ca_file", CFG_STR, 0, NULL, NULL, "certificate authority file for a server with its own certificate" },
	{ "timeout", CFG_NUM, 0, NULL, NULL, "seconds the server may take to answer (default 60)" },
	{ "max_message_mb", CFG_NUM, 0, NULL, NULL, "largest message accepted, in MB (default 50)" },
	{ NULL }
};

static int check_imap(const struct ydoc *doc, const struct ynode *source, const struct ynode *block,
		      const char *name, struct strbuf *err)
{
	if (ymap_get(block, "username") && ymap_get(block, "username_env")) {
		ynode_where(err, doc, ymap_get(block, "username_env"));
		strbuf_addf(err, "source '%s': give 'username' or 'username_env', not both\n", name);
		return 1;
	}
	if (!ymap_get(block, "username") && !ymap_get(block, "username_env")) {
		ynode_where(err, doc, block ? block : source);
		strbuf_addf(err, "source '%s' needs 'username' (or 'username_env'): the account to log in as\n", name);
		return 1;
	}
	return 0;
}

static const struct source_type csv_type = {
	"csv", "CSV files", "Local & Custom", csv_keys, check_path_or_directory, 0, NULL
};
static const struct source_type local_files_type = {
	"local_files", "Local files (CSV, JSON, Parquet)", "Local & Custom", local_files_keys,
	check_path_or_directory, 0, NULL
};
static const struct source_type rest_api_type = {
	"rest_api", "REST API", "Local & Custom", rest_api_keys, preset_check_block, 1, NULL
};
static const struct source_type command_type = {
	"command", "Custom command (Singer or NDJSON on stdout)", "Local & Custom", command_keys, check_command_block, 1,
	NULL
};
static const struct source_type stripe_type = {
	"stripe", "Stripe", "E-commerce & Payment", stripe_keys, preset_check_block, 1, "STRIPE_API_KEY"
};
static const struct source_type github_type = {
	"github", "GitHub", "Development", github_keys, preset_check_block, 1, "GITHUB_TOKEN"
};
static const struct source_type hubspot_type = {
	"hubspot", "HubSpot", "Business & CRM", hubspot_keys, preset_check_block, 1, "HUBSPOT_API_KEY"
};
static const struct source_type postgres_type = {
	"postgres", "PostgreSQL", "Databases", postgres_keys, check_db, 1, NULL
};
static const struct source_type mysql_type = {
	"mysql", "MySQL / MariaDB", "Databases", mysql_keys, check_db, 1, NULL
};
static const struct source_type sqlite_type = {
	"sqlite", "SQLite", "Databases", sqlite_keys, check_db, 1, NULL
};
static const struct source_type imap_type = {
	"imap", "Email inbox (IMAP)", "Files & Storage", imap_keys, check_imap, 1, "IMAP_PASSWORD"
};

const struct source_type *const source_types[] = {
	&csv_type, &local_files_type, &rest_api_type, &command_type,
	&stripe_type, &github_type, &hubspot_type, &postgres_type, &mysql_type, &sqlite_type, &imap_type, NULL,
};

const struct source_type *source_type_find(const char *name)
{
	for (size_t i = 0; source_types[i]; i++)
		if (!strcmp(source_types[i]->name, name))
			return source_types[i];
	/* a preset of the project's own (.dango/presets/NAME.yml) */
	return preset_source_type(name);
}

const char *const *source_type_names(void)
{
	static const char *names[ARRAY_SIZE(source_types)];
	for (size_t i = 0; source_types[i]; i++)
		names[i] = source_types[i]->name;
	return names;
}

const char **cfg_key_names(const struct cfg_key *keys)
{
	size_t n = 0;
	while (keys[n].name)
		n++;
	const char **names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].name;
	return names;
}

/* ---- the catalogue, as the wizard lists it ---------------------------------------- */

const char *const source_categories[] = {
	"Marketing & Analytics", "Business & CRM", "E-commerce & Payment", "Files & Storage", "Databases",
	"Streaming", "Development", "Communication", "Local & Custom", NULL,
};

static int in_registry(const char *name)
{
	for (size_t i = 0; source_types[i]; i++)
		if (!strcmp(source_types[i]->name, name))
			return 1;
	return 0;
}

size_t source_type_catalog(const char *category, const struct source_type **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; source_types[i] && n < max; i++)
		if (!strcmp(source_types[i]->category, category))
			out[n++] = source_types[i];
	/* bundled presets without an entry of their own: their spec says where */
	for (size_t i = 0; bundled_presets[i].name && n < max; i++) {
		if (in_registry(bundled_presets[i].name))
			continue;
		const struct source_type *t = preset_source_type(bundled_presets[i].name);
		if (t && !strcmp(t->category, category))
			out[n++] = t;
	}
	return n;
}
