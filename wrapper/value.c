/*
 * value.c — the programs a command line runs, found the way the shell will find them, each held
 * to the trust rule (README: Security). A value's first word is not its program: `FOO=1 bin/app`,
 * `exec bin/app`, `env bin/app`, `"bin/app"` and `b\in/app` all run bin/app, and `a && b` runs
 * two. Only what needs more than quotes and plain $NAME is left to the shell, and refused.
 */
#include "ccwrap.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Words the shell runs itself: no file is looked up for them. */
static const char *const builtins[] = {
    ":",        "[",        "alias",   "bg",        "break",    "caller",  "cd",      "compgen",
    "complete", "continue", "declare", "dirs",      "disown",   "echo",    "enable",  "exit",
    "export",   "false",    "fc",      "fg",        "getopts",  "hash",    "help",    "history",
    "jobs",     "kill",     "let",     "local",     "logout",   "mapfile", "popd",    "printf",
    "pushd",    "pwd",      "read",    "readarray", "readonly", "return",  "set",     "shift",
    "shopt",    "suspend",  "test",    "times",     "true",     "type",    "typeset", "ulimit",
    "umask",    "unalias",  "unset",   "wait",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0)
            return true;
    return false;
}

static void fail(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct scan *s, const char *fmt, ...)
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

/* ---- variables ---------------------------------------------------------- */

static struct var *var_find(struct vars *vs, const char *name, size_t len)
{
    for (size_t i = vs->n; i-- > 0;)
        if (strlen(vs->v[i].name) == len && memcmp(vs->v[i].name, name, len) == 0)
            return &vs->v[i];
    return NULL;
}

static void var_set(struct vars *vs, const char *name, size_t len, const char *value,
                    const char *unknown)
{
    struct var *v = var_find(vs, name, len);

    if (!v) {
        vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof *vs->v);
        v = &vs->v[vs->n++];
        v->name = strndup(name, len);
        if (!v->name)
            v->name = xstrdup("");
    } else {
        free(v->value);
    }
    v->value = value ? xstrdup(value) : NULL;
    v->unknown = unknown;
}

static void vars_free(struct vars *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        free(vs->v[i].name);
        free(vs->v[i].value);
    }
    free(vs->v);
    memset(vs, 0, sizeof *vs);
}

/*
 * NAME's value as the program will see it: OVERLAY (a command's own assignments, env's), then
 * the line's assignments, the spawn's additions, ccwrap's environment. NULL: unset.
 */
static const char *lookup(const struct scan *s, struct vars *overlay, const char *name, size_t len,
                          const char **unknown)
{
    struct var *v = overlay ? var_find(overlay, name, len) : NULL;

    *unknown = NULL;
    if (!v && !(overlay && overlay->cleared))
        v = var_find((struct vars *)&s->vars, name, len);
    if (v) {
        *unknown = v->unknown;
        return v->value;
    }
    if (overlay && overlay->cleared)
        return NULL;
    for (char *const *e = s->extra; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/* ---- reading the line ----------------------------------------------------- */

static bool is_meta(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == ';' || ch == '&' || ch == '|' ||
           ch == '<' || ch == '>' || ch == '(' || ch == ')' || ch == '\0';
}

/*
 * A command line nests: $(…) holds commands, "…" holds $(…), eval and sh -c hold lines. The
 * readers below recurse with it, bounded by MAX_NEST and MAX_DEPTH.
 */
/* NOLINTBEGIN(misc-no-recursion) */

/*
 * The readers of nested quotes and substitutions call each other: NEST bounds their depth, so
 * that a value of 100,000 "$(" is refused, not a stack overflow.
 */
static int nest;

static const char *skip_paren(const char *p);

/* P after an opening backquote: after the closing one, or NULL. */
static const char *skip_backquote(const char *p)
{
    for (; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '`')
            return p + 1;
    }
    return NULL;
}

static const char *skip_dquote(const char *p);

/* P after "${": after the matching "}", or NULL. */
static const char *skip_brace_in(const char *p)
{
    int depth = 1;

    while (p && *p) {
        if (*p == '\\' && p[1])
            p += 2;
        else if (*p == '\'')
            p = strchr(p + 1, '\''), p = p ? p + 1 : NULL;
        else if (*p == '"')
            p = skip_dquote(p + 1);
        else if (*p == '`')
            p = skip_backquote(p + 1);
        else if (*p == '$' && p[1] == '(')
            p = skip_paren(p + 2);
        else if (*p == '{' || *p == '}') {
            depth += *p == '{' ? 1 : -1;
            p++;
            if (depth == 0)
                return p;
        } else
            p++;
    }
    return NULL;
}

static const char *skip_brace(const char *p)
{
    const char *end = NULL;

    if (++nest <= MAX_NEST)
        end = skip_brace_in(p);
    nest--;
    return end;
}

/* P after a double quote: after the closing one, or NULL. */
static const char *skip_dquote_in(const char *p)
{
    while (*p && *p != '"') {
        if (*p == '\\' && p[1])
            p += 2;
        else if (*p == '$' && p[1] == '(')
            p = skip_paren(p + 2);
        else if (*p == '$' && p[1] == '{')
            p = skip_brace(p + 2);
        else if (*p == '`')
            p = skip_backquote(p + 1);
        else
            p++;
        if (!p)
            return NULL;
    }
    return *p ? p + 1 : NULL;
}

static const char *skip_dquote(const char *p)
{
    const char *end = NULL;

    if (++nest <= MAX_NEST)
        end = skip_dquote_in(p);
    nest--;
    return end;
}

/* P after "(": after the matching ")", or NULL. */
static const char *skip_paren_in(const char *p)
{
    int depth = 1;

    while (p && *p) {
        switch (*p) {
        case '\'':
            p = strchr(p + 1, '\'');
            p = p ? p + 1 : NULL;
            continue;
        case '"':
            p = skip_dquote(p + 1);
            continue;
        case '`':
            p = skip_backquote(p + 1);
            continue;
        case '\\':
            p += p[1] ? 2 : 1;
            continue;
        case '(':
            depth++;
            break;
        case ')':
            if (--depth == 0)
                return p + 1;
            break;
        default:
            break;
        }
        p++;
    }
    return NULL;
}

static const char *skip_paren(const char *p)
{
    const char *end = NULL;

    if (++nest <= MAX_NEST)
        end = skip_paren_in(p);
    nest--;
    return end;
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
            p = skip_dquote(p + 1);
            break;
        case '`':
            p = skip_backquote(p + 1);
            break;
        case '\\':
            p += p[1] ? 2 : 1;
            break;
        case '$':
            if (p[1] == '(')
                p = skip_paren(p + 2);
            else if (p[1] == '{')
                p = skip_brace(p + 2);
            else
                p++;
            break;
        default:
            p++;
        }
    }
    return p;
}

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

