/* dango generate: staging models from the raw layer (the work is in
 * src/generate/; this file parses options, confirms and prints). */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "generate/generate.h"

#include <stdlib.h>
#include <string.h>

static const struct cmd_info info = {
	"generate", "dango generate [SOURCE...] [--source NAME] [--all] [--dedup-strategy S] [--force [-y]] [--dry-run]",
	"Write dbt staging models (dbt/models/staging/stg_<source>_<table>.sql and the sources'\n"
	"YAML) from the raw_<source> tables, with deduplication.",
	"Strategies: latest_only (default: the newest row of each primary key), scd_type2 (every\n"
	"version, with _valid_from, _valid_to, _is_current), none (every raw row). The strategy\n"
	"comes from --dedup-strategy, else the one an existing generated model was made with\n"
	"(unless --force), else 'deduplication:' of the source in .dango/sources.yml.\n"
	"--dedup-strategy TABLE=S or SOURCE.TABLE=S sets one table's (repeatable).\n"
	"Primary keys come from sources.yml (primary_key), else from what the connector declared,\n"
	"else a column id, <table>_id or uuid that is unique and never NULL.\n"
	"Files edited by hand (no marker line, or changed since) are never overwritten without\n"
	"--force, which lists them and asks first (-y: do not ask).",
};

static void file_line(const struct gen_file *f, int dry_run, const char *details)
{
	static const char *const verbs[] = { "Generated", "Updated", NULL, NULL, "Regenerated" };
	static const char *const dry_verbs[] = { "Would generate", "Would update", NULL, NULL, "Would overwrite" };
	switch (f->action) {
	case GEN_CREATE:
	case GEN_UPDATE:
	case GEN_OVERWRITE:
		if (dry_run)
			ui_print("- %s %s%s", dry_verbs[f->action], f->name, details ? details : "");
		else
			ui_ok("%s %s%s", verbs[f->action], f->name, details ? details : "");
		break;
	case GEN_UNCHANGED:
		ui_print("  Unchanged %s", f->name);
		break;
	case GEN_SKIP:
		ui_print("%s Skipped %s: edited by hand (--force overwrites it)", ui_mark_warn(), f->name);
		break;
	}
}

static void table_details(struct strbuf *sb, const struct gen_table *t)
{
	strbuf_reset(sb);
	strbuf_addf(sb, " (%zu columns, %s", t->out_columns, gen_strategy_name(t->strategy));
	if (t->strategy != t->asked)
		strbuf_addstr(sb, ": no primary key");
	strbuf_addch(sb, ')');
}

/* Every file --force would overwrite (it exists and its content changes). */
static void overwrite_list(const struct gen_plan *plan, struct strvec *out)
{
	for (size_t i = 0; i < plan->nr; i++) {
		const struct gen_source *s = &plan->sources[i];
		const struct gen_file *yml[] = { &s->sources_yml, &s->schema_yml };
		for (size_t t = 0; t < s->nr; t++)
			if (s->tables[t].file.action == GEN_UPDATE || s->tables[t].file.action == GEN_OVERWRITE)
				strvec_pushf(out, "dbt/models/staging/%s", s->tables[t].file.name);
		for (size_t k = 0; k < 2; k++)
			if (yml[k]->action == GEN_UPDATE || yml[k]->action == GEN_OVERWRITE)
				strvec_pushf(out, "dbt/models/staging/%s", yml[k]->name);
	}
}

static size_t plan_tables(const struct gen_plan *plan)
{
	size_t n = 0;
	for (size_t i = 0; i < plan->nr; i++)
		n += plan->sources[i].nr;
	return n;
}

