/* Splitting template source into tokens, as Jinja's lexer does: template
 * data, tag delimiters, and the tokens of expressions in between. */
#ifndef DANGO_JINJA_LEXER_H
#define DANGO_JINJA_LEXER_H
#include <stddef.h>
#include <stdint.h>

struct arena;
struct strbuf;

enum tok_type {
	T_EOF,
	T_DATA,
	T_VAR_BEGIN,
	T_VAR_END,
	T_BLOCK_BEGIN,
	T_BLOCK_END,
	T_NAME,
	T_INT,
	T_FLOAT,
	T_STRING,
	/* operators */
	T_ADD,
	T_SUB,
	T_MUL,
	T_DIV,
	T_FLOORDIV,
	T_MOD,
	T_POW,
	T_TILDE,
	T_LBRACKET,
	T_RBRACKET,
	T_LPAREN,
	T_RPAREN,
	T_LBRACE,
	T_RBRACE,
	T_EQ,
	T_NE,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_ASSIGN,
	T_DOT,
	T_COLON,
	T_PIPE,
	T_COMMA,
	T_SEMICOLON,
};

struct token {
	enum tok_type type;
	unsigned line, col;
	const char *s; /* DATA, NAME: text (DATA in the arena, NAME NUL-terminated
			  in the arena); STRING: decoded value in the arena */
	size_t len;
	union {
		int64_t i;
		double f;
	} num;
};

struct lexer_out {
	struct token *tok;
	size_t n, alloc;
};

/* Tokenize src into out (tokens' text is allocated in arena). 0, or -1
 * with "FILE:LINE:COL: message" appended to err. */
int lexer_run(struct arena *arena, const char *file, const char *src, size_t len,
	      struct lexer_out *out, struct strbuf *err);
/* How a token reads in error messages: "'endif'", "end of statement block". */
const char *token_describe(const struct token *t, char *buf, size_t size);

#endif