static const char *const ops[] = {";;&", ";;", ";&", "&&", "||", "|&", "&>>", "&>", "<<<",
                                  "<<-", "<<", "<&", "<>", "<(", ">(", ">>",  ">&", ">|",
                                  ";",   "&",  "|",  "(",  ")",  "<",  ">",   "\n"};

static void scan_substitutions(struct scan *s, const char *w, size_t len);

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

static struct tok next_token(struct scan *s, struct reader *r)
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
            end = skip_paren(p + 2);
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

static bool tok_is(const struct tok *t, enum tok_kind kind, const char *text)
{
    return t->kind == kind && t->len == strlen(text) && memcmp(t->s, text, t->len) == 0;
}

/* ---- expanding a word -------------------------------------------------- */

static void check_line(struct scan *s, const char *text, size_t len);

static bool is_name_char(char ch, bool first)
{
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (!first && ch >= '0' && ch <= '9');
}

struct expansion {
    char *buf;
    size_t len, cap;
    bool have;   /* a field is begun (even "" is one) */
    bool split;  /* unquoted $NAME: its value is split into fields */
    bool assign; /* NAME=value: one field, no glob */
    const char *unknown;
    struct fields *out;
    const char *word;
    size_t word_len;
};

static void put(struct expansion *e, const char *text, size_t n)
{
    if (e->len + n + 1 > e->cap) {
        e->cap = (e->len + n + 1) * 2;
        e->buf = xrealloc(e->buf, e->cap);
    }
    memcpy(e->buf + e->len, text, n);
    e->len += n;
    e->buf[e->len] = '\0';
    e->have = true;
}

static void end_field(struct expansion *e)
{
    struct field *f;

    if (!e->have)
        return;
    if (e->out) {
        e->out->v = xrealloc(e->out->v, (e->out->n + 1) * sizeof *e->out->v);
        f = &e->out->v[e->out->n++];
        f->text = e->buf ? e->buf : xstrdup("");
        f->unknown = e->unknown;
        f->word = strndup(e->word, e->word_len);
        if (!f->word)
            f->word = xstrdup("");
    } else {
        free(e->buf);
    }
    e->buf = NULL;
    e->len = e->cap = 0;
    e->have = false;
}

/* A value put in unquoted: split at blanks (IFS as the shell starts with it). */
static void put_split(struct scan *s, struct expansion *e, const char *v)
{
    if (!e->split || e->assign) {
        put(e, v, strlen(v));
        return;
    }
    if (s->ifs_set && *v)
        e->unknown = e->unknown ? e->unknown : "IFS set by the line";
    if (strpbrk(v, "*?["))
        e->unknown = e->unknown ? e->unknown : "a glob";
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, " \t\n");

        if (n)
            put(e, p, n);
        p += n;
        if (*p) {
            end_field(e);
            p += strspn(p, " \t\n");
        }
    }
}

/* The inside of $(…) or `…` runs: its programs are judged too. */
static void substitution(struct scan *s, struct expansion *e, const char *in, size_t n,
                         bool backquoted)
{
    char *text = strndup(in, n), *w = text;

    if (!text)
        return;
    if (backquoted) {
        /* In `…`, \$ \` \\ stand for the character. */
        for (char *r = text; *r; r++) {
            if (*r == '\\' && (r[1] == '$' || r[1] == '`' || r[1] == '\\'))
                r++;
            *w++ = *r;
        }
        *w = '\0';
    }
    check_line(s, text, strlen(text));
    free(text);
    e->unknown = e->unknown ? e->unknown : backquoted ? "`…`" : "$(…)";
    e->have = true;
}

