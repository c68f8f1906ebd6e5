/* Terminal output in the style users see in the docs:
 *   [12:34:56] Syncing sales (1/3)           ui_step()
 *   ✓ Source added to .dango/sources.yml      ui_ok()
 *   ⚠ ... / ✗ ...                            ui_warn() / ui_fail()
 *   ──────────────────────────────────────── ui_rule()
 * Colours only when stdout is a terminal and neither --no-color nor NO_COLOR
 * is set. Progress goes to stdout (and is hushed by --quiet); warnings and
 * errors go to stderr. */
#ifndef DANGO_UI_H
#define DANGO_UI_H
#include <stdio.h>

enum ui_level { UI_QUIET = 0, UI_NORMAL = 1, UI_VERBOSE = 2, UI_DEBUG = 3 };

struct ui_state {
	int color;          /* escape codes allowed on stdout */
	int color_err;      /* ... on stderr */
	int level;
	int stdout_tty, stdin_tty;
};
extern struct ui_state ui;

void ui_setup(int no_color, int quiet, int verbose);

/* Marks, coloured when allowed; the strings are static. */
const char *ui_mark_ok(void);
const char *ui_mark_fail(void);
const char *ui_mark_warn(void);
/* Wrap text in a colour: "green", "red", "yellow", "bold", "dim", "cyan". */
const char *ui_color(const char *name);
const char *ui_reset(void);

void ui_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ui_rule(void);

/* "HH:MM:SS" of now, local time, into buf (9 bytes). */
char *ui_clock(char *buf);

/* Ask a yes/no question on the terminal. Returns 1 for yes, 0 for no, and
 * -1 if there is no terminal to ask on. */
int ui_confirm(const char *question, int default_yes);
/* Ask for a line of text with an optional default; NULL at EOF. The caller
 * frees the result. Reads stdin even when it is not a terminal. */
char *ui_prompt(const char *question, const char *default_value);

#endif