int cmd_generate(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT, named = STRVEC_INIT, strategies = STRVEC_INIT, per_table = STRVEC_INIT;
	struct strvec overwrite = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, details = STRBUF_INIT;
	struct project p;
	struct source_list list;
	struct warehouse wh;
	struct gen_plan plan = { 0 };
	struct gen_options gopts = { 0 };
	int all = 0, force = 0, yes = 0, dry_run = 0, wait = -1, ret;
	const char *strategy = NULL;
	const struct opt opts[] = {
		OPT_LIST(0, "source", &named, "NAME", "only this source (repeatable, comma lists)"),
		OPT_BOOL(0, "all", &all, "every source with raw tables (the default)"),
		OPT_LIST(0, "dedup-strategy", &strategies, "S", "latest_only, scd_type2, none; or TABLE=S"),
		OPT_BOOL(0, "force", &force, "overwrite files edited by hand (asks first)"),
		OPT_BOOL('y', "yes", &yes, "do not ask before overwriting"),
		OPT_BOOL(0, "dry-run", &dry_run, "show what would be written, write nothing"),
		OPT_INT(0, "wait", &wait, "SECONDS", "wait this long while a writer has the warehouse"),
		OPT_END(),
	};
	ret = opts_parse(&info, opts, argc, argv, &args);
	if (ret) {
		ret = ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
		goto out_args;
	}
	for (size_t i = 0; i < args.nr; i++)
		strvec_push_split(&named, args.v[i]);
	if (all && named.nr) {
		ui_error("--all and --source (or source names) cannot be combined; --all is the default");
		ret = EXIT_USAGE;
		goto out_args;
	}
	for (size_t i = 0; i < strategies.nr; i++) {
		if (strchr(strategies.v[i], '=')) {
			strvec_push(&per_table, strategies.v[i]);
		} else if (strategy && strcmp(strategy, strategies.v[i])) {
			ui_error("--dedup-strategy given twice ('%s' and '%s'); use TABLE=STRATEGY for one table",
				 strategy, strategies.v[i]);
			ret = EXIT_USAGE;
			goto out_args;
		} else {
			strategy = strategies.v[i];
		}
	}
	enum gen_strategy dummy;
	if (strategy && gen_strategy_parse(strategy, &dummy) < 0) {
		ui_error("unknown deduplication strategy '%s' (latest_only, scd_type2 or none)", strategy);
		ret = EXIT_USAGE;
		goto out_args;
	}
	gopts.sources = &named;
	gopts.strategy = strategy;
	gopts.table_strategies = &per_table;
	gopts.force = force;

	if ((ret = cmd_open_project(&p)))
		goto out_args;
	if ((ret = cmd_load_sources(&p, &list)))
		goto out_project;
	if ((ret = cmd_sync_profiles(&p)))
		goto out_sources;
	if ((ret = cmd_open_reader(&p, wait, &wh)))
		goto out_sources;

	if (named.nr == 1) {
		ui_print("Generating staging models for %s...", named.v[0]);
		ui_print("Introspecting raw_%s.* tables...", named.v[0]);
	} else {
		ui_print("Generating staging models%s...", named.nr ? " for the named sources" : "");
		ui_print("Introspecting raw layer...");
	}
	ret = gen_plan_build(&plan, &wh, &p, &list, &gopts, &err);
	warehouse_close(&wh);
	if (ret < 0) {
		ui_error("%s", err.buf);
		ret = strstr(err.buf, "--dedup-strategy") ? EXIT_USAGE : EXIT_FAIL;
		goto out_plan;
	}
	if (!plan.nr) {
		ui_print("\nNo raw tables found. Load data first: dango sync");
		ret = EXIT_OK;
		goto out_plan;
	}
	int brief = named.nr == 1;
	if (!brief) {
		ui_print("\nFound sources:");
		for (size_t i = 0; i < plan.nr; i++) {
			const struct gen_source *s = &plan.sources[i];
			strbuf_reset(&details);
			for (size_t t = 0; t < s->nr; t++)
				strbuf_addf(&details, "%s%s", t ? ", " : "", s->tables[t].name);
			ui_print("  - %s (%zu table%s: %s)", s->name, s->nr, s->nr == 1 ? "" : "s", details.buf);
		}
	}

	if (force) {
		overwrite_list(&plan, &overwrite);
		ui_print("\n%s Force mode enabled", ui_mark_warn());
		if (overwrite.nr) {
			ui_print("This will OVERWRITE existing staging models:");
			for (size_t i = 0; i < overwrite.nr; i++)
				ui_print("  - %s", overwrite.v[i]);
			ui_print("\nManual edits to these files will be lost!\n");
			if (!dry_run && !cmd_confirm("Proceed?", yes)) {
				ui_print("Nothing changed.");
				ret = EXIT_FAIL;
				goto out_plan;
			}
		} else {
			ui_print("No existing file changes.");
		}
	}

	if (!brief)
		ui_print("\nGenerating models...\n");
	else
		ui_print("%s", "");
	for (size_t i = 0; i < plan.nr; i++) {
		const struct gen_source *s = &plan.sources[i];
		for (size_t t = 0; t < s->nr; t++) {
			table_details(&details, &s->tables[t]);
			file_line(&s->tables[t].file, dry_run, details.buf);
			if (s->tables[t].warning)
				ui_warn("%s", s->tables[t].warning);
		}
	}
	if (!brief)
		ui_print("%s", "");
	for (size_t i = 0; i < plan.nr; i++)
		file_line(&plan.sources[i].sources_yml, dry_run, NULL);
	if (!brief)
		ui_print("%s", "");
	for (size_t i = 0; i < plan.nr; i++)
		file_line(&plan.sources[i].schema_yml, dry_run, NULL);

	if (!dry_run && gen_plan_write(&plan, &err) < 0) {
		ui_error("%s", err.buf);
		ret = EXIT_FAIL;
		goto out_plan;
	}

	size_t created = gen_plan_count(&plan, GEN_CREATE), updated = gen_plan_count(&plan, GEN_UPDATE) +
								    gen_plan_count(&plan, GEN_OVERWRITE);
	size_t same = gen_plan_count(&plan, GEN_UNCHANGED), skipped = gen_plan_count(&plan, GEN_SKIP);
	strbuf_reset(&details);
	if (updated)
		strbuf_addf(&details, "%s%zu updated", details.len ? ", " : "", updated);
	if (same)
		strbuf_addf(&details, "%s%zu unchanged", details.len ? ", " : "", same);
	if (skipped)
		strbuf_addf(&details, "%s%zu skipped", details.len ? ", " : "", skipped);
	ui_print("%s", "");
	if (dry_run) {
		ui_print("Dry run: %zu of %zu models would be written; nothing was changed.", created + updated,
			 plan_tables(&plan));
	} else if (brief) {
		ui_print("%zu model%s created.%s%s%s", created, created == 1 ? "" : "s", details.len ? " (" : "",
			 details.buf, details.len ? ")" : "");
	} else {
		ui_print("%zu model%s created in dbt/models/staging/%s%s%s", created, created == 1 ? "" : "s",
			 details.len ? " (" : "", details.buf, details.len ? ")" : "");
		ui_print("\nNext step:\n  dango run  # Materialize staging models");
	}
	ret = EXIT_OK;
out_plan:
	gen_plan_release(&plan);
out_sources:
	sources_release(&list);
out_project:
	project_release(&p);
out_args:
	strvec_clear(&args);
	strvec_clear(&named);
	strvec_clear(&strategies);
	strvec_clear(&per_table);
	strvec_clear(&overwrite);
	strbuf_release(&err);
	strbuf_release(&details);
	return ret;
}