/* $… at P (inside double quotes when QUOTED): appends its value; returns what follows. */
static const char *dollar(struct scan *s, struct expansion *e, struct vars *overlay, const char *p,
                          const char *end, bool quoted)
{
    const char *q, *val, *unknown;
    bool saved = e->split;

    e->split = !quoted;
    if (p + 1 < end && p[1] == '(') {
        q = skip_paren(p + 2);
        if (!q || q > end)
            q = end;
        if (p + 2 < end && p[2] == '(') {
            e->unknown = e->unknown ? e->unknown : "$((…))";
            e->have = true;
        } else {
            substitution(s, e, p + 2, (size_t)(q - 1 - (p + 2)), false);
        }
        e->split = saved;
        return q;
    }
    if (p + 1 < end && p[1] == '{') {
        size_t n = 0;

        q = p + 2;
        while (q + n < end && is_name_char(q[n], n == 0))
            n++;
        if (n > 0 && q + n < end && q[n] == '}') {
            val = lookup(s, overlay, q, n, &unknown);
            if (unknown)
                e->unknown = e->unknown ? e->unknown : unknown;
            if (val)
                put_split(s, e, val);
            else if (quoted)
                e->have = true;
            e->split = saved;
            return q + n + 1;
        }
        /* ${X:-…}, ${#X}, ${X%…}: only the shell knows; what runs inside is judged. */
        for (q = p + 2; q < end && *q != '}'; q++)
            if (*q == '\\' && q + 1 < end)
                q++;
        scan_substitutions(s, p + 2, (size_t)(q - (p + 2)));
        e->unknown = e->unknown ? e->unknown : "${…}";
        e->have = true;
        e->split = saved;
        return q < end ? q + 1 : end;
    }
    if (p + 1 < end && is_name_char(p[1], true)) {
        size_t n = 1;

        while (p + 1 + n < end && is_name_char(p[1 + n], false))
            n++;
        val = lookup(s, overlay, p + 1, n, &unknown);
        if (unknown)
            e->unknown = e->unknown ? e->unknown : unknown;
        if (val)
            put_split(s, e, val);
        else if (quoted)
            e->have = true;
        e->split = saved;
        return p + 1 + n;
    }
    if (p + 1 < end && strchr("@*#?-$!0123456789", p[1])) {
        e->unknown = e->unknown ? e->unknown : "a special parameter";
        e->have = true;
        e->split = saved;
        return p + 2;
    }
    put(e, "$", 1);
    e->split = saved;
    return p + 1;
}

/* Whether W (unquoted text) holds a pattern the shell would match against files. */
static bool is_glob(const char *w, size_t n)
{
    const char *open = memchr(w, '[', n);

    return memchr(w, '*', n) || memchr(w, '?', n) ||
           (open && memchr(open, ']', n - (size_t)(open - w)));
}

/*
 * Expands the word W into *OUT (NULL: judge what runs inside, keep nothing), as the shell:
 * quotes removed, ~ and plain $NAME / ${NAME} expanded, unquoted values split.
 */
static void expand(struct scan *s, const char *w, size_t n, struct vars *overlay,
                   struct fields *out, bool assign)
{
    struct expansion e = {.out = out, .word = w, .word_len = n, .assign = assign};
    const char *p = w, *end = w + n;

    if (n > 0 && *w == '~') {
        size_t u = 1;
        const char *home = NULL, *unknown;

        while (u < n && w[u] != '/' && !strchr("'\"\\$`", w[u]))
            u++;
        if (u == 1) {
            home = lookup(s, overlay, "HOME", 4, &unknown);
            if (unknown)
                e.unknown = unknown;
        } else if (u == n || w[u] == '/') {
            char *name = strndup(w + 1, u - 1);
            struct passwd *pw = name ? getpwnam(name) : NULL;

            home = pw ? pw->pw_dir : NULL;
            free(name);
        }
        if (home || u == 1) {
            put(&e, home ? home : "", home ? strlen(home) : 0);
            p = w + u;
        }
    }
    while (p < end) {
        const char *q;

        switch (*p) {
        case '\'':
            q = memchr(p + 1, '\'', (size_t)(end - p - 1));
            q = q ? q : end;
            put(&e, p + 1, (size_t)(q - p - 1));
            p = q < end ? q + 1 : end;
            break;
        case '"':
            e.have = true;
            for (p++; p < end && *p != '"';) {
                if (*p == '\\' && p + 1 < end && strchr("$`\"\\\n", p[1])) {
                    if (p[1] != '\n')
                        put(&e, p + 1, 1);
                    p += 2;
                } else if (*p == '$') {
                    p = dollar(s, &e, overlay, p, end, true);
                } else if (*p == '`') {
                    q = skip_backquote(p + 1);
                    q = q && q <= end ? q : end;
                    substitution(s, &e, p + 1, (size_t)(q - 1 - (p + 1)), true);
                    p = q;
                } else {
                    put(&e, p++, 1);
                }
            }
            p = p < end ? p + 1 : end;
            break;
        case '\\':
            if (p + 1 < end && p[1] != '\n')
                put(&e, p + 1, 1);
            p += 2;
            break;
        case '$':
            p = dollar(s, &e, overlay, p, end, false);
            break;
        case '`':
            q = skip_backquote(p + 1);
            q = q && q <= end ? q : end;
            substitution(s, &e, p + 1, (size_t)(q - 1 - (p + 1)), true);
            p = q;
            break;
        case '<':
        case '>':
            /* <(…): what runs inside is judged; the word is a file name only the shell knows. */
            q = skip_paren(p + 2);
            q = q && q <= end ? q : end;
            substitution(s, &e, p + 2, (size_t)(q - 1 - (p + 2)), false);
            p = q;
            break;
        default:
            q = p + strcspn(p, "'\"\\$`");
            q = q < end ? q : end;
            if (!assign && is_glob(p, (size_t)(q - p)))
                e.unknown = e.unknown ? e.unknown : "a glob";
            put(&e, p, (size_t)(q - p));
            p = q;
        }
    }
    end_field(&e);
    free(e.buf);
}

