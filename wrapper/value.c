/*
 * value.c — the programs a command line runs, found the way the shell will find them, each held
 * to the trust rule (doc/security.md). A value's first word is not its program: `FOO=1 bin/app`,
 * `exec bin/app`, `env bin/app`, `"bin/app"` and `b\in/app` all run bin/app, and `a && b` runs
 * two. Only what needs more than quotes and plain $NAME is left to the shell, and refused.
 * This room reads the line's commands (if, while, for, case, { }, ( ), redirections); the
 * others: valuelex.c (tokens), valueword.c (a word expanded), valueprog.c (one command judged).
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "config.h"
#include "trust.h"
#include "value.h"
#include "value_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NOLINTBEGIN(misc-no-recursion): $(…), eval and sh -c hold lines (MAX_DEPTH). */

void scan_fail(struct scan *s, const char *fmt, ...)
{
    va_list ap;

    if (s->problem)
        return;
    va_start(ap, fmt);
    if (vasprintf(&s->problem, fmt, ap) < 0)
        s->problem = NULL;
    va_end(ap);
    if (!s->problem)
        s->problem = xstrdup("out of memory");
}

static bool word_is(const struct tok *t, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lex_tok_is(t, TK_WORD, list[i]))
            return true;
    return false;
}

/* <<WORD or <<-WORD (OP, after any descriptor number): the body follows the line. */
static void heredoc(struct scan *s, struct reader *r, const char *op, const struct tok *target)
{
    struct fields d = {0};
    struct heredoc *h;

    if (r->n_pending >= sizeof r->pending / sizeof r->pending[0]) {
        scan_fail(s, "more than %zu here-documents on one line; put the line in a script",
                  sizeof r->pending / sizeof r->pending[0]);
        return;
    }
    h = &r->pending[r->n_pending++];
    word_expand(s, target->s, target->len, NULL, &d, true);
    h->delim = xstrdup(d.n ? d.v[0].text : "");
    h->strip_tabs = strcmp(op, "<<-") == 0;
    /* A quoted delimiter: the body is text; else its $(…) and `…` run. */
    h->expands = true;
    for (size_t i = 0; i < target->len; i++)
        if (strchr("'\"\\", target->s[i]))
            h->expands = false;
    fields_free(&d);
}

/* A redirection T: its target is a file name, a descriptor or a here-document's delimiter. */
static void redirection(struct scan *s, struct reader *r, const struct tok *t)
{
    struct tok target = lex_next(s, r);
    char *op = strndup(t->s, t->len), *o;

    if (!op)
        return;
    o = op + strspn(op, "0123456789");
    if (target.kind != TK_WORD)
        scan_fail(s, "a redirection %s names no file; name one", o);
    else if (strcmp(o, "<<") == 0 || strcmp(o, "<<-") == 0)
        heredoc(s, r, o, &target);
    else
        word_expand(s, target.s, target.len, NULL, NULL, false);
    free(op);
}

/* After `for`, `select`, `case` or `[[`: words up to do, in or ]], of which only $(…) runs. */
static void skip_header(struct scan *s, struct reader *r, const char *until)
{
    struct tok t;

    do {
        t = lex_next(s, r);
        if (t.kind == TK_WORD)
            word_expand(s, t.s, t.len, NULL, NULL, false);
    } while (t.kind != TK_END && t.kind != TK_BAD && !s->problem &&
             !lex_tok_is(&t, TK_WORD, until));
}