void cmd_generate_after_sync(const struct project *p, const struct source_list *list, struct warehouse *wh,
			     struct source *const *synced, size_t n)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, details = STRBUF_INIT;
	struct gen_plan plan = { 0 };
	struct gen_options gopts = { 0 };
	for (size_t i = 0; i < n; i++)
		strvec_push(&names, synced[i]->name);
	gopts.sources = &names;
	gopts.only_new = 1;
	if (gen_plan_build(&plan, wh, p, list, &gopts, &err) < 0) {
		ui_warn("staging models were not generated: %s", err.buf);
		goto out;
	}
	if (!gen_plan_count(&plan, GEN_CREATE))
		goto out;
	ui_print("\nGenerating staging models for new tables (auto_generate in .dango/project.yml)...");
	for (size_t i = 0; i < plan.nr; i++) {
		const struct gen_source *s = &plan.sources[i];
		size_t made = 0;
		for (size_t t = 0; t < s->nr; t++) {
			if (s->tables[t].file.action != GEN_CREATE)
				continue;
			made++;
			table_details(&details, &s->tables[t]);
			file_line(&s->tables[t].file, 0, details.buf);
			if (s->tables[t].warning)
				ui_warn("%s", s->tables[t].warning);
		}
		/* the YAML of a source with new models: written, or said to be skipped */
		if (made && s->sources_yml.action != GEN_UNCHANGED)
			file_line(&s->sources_yml, 0, NULL);
		if (made && s->schema_yml.action != GEN_UNCHANGED)
			file_line(&s->schema_yml, 0, NULL);
	}
	if (gen_plan_write(&plan, &err) < 0)
		ui_warn("staging models were not generated: %s", err.buf);
out:
	gen_plan_release(&plan);
	strvec_clear(&names);
	strbuf_release(&err);
	strbuf_release(&details);
}