/* Runs nothing of W but what its substitutions run. */
static void scan_substitutions(struct scan *s, const char *w, size_t len)
{
    for (const char *p = w; p < w + len && !s->problem; p++) {
        const char *q;

        if (*p == '\\') {
            p++;
        } else if (*p == '`' || (*p == '$' && p + 1 < w + len && p[1] == '(')) {
            struct expansion e = {0};
            bool back = *p == '`';
            const char *in = p + (back ? 1 : 2);

            q = back ? skip_backquote(in) : skip_paren(in);
            if (!q || q > w + len)
                return;
            /* $((…)) is arithmetic, not a command. */
            if (back || *in != '(')
                substitution(s, &e, in, (size_t)(q - 1 - in), back);
            free(e.buf);
            p = q - 1;
        }
    }
}

/* ---- judging a program ----------------------------------------------------- */

/* PATH when the variable is unset: the C library's default, as execvp uses it. */
static char *default_path(void)
{
    char buf[256];
    size_t n = confstr(_CS_PATH, buf, sizeof buf);

    return n > 0 && n <= sizeof buf ? xstrdup(buf) : xstrdup("/bin:/usr/bin");
}

static bool runnable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* PATH as the user names it: relative to the root when under it. */
static const char *shown(const struct scan *s, const char *path)
{
    size_t n = strlen(s->root);

    return strncmp(path, s->root, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

/*
 * PROBLEM (or none) of the program PROG. In a value of several commands "its folder bin" could
 * be anyone's: a problem about a folder or a link on the way names the program first.
 */
static void fail_program(struct scan *s, const char *prog, const char *problem)
{
    if (problem && strncmp(problem, "its ", 4) == 0)
        fail(s, "%s: %s", prog, problem);
    else if (problem)
        fail(s, "%s", problem);
}

/* NAME (with a /) judged from every folder the line may be in. */
static void judge_path(struct scan *s, const char *name, const char *dir)
{
    if (name[0] == '/') {
        char *p = trust_problem(name, s->root, name, s->c);

        fail_program(s, name, p);
        free(p);
        return;
    }
    if (dir) {
        char *full = xasprintf("%s/%s", dir, name);

        judge_path(s, full, NULL);
        free(full);
        return;
    }
    if (s->cwd_unknown) {
        fail(s,
             "%s is a relative path after '%s', which only the shell can follow; name it by "
             "its full path, or put the line in a script",
             name, s->cwd_unknown);
        return;
    }
    for (size_t i = 0; i < s->n_cwds && !s->problem; i++) {
        const char *rel = name;
        char *full, *p;

        while (rel[0] == '.' && rel[1] == '/')
            rel += 2 + strspn(rel + 2, "/");
        full = xasprintf("%s/%s", s->cwds[i], rel);
        /* As the user names it: relative to the root when under it. */
        p = trust_problem(full, s->root, i == 0 ? rel : shown(s, full), s->c);
        fail_program(s, i == 0 ? rel : shown(s, full), p);
        free(p);
        free(full);
    }
}

/* NAME (no /) looked up in PATH as execvp does; the folders searched must be trusted too. */
static void judge_lookup(struct scan *s, const char *name, struct vars *overlay, bool std_path)
{
    const char *unknown = NULL, *path = std_path ? NULL : lookup(s, overlay, "PATH", 4, &unknown);
    char *dup, *entry, *next;
    bool found = false;

    if (!std_path && unknown) {
        fail(s,
             "%s is looked up in a PATH that only the shell knows (%s); name the program by "
             "its full path",
             name, unknown);
        return;
    }
    dup = path ? xstrdup(path) : default_path();
    for (entry = dup; entry && !s->problem && !found; entry = next) {
        const char *dir;
        bool relative;

        next = strchr(entry, ':');
        if (next)
            *next++ = '\0';
        dir = *entry ? entry : ".";
        relative = dir[0] != '/';
        for (size_t i = 0; i < (relative ? s->n_cwds : 1) && !s->problem && !found; i++) {
            char *folder = relative ? xasprintf("%s/%s", s->cwds[i], dir) : xstrdup(dir),
                 *full = xasprintf("%s/%s", folder, name), *p = NULL;

            /* A folder ccwrap's user may not search: execvp finds nothing there either. */
            bool searchable = faccessat(AT_FDCWD, folder, X_OK, AT_EACCESS) == 0 || errno != EACCES;

            if (searchable && (p = trust_problem(full, s->root, full, s->c)) != NULL)
                fail(s, "%s, looked up in the PATH entry %s: %s", name, dir, p);
            else if (searchable && relative && runnable(full))
                fail(s,
                     "%s is found through the relative PATH entry %s%s, which names another "
                     "file in each folder; name it by its path (%s/%s), or put an absolute "
                     "folder in PATH",
                     name, *entry ? entry : "''", *entry ? "" : " (the working folder)", dir, name);
            else if (searchable && runnable(full))
                found = true;
            free(p);
            free(full);
            free(folder);
        }
        if (relative && s->cwd_unknown && !s->problem && !found)
            fail(s,
                 "%s is looked up in the relative PATH entry %s after '%s', which only the "
                 "shell can follow; name it by its full path",
                 name, dir, s->cwd_unknown);
    }
    free(dup);
}

static void judge_program(struct scan *s, const char *name, struct vars *overlay, const char *dir,
                          bool std_path)
{
    if (strchr(name, '/'))
        judge_path(s, name, dir);
    else if (*name)
        judge_lookup(s, name, overlay, std_path);
}

/* ---- one simple command ------------------------------------------------- */

static const char *base_name(const char *w)
{
    const char *slash = strrchr(w, '/');

    return slash ? slash + 1 : w;
}

/* --opt=value, --opt value, -o value, -ovalue: how many fields OPT takes at ARGV[I]. */
static bool long_opt(const char *f, const char *name)
{
    size_t n = strlen(name);

    return strncmp(f, name, n) == 0 && (f[n] == '\0' || f[n] == '=');
}

static void cd_to(struct scan *s, struct fields *f, size_t i, struct vars *overlay)
{
    const char *dir, *unknown;
    size_t n = s->n_cwds;

    if (i + 1 < f->n && strcmp(f->v[i + 1].text, "--") == 0)
        i++;
    if (i + 1 >= f->n) {
        dir = lookup(s, overlay, "HOME", 4, &unknown);
    } else {
        dir = f->v[i + 1].text;
        unknown = f->v[i + 1].unknown;
        if (strcmp(dir, "-") == 0 || dir[0] == '-')
            unknown = "cd -";
        else if (dir[0] != '/' && strncmp(dir, "./", 2) != 0 && strncmp(dir, "../", 3) != 0 &&
                 lookup(s, overlay, "CDPATH", 6, &unknown))
            unknown = "CDPATH";
    }
    if (unknown || !dir || n * 2 > MAX_CWDS) {
        s->cwd_unknown = "cd";
        return;
    }
    /* cd may fail or sit in a branch: the folders before it stay possible. */
    for (size_t k = 0; k < n; k++)
        s->cwds[s->n_cwds++] = dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", s->cwds[k], dir);
}

static void assign_words(struct scan *s, struct fields *f, size_t from)
{
    for (size_t i = from; i < f->n; i++) {
        const char *t = f->v[i].text, *eq = strchr(t, '=');

        if (eq && env_name_valid(t, (size_t)(eq - t))) {
            var_set(&s->vars, t, (size_t)(eq - t), eq + 1, f->v[i].unknown);
            if (eq - t == 3 && strncmp(t, "IFS", 3) == 0)
                s->ifs_set = true;
        }
    }
}

static bool skip_options(struct scan *s, struct fields *f, size_t *i, const char *prog);

/* The program of fields F from I on, each wrapper word and its options skipped. */
static void resolve(struct scan *s, struct fields *f, size_t i, struct vars *overlay)
{
    const char *dir = NULL; /* env -C */
    bool std_path = false, external = false;

    while (i < f->n && !s->problem) {
        const struct field *w = &f->v[i];
        const char *b;

        if (w->unknown) {
            if (s->c && s->c->trust_expansions)
                return;
            fail(s,
                 "the program %s is only known to the shell (it needs %s); name the program "
                 "by its literal path, or put the line in a script, or set trust_expansions = "
                 "true in a ccwrap.conf ccwrap trusts",
                 w->word, w->unknown);
            return;
        }
        /* After env, nohup …, which exec what follows, a word is a program, never a builtin. */
        if (!external) {
            if (strcmp(w->text, "exec") == 0 || strcmp(w->text, "command") == 0) {
                bool command = w->text[0] == 'c';

                for (i++; i < f->n && f->v[i].text[0] == '-' && !f->v[i].unknown; i++) {
                    const char *o = f->v[i].text;

                    if (strcmp(o, "--") == 0) {
                        i++;
                        break;
                    }
                    if (command && (strchr(o, 'v') || strchr(o, 'V')))
                        return; /* command -v prints; it runs nothing */
                    if (command && strchr(o, 'p'))
                        std_path = true;
                    if (!command && strchr(o, 'a'))
                        i++; /* exec -a NAME */
                }
                continue;
            }
            if (strcmp(w->text, "eval") == 0) {
                char *line = xstrdup("");

                for (size_t k = i + 1; k < f->n; k++) {
                    char *l = xasprintf("%s%s%s", line, *line ? " " : "", f->v[k].text);

                    if (f->v[k].unknown && !(s->c && s->c->trust_expansions))
                        fail(s,
                             "eval runs %s, which only the shell can expand; put the line in a "
                             "script",
                             f->v[k].word);
                    free(line);
                    line = l;
                }
                check_line(s, line, strlen(line));
                free(line);
                return;
            }
            if (strcmp(w->text, "trap") == 0) {
                if (i + 2 < f->n && f->v[i + 1].text[0] != '-')
                    check_line(s, f->v[i + 1].text, strlen(f->v[i + 1].text));
                return;
            }
            if (strcmp(w->text, ".") == 0 || strcmp(w->text, "source") == 0) {
                /* A script the shell reads: its text runs as root like a program. */
                if (i + 1 < f->n && !f->v[i + 1].unknown)
                    judge_program(s, f->v[i + 1].text, overlay, dir, false);
                if (i + 1 < f->n && !strchr(f->v[i + 1].text, '/'))
                    judge_path(s, f->v[i + 1].text, dir);
                return;
            }
            if (strcmp(w->text, "cd") == 0 || strcmp(w->text, "pushd") == 0) {
                cd_to(s, f, i, overlay);
                return;
            }
            if (strcmp(w->text, "export") == 0 || strcmp(w->text, "readonly") == 0 ||
                strcmp(w->text, "declare") == 0 || strcmp(w->text, "typeset") == 0 ||
                strcmp(w->text, "local") == 0) {
                assign_words(s, f, i + 1);
                return;
            }
            if (strcmp(w->text, "unset") == 0) {
                for (size_t k = i + 1; k < f->n; k++)
                    if (f->v[k].text[0] != '-')
                        var_set(&s->vars, f->v[k].text, strlen(f->v[k].text), NULL, NULL);
                return;
            }
            if (strcmp(w->text, "builtin") == 0 ||
                in_list(w->text, builtins, sizeof builtins / sizeof builtins[0]))
                return;
        }
        judge_program(s, w->text, overlay, dir, std_path);
        std_path = false;
        external = true;
        b = base_name(w->text);
        if (strcmp(b, "env") == 0) {
            for (i++; i < f->n && !s->problem; i++) {
                const char *o = f->v[i].text;

                if (strcmp(o, "-i") == 0 || strcmp(o, "-") == 0 ||
                    strcmp(o, "--ignore-environment") == 0) {
                    overlay->cleared = true;
                } else if (strcmp(o, "-u") == 0 && i + 1 < f->n) {
                    i++;
                    var_set(overlay, f->v[i].text, strlen(f->v[i].text), NULL, NULL);
                } else if (strncmp(o, "-u", 2) == 0 || long_opt(o, "--unset")) {
                    const char *n = o[1] == 'u' ? o + 2 : strchr(o, '=');

                    if (!n && i + 1 < f->n)
                        n = f->v[++i].text;
                    else if (n && *n == '=')
                        n++;
                    if (n)
                        var_set(overlay, n, strlen(n), NULL, NULL);
                } else if (strcmp(o, "-C") == 0 && i + 1 < f->n) {
                    dir = f->v[++i].text;
                } else if (strncmp(o, "-C", 2) == 0 && o[2]) {
                    dir = o + 2;
                } else if (long_opt(o, "--chdir")) {
                    dir = strchr(o, '=') ? strchr(o, '=') + 1 : i + 1 < f->n ? f->v[++i].text : "";
                } else if (strcmp(o, "-0") == 0 || strcmp(o, "-v") == 0 ||
                           strcmp(o, "--null") == 0 || strcmp(o, "--debug") == 0) {
                    continue;
                } else if (strcmp(o, "--") == 0) {
                    i++;
                    break;
                } else if (o[0] == '-') {
                    fail(s,
                         "env's option %s is not one ccwrap knows, so it cannot tell what env "
                         "runs; name the program without env, or put the line in a script",
                         o);
                } else {
                    break; /* NAME=value, then the program: no option after them */
                }
            }
            while (
                i < f->n && strchr(f->v[i].text, '=') && f->v[i].text[0] != '=' &&
                env_name_valid(f->v[i].text, (size_t)(strchr(f->v[i].text, '=') - f->v[i].text))) {
                var_set(overlay, f->v[i].text, (size_t)(strchr(f->v[i].text, '=') - f->v[i].text),
                        strchr(f->v[i].text, '=') + 1, f->v[i].unknown);
                i++;
            }
            continue;
        }
        if (strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 || strcmp(b, "dash") == 0) {
            /* sh -c LINE: LINE is a command line like the value itself. */
            bool line = false;

            for (i++; i < f->n && (f->v[i].text[0] == '-' || f->v[i].text[0] == '+'); i++) {
                line = line || (f->v[i].text[0] == '-' && strchr(f->v[i].text, 'c'));
                if (strcmp(f->v[i].text, "-o") == 0 || strcmp(f->v[i].text, "+o") == 0)
                    i++;
            }
            if (line && i < f->n && f->v[i].unknown && !(s->c && s->c->trust_expansions))
                fail(s, "%s -c runs %s, which only the shell can expand; put the line in a script",
                     b, f->v[i].word);
            else if (line && i < f->n)
                check_line(s, f->v[i].text, strlen(f->v[i].text));
            return;
        }
        if (strcmp(b, "nohup") == 0 || strcmp(b, "nice") == 0 || strcmp(b, "ionice") == 0 ||
            strcmp(b, "setsid") == 0 || strcmp(b, "stdbuf") == 0 || strcmp(b, "timeout") == 0) {
            i++;
            if (!skip_options(s, f, &i, b))
                return;
            continue;
        }
        return;
    }
}

/*
 * After a wrapper program PROG (nohup, nice, ionice, setsid, stdbuf, timeout): *I moved past its
 * options to the program it runs. False when it runs none (ionice -p) or after a problem.
 */
static bool skip_options(struct scan *s, struct fields *f, size_t *i, const char *prog)
{
    /* Short options that take a value, per wrapper; long ones are --name=value or --name value. */
    const char *with_value = strcmp(prog, "nice") == 0      ? "n"
                             : strcmp(prog, "ionice") == 0  ? "cn"
                             : strcmp(prog, "stdbuf") == 0  ? "ioe"
                             : strcmp(prog, "timeout") == 0 ? "ks"
                                                            : "";
    const char *flags = strcmp(prog, "setsid") == 0    ? "cfw"
                        : strcmp(prog, "ionice") == 0  ? "t"
                        : strcmp(prog, "timeout") == 0 ? "v"
                                                       : "";
    static const char *const long_values[] = {"--adjustment", "--class",  "--classdata",
                                              "--input",      "--output", "--error",
                                              "--kill-after", "--signal"};
    static const char *const long_flags[] = {
        "--ctty", "--fork", "--wait", "--ignore", "--preserve-status", "--foreground", "--verbose"};

    for (; *i < f->n; (*i)++) {
        const char *o = f->v[*i].text;

        if (f->v[*i].unknown || o[0] != '-' || !o[1])
            break;
        if (strcmp(o, "--") == 0) {
            (*i)++;
            break;
        }
        if (strcmp(prog, "nice") == 0 && o[1] >= '0' && o[1] <= '9')
            continue; /* nice -5 */
        if (strcmp(prog, "ionice") == 0 && strchr("pPu", o[1]) && !o[2])
            return false; /* ionice -p PID: changes a running process */
        if (o[1] == '-') {
            bool known = false;

            for (size_t k = 0; k < sizeof long_values / sizeof long_values[0]; k++)
                if (long_opt(o, long_values[k])) {
                    known = true;
                    if (!strchr(o, '='))
                        (*i)++;
                }
            for (size_t k = 0; k < sizeof long_flags / sizeof long_flags[0]; k++)
                known = known || strcmp(o, long_flags[k]) == 0;
            if (known)
                continue;
        } else if (strchr(with_value, o[1])) {
            if (!o[2])
                (*i)++;
            continue;
        } else if (strspn(o + 1, flags) == strlen(o + 1)) {
            continue;
        }
        fail(s,
             "%s's option %s is not one ccwrap knows, so it cannot tell what %s runs; name "
             "the program without %s, or put the line in a script",
             prog, o, prog, prog);
        return false;
    }
    /* timeout DURATION COMMAND */
    if (strcmp(prog, "timeout") == 0 && *i < f->n)
        (*i)++;
    return !s->problem;
}

static bool is_assignment_word(const char *w, size_t n)
{
    size_t k = 0;

    while (k < n && is_name_char(w[k], k == 0))
        k++;
    return k > 0 && k < n && w[k] == '=';
}

static void fields_free(struct fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].text);
        free(f->v[i].word);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}

