/*
 * value_int.h — what the four rooms of trust_value share, and no other file sees: value.c (the
 * line), valuelex.c (its tokens), valueword.c (a word expanded), valueprog.c (one command
 * judged). They call each other as the shell's grammar nests: a word's $(…) holds a line.
 */
#ifndef VALUE_INT_H
#define VALUE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define MAX_DEPTH 8  /* eval, trap, sh -c and $(…) inside each other */
#define MAX_NEST  64 /* quotes, ${…} and $(…) inside each other, while reading a word */
#define MAX_CWDS  16

struct var {
    char *name;
    char *value;         /* NULL: unset */
    const char *unknown; /* only the shell knows it: why */
};

struct vars {
    struct var *v;
    size_t n;
    bool cleared; /* env -i: nothing below counts */
};

struct field {
    char *text;
    const char *unknown; /* what only the shell can expand, or NULL */
    char *word;          /* the word as written, for messages */
};

struct fields {
    struct field *v;
    size_t n;
};

struct scan {
    const char *root;
    const struct config *c;
    char *const *extra; /* the spawn's additions to ccwrap's environment */
    struct vars vars;   /* what the line itself assigned so far */
    char *cwds[MAX_CWDS];
    size_t n_cwds;
    const char *cwd_unknown; /* a cd ccwrap cannot follow, as written */
    bool ifs_set;
    int depth;
    char *problem;
};

enum tok_kind { TK_END, TK_WORD, TK_OP, TK_REDIR, TK_BAD };

struct tok {
    enum tok_kind kind;
    const char *s;
    size_t len;
};

struct heredoc {
    char *delim;
    bool strip_tabs, expands;
};

struct reader {
    const char *p;
    struct heredoc pending[8];
    size_t n_pending;
};

/* ---- value.c ---- */

/* The first problem of the scan, "PROGRAM: problem; fix"; later ones are dropped. */
void scan_fail(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Every simple command of TEXT, judged (a value, a $(…)'s inside, eval's and sh -c's line). */
void scan_line(struct scan *s, const char *text, size_t len);

/* ---- valuelex.c ---- */

/* P after an opening backquote: after the closing one, or NULL. */
const char *lex_skip_backquote(const char *p);
/* P after "(": after the matching ")", or NULL (also when nested more than MAX_NEST). */
const char *lex_skip_paren(const char *p);
/* The next token of R; after a newline, the pending here-documents' bodies are read. */
struct tok lex_next(struct scan *s, struct reader *r);
bool lex_tok_is(const struct tok *t, enum tok_kind kind, const char *text);

/* ---- valueword.c ---- */

/* NAME (LEN bytes) set to VALUE (NULL: unset); UNKNOWN: only the shell knows it, why. */
void vars_set(struct vars *vs, const char *name, size_t len, const char *value,
              const char *unknown);
void vars_free(struct vars *vs);
/*
 * NAME's value as the program will see it: OVERLAY (a command's own assignments, env's), then
 * the line's assignments, the spawn's additions, ccwrap's environment. NULL: unset.
 */
const char *vars_lookup(const struct scan *s, struct vars *overlay, const char *name, size_t len,
                        const char **unknown);
bool word_name_char(char ch, bool first);
/*
 * Expands the word W into *OUT (NULL: judge what runs inside, keep nothing), as the shell:
 * quotes removed, ~ and plain $NAME / ${NAME} expanded, unquoted values split.
 */
void word_expand(struct scan *s, const char *w, size_t n, struct vars *overlay, struct fields *out,
                 bool assign);
/* Runs nothing of W but what its substitutions run. */
void scan_substitutions(struct scan *s, const char *w, size_t len);
void fields_free(struct fields *f);

/* ---- valueprog.c ---- */

/* WORDS of one simple command, redirections already taken out: what it runs, judged. */
void scan_command(struct scan *s, const struct tok *words, size_t n);

#endif