/* Every simple command of TEXT, in if, while, for, case, { }, ( ) and after && || ; | &. */
void scan_line(struct scan *s, const char *text, size_t len)
{
    static const char *const reserved[] = {"if", "then", "elif", "else", "while", "until", "do",
                                           "{",  "!",    "time", "fi",   "done",  "}"};
    char *copy = strndup(text, len);
    struct reader r = {.p = copy};
    struct tok *words = NULL;
    size_t n = 0, cap = 0;
    bool want_pattern[16] = {false};
    int cases = 0;

    if (!copy)
        return;
    if (++s->depth > MAX_DEPTH) {
        scan_fail(s, "commands are nested more than %d deep; put the line in a script", MAX_DEPTH);
        goto out;
    }
    while (!s->problem) {
        struct tok t = lex_next(s, &r);

        if (t.kind == TK_BAD) {
            scan_fail(s,
                      "a quote or a substitution is not closed, or they nest more than %d deep; "
                      "close it",
                      MAX_NEST);
            break;
        }
        /* Reserved words count only where a command begins. */
        if (t.kind == TK_WORD && n == 0) {
            if (word_is(&t, reserved, sizeof reserved / sizeof reserved[0]))
                continue;
            if (lex_tok_is(&t, TK_WORD, "esac")) {
                cases -= cases > 0;
                continue;
            }
            if (cases > 0 && want_pattern[cases - 1]) {
                /* A case pattern, up to its ')'. */
                while (t.kind == TK_WORD || lex_tok_is(&t, TK_OP, "|") ||
                       lex_tok_is(&t, TK_OP, "\n"))
                    t = lex_next(s, &r);
                want_pattern[cases - 1] = false;
                continue;
            }
            if (lex_tok_is(&t, TK_WORD, "for") || lex_tok_is(&t, TK_WORD, "select")) {
                skip_header(s, &r, "do");
                continue;
            }
            if (lex_tok_is(&t, TK_WORD, "[[")) {
                skip_header(s, &r, "]]");
                continue;
            }
            if (lex_tok_is(&t, TK_WORD, "case")) {
                skip_header(s, &r, "in");
                if (cases < 16)
                    want_pattern[cases++] = true;
                continue;
            }
            if (lex_tok_is(&t, TK_WORD, "function")) {
                lex_next(s, &r); /* its name; the body follows as commands */
                continue;
            }
        }
        if (t.kind == TK_WORD) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                words = xrealloc(words, cap * sizeof *words);
            }
            words[n++] = t;
            continue;
        }
        if (t.kind == TK_REDIR) {
            redirection(s, &r, &t);
            continue;
        }
        /* An operator or the end: the simple command so far is complete. */
        if (lex_tok_is(&t, TK_OP, "(") && n > 0) {
            /* NAME() { …; }: a function's definition; its body is read as commands. */
            struct tok close = lex_next(s, &r);

            if (!lex_tok_is(&close, TK_OP, ")"))
                scan_fail(s, "'(' after a word is not a function definition; quote it");
            n = 0;
            continue;
        }
        if (lex_tok_is(&t, TK_OP, "(") && *r.p == '(') {
            /* ((…)): arithmetic, a command that runs nothing but its substitutions. */
            const char *end = lex_skip_paren(r.p + 1);

            if (!end || *end != ')') {
                scan_fail(s, "'((' is not closed by '))'; close it");
                break;
            }
            scan_substitutions(s, r.p + 1, (size_t)(end - r.p - 2));
            r.p = end + 1;
            continue;
        }
        if (n > 0)
            scan_command(s, words, n);
        n = 0;
        if (t.kind == TK_END)
            break;
        if ((lex_tok_is(&t, TK_OP, ";;") || lex_tok_is(&t, TK_OP, ";&") ||
             lex_tok_is(&t, TK_OP, ";;&")) &&
            cases > 0)
            want_pattern[cases - 1] = true;
    }
    for (size_t i = 0; i < r.n_pending; i++)
        free(r.pending[i].delim);
out:
    s->depth--;
    free(words);
    free(copy);
}

/* NOLINTEND(misc-no-recursion) */

static char *value_problem(const char *value, const char *root, const struct config *c,
                           char *const *env)
{
    struct scan s = {.root = root, .c = c, .extra = env};

    if (!value)
        return NULL;
    s.cwds[s.n_cwds++] = xstrdup(root);
    scan_line(&s, value, strlen(value));
    vars_free(&s.vars);
    for (size_t i = 0; i < s.n_cwds; i++)
        free(s.cwds[i]);
    return s.problem;
}

char *command_trust_problem(const char *value, const char *root, const struct config *c)
{
    return value_problem(value, root, c, NULL);
}

char *trust_value(const char *value, const char *root, const struct config *c, char *const *env)
{
    char *shell = shell_trust_problem(root, c);

    return shell ? shell : value_problem(value, root, c, env);
}
