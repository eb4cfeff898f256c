/*
 * valuelex.c — a command line read as the shell reads it, before anything is expanded: where a
 * word ends (quotes, backslashes, ${…}, $(…), `…` and their nesting, bounded), the operators
 * and redirections between words, and the bodies of here-documents. value.c reads the line
 * with it; what the words mean is valueword.c's.
 */
#include <stdbool.h>
#include <stddef.h>

#include "value_int.h"

#include <stdlib.h>
#include <string.h>

/* NOLINTBEGIN(misc-no-recursion): nested quotes and substitutions, bounded by MAX_NEST. */

static bool is_meta(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == ';' || ch == '&' || ch == '|' ||
           ch == '<' || ch == '>' || ch == '(' || ch == ')' || ch == '\0';
}

/*
 * The readers of nested quotes and substitutions call each other: NEST bounds their depth, so
 * that a value of 100,000 "$(" is refused, not a stack overflow.
 */
static int nest;

static const char *skip_nested(const char *p, char close);

/* P after an opening backquote: after the closing one, or NULL. */
const char *lex_skip_backquote(const char *p)
{
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '`')
            return p + 1;
    }
    return NULL;
}

/* P after "${" (CLOSE '}') or "(" (CLOSE ')'): after the matching CLOSE, or NULL. */
static const char *skip_group_in(const char *p, char close)
{
    char open = close == '}' ? '{' : '(';
    int depth = 1;

    while (p && *p) {
        if (*p == '\\' && p[1])
            p += 2;
        else if (*p == '\'')
            p = strchr(p + 1, '\''), p = p ? p + 1 : NULL;
        else if (*p == '"')
            p = skip_nested(p + 1, '"');
        else if (*p == '`')
            p = lex_skip_backquote(p + 1);
        else if (close == '}' && *p == '$' && p[1] == '(')
            p = lex_skip_paren(p + 2); /* a '}' in $(…) closes nothing; a '(' in (…) counts */
        else if (*p == open || *p == close) {
            depth += *p == open ? 1 : -1;
            p++;
            if (depth == 0)
                return p;
        } else
            p++;
    }
    return NULL;
}

/* P after a double quote: after the closing one, or NULL. */
static const char *skip_dquote_in(const char *p)
{
    while (*p && *p != '"') {
        if (*p == '\\' && p[1])
            p += 2;
        else if (*p == '$' && p[1] == '(')
            p = lex_skip_paren(p + 2);
        else if (*p == '$' && p[1] == '{')
            p = skip_nested(p + 2, '}');
        else if (*p == '`')
            p = lex_skip_backquote(p + 1);
        else
            p++;
        if (!p)
            return NULL;
    }
    return *p ? p + 1 : NULL;
}

/* P after an opening '"', "${" or "(", by its CLOSE: after the closing one, or NULL. */
static const char *skip_nested(const char *p, char close)
{
    const char *end = NULL;

    if (++nest <= MAX_NEST)
        end = close == '"' ? skip_dquote_in(p) : skip_group_in(p, close);
    nest--;
    return end;
}

const char *lex_skip_paren(const char *p)
{
    return skip_nested(p, ')');
}

/* P at a word: after it, or NULL when a quote or a substitution is not closed. */
static const char *skip_word(const char *p)
{
    while (p && !is_meta(*p)) {
        switch (*p) {
        case '\'':
            p = strchr(p + 1, '\'');
            p = p ? p + 1 : NULL;
            break;
        case '"':
            p = skip_nested(p + 1, '"');
            break;
        case '`':
            p = lex_skip_backquote(p + 1);
            break;
        case '\\':
            p += p[1] ? 2 : 1;
            break;
        case '$':
            if (p[1] == '(')
                p = lex_skip_paren(p + 2);
            else if (p[1] == '{')
                p = skip_nested(p + 2, '}');
            else
                p++;
            break;
        default:
            p++;
        }
    }
    return p;
}

static const char *const ops[] = {";;&", ";;", ";&", "&&", "||", "|&", "&>>", "&>", "<<<",
                                  "<<-", "<<", "<&", "<>", "<(", ">(", ">>",  ">&", ">|",
                                  ";",   "&",  "|",  "(",  ")",  "<",  ">",   "\n"};

/* After a newline: the bodies of the here-documents begun on that line. */
static void read_heredocs(struct scan *s, struct reader *r)
{
    for (size_t i = 0; i < r->n_pending; i++) {
        struct heredoc *h = &r->pending[i];
        const char *body = r->p;

        while (*r->p) {
            const char *line = r->p, *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);

            if (h->strip_tabs)
                while (len > 0 && *line == '\t')
                    line++, len--;
            r->p = end ? end + 1 : line + len;
            if (len == strlen(h->delim) && memcmp(line, h->delim, len) == 0)
                break;
        }
        /* An unquoted delimiter: $(…) and `…` in the body run. */
        if (h->expands)
            scan_substitutions(s, body, (size_t)(r->p - body));
        free(h->delim);
    }
    r->n_pending = 0;
}

struct tok lex_next(struct scan *s, struct reader *r)
{
    struct tok t = {TK_END, NULL, 0};
    const char *p = r->p, *end;

    for (;;) {
        while (*p == ' ' || *p == '\t' || (*p == '\\' && p[1] == '\n'))
            p += *p == '\\' ? 2 : 1;
        if (*p != '#')
            break;
        p += strcspn(p, "\n");
    }
    t.s = p;
    if (!*p) {
        r->p = p;
        return t;
    }
    /* 2>file, 2>&1: a number right before a redirection is its descriptor. */
    end = p + strspn(p, "0123456789");
    if (end > p && (*end == '<' || *end == '>') && end[1] != '(')
        p = end;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i]);

        if (strncmp(p, ops[i], n) != 0)
            continue;
        if (ops[i][1] == '(' && (ops[i][0] == '<' || ops[i][0] == '>')) {
            /* <(…) >(…): a process substitution, a word whose inside runs. */
            end = lex_skip_paren(p + 2);
            t.kind = end ? TK_WORD : TK_BAD;
            t.len = end ? (size_t)(end - t.s) : 0;
            r->p = end ? end : p + strlen(p);
            return t;
        }
        t.kind = strchr("<>", ops[i][0]) || strcmp(ops[i], "&>") == 0 || strcmp(ops[i], "&>>") == 0
                     ? TK_REDIR
                     : TK_OP;
        t.len = (size_t)(p + n - t.s);
        r->p = p + n;
        if (strcmp(ops[i], "\n") == 0)
            read_heredocs(s, r);
        return t;
    }
    end = skip_word(p);
    if (!end) {
        t.kind = TK_BAD;
        r->p = p + strlen(p);
        return t;
    }
    t.kind = TK_WORD;
    t.len = (size_t)(end - p);
    r->p = end;
    return t;
}

bool lex_tok_is(const struct tok *t, enum tok_kind kind, const char *text)
{
    return t->kind == kind && t->len == strlen(text) && memcmp(t->s, text, t->len) == 0;
}

/* NOLINTEND(misc-no-recursion) */