/* WORDS of one simple command, redirections already taken out. */
static void simple_command(struct scan *s, const struct tok *words, size_t n)
{
    struct vars overlay = {0};
    struct fields f = {0};
    size_t i = 0;

    for (; i < n && is_assignment_word(words[i].s, words[i].len); i++) {
        const char *eq = memchr(words[i].s, '=', words[i].len);
        struct fields v = {0};
        size_t name_len = (size_t)(eq - words[i].s);
        char *text;

        /* The value is one field: no splitting, no glob. */
        expand(s, eq + 1, words[i].len - name_len - 1, &overlay, &v, true);
        text = v.n ? v.v[0].text : (char *)"";
        var_set(&overlay, words[i].s, name_len, text, v.n ? v.v[0].unknown : NULL);
        fields_free(&v);
    }
    for (size_t k = i; k < n; k++)
        expand(s, words[k].s, words[k].len, &overlay, &f, false);
    if (f.n == 0) {
        /* NAME=value alone: set for the rest of the line. */
        for (size_t k = 0; k < overlay.n; k++) {
            var_set(&s->vars, overlay.v[k].name, strlen(overlay.v[k].name), overlay.v[k].value,
                    overlay.v[k].unknown);
            if (strcmp(overlay.v[k].name, "IFS") == 0)
                s->ifs_set = true;
        }
    } else {
        resolve(s, &f, 0, &overlay);
    }
    fields_free(&f);
    vars_free(&overlay);
}

/* ---- the line ------------------------------------------------------------ */

static bool word_is(const struct tok *t, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tok_is(t, TK_WORD, list[i]))
            return true;
    return false;
}

/* <<WORD or <<-WORD (OP, after any descriptor number): the body follows the line. */
static void heredoc(struct scan *s, struct reader *r, const char *op, const struct tok *target)
{
    struct fields d = {0};
    struct heredoc *h;

    if (r->n_pending >= sizeof r->pending / sizeof r->pending[0]) {
        fail(s, "more than %zu here-documents on one line; put the line in a script",
             sizeof r->pending / sizeof r->pending[0]);
        return;
    }
    h = &r->pending[r->n_pending++];
    expand(s, target->s, target->len, NULL, &d, true);
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
    struct tok target = next_token(s, r);
    char *op = strndup(t->s, t->len), *o;

    if (!op)
        return;
    o = op + strspn(op, "0123456789");
    if (target.kind != TK_WORD)
        fail(s, "a redirection %s names no file; name one", o);
    else if (strcmp(o, "<<") == 0 || strcmp(o, "<<-") == 0)
        heredoc(s, r, o, &target);
    else
        expand(s, target.s, target.len, NULL, NULL, false);
    free(op);
}

/* After `for`, `select`, `case` or `[[`: words up to do, in or ]], of which only $(…) runs. */
static void skip_header(struct scan *s, struct reader *r, const char *until)
{
    struct tok t;

    do {
        t = next_token(s, r);
        if (t.kind == TK_WORD)
            expand(s, t.s, t.len, NULL, NULL, false);
    } while (t.kind != TK_END && t.kind != TK_BAD && !s->problem && !tok_is(&t, TK_WORD, until));
}

/* Every simple command of TEXT, in if, while, for, case, { }, ( ) and after && || ; | &. */
static void check_line(struct scan *s, const char *text, size_t len)
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
        fail(s, "commands are nested more than %d deep; put the line in a script", MAX_DEPTH);
        goto out;
    }
    while (!s->problem) {
        struct tok t = next_token(s, &r);

        if (t.kind == TK_BAD) {
            fail(s,
                 "a quote or a substitution is not closed, or they nest more than %d deep; "
                 "close it",
                 MAX_NEST);
            break;
        }
        /* Reserved words count only where a command begins. */
        if (t.kind == TK_WORD && n == 0) {
            if (word_is(&t, reserved, sizeof reserved / sizeof reserved[0]))
                continue;
            if (tok_is(&t, TK_WORD, "esac")) {
                cases -= cases > 0;
                continue;
            }
            if (cases > 0 && want_pattern[cases - 1]) {
                /* A case pattern, up to its ')'. */
                while (t.kind == TK_WORD || tok_is(&t, TK_OP, "|") || tok_is(&t, TK_OP, "\n"))
                    t = next_token(s, &r);
                want_pattern[cases - 1] = false;
                continue;
            }
            if (tok_is(&t, TK_WORD, "for") || tok_is(&t, TK_WORD, "select")) {
                skip_header(s, &r, "do");
                continue;
            }
            if (tok_is(&t, TK_WORD, "[[")) {
                skip_header(s, &r, "]]");
                continue;
            }
            if (tok_is(&t, TK_WORD, "case")) {
                skip_header(s, &r, "in");
                if (cases < 16)
                    want_pattern[cases++] = true;
                continue;
            }
            if (tok_is(&t, TK_WORD, "function")) {
                next_token(s, &r); /* its name; the body follows as commands */
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
        if (tok_is(&t, TK_OP, "(") && n > 0) {
            /* NAME() { …; }: a function's definition; its body is read as commands. */
            struct tok close = next_token(s, &r);

            if (!tok_is(&close, TK_OP, ")"))
                fail(s, "'(' after a word is not a function definition; quote it");
            n = 0;
            continue;
        }
        if (tok_is(&t, TK_OP, "(") && *r.p == '(') {
            /* ((…)): arithmetic, a command that runs nothing but its substitutions. */
            const char *end = skip_paren(r.p + 1);

            if (!end || *end != ')') {
                fail(s, "'((' is not closed by '))'; close it");
                break;
            }
            scan_substitutions(s, r.p + 1, (size_t)(end - r.p - 2));
            r.p = end + 1;
            continue;
        }
        if (n > 0)
            simple_command(s, words, n);
        n = 0;
        if (t.kind == TK_END)
            break;
        if ((tok_is(&t, TK_OP, ";;") || tok_is(&t, TK_OP, ";&") || tok_is(&t, TK_OP, ";;&")) &&
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
    check_line(&s, value, strlen(value));
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
