/*
 * valueword.c — a word of a command line expanded as the shell will expand it: the variables it
 * sees (the line's own assignments, a command's, the spawn's, ccwrap's environment), ~, quotes
 * removed, $NAME and ${NAME} put in and split; what only the shell can know ($(…), ${X:-…}, a
 * glob, IFS) marked on the field, and what runs inside a substitution handed to value.c.
 */
#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "value_int.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NOLINTBEGIN(misc-no-recursion): a substitution's line is read like the value (MAX_DEPTH). */

static struct var *var_find(struct vars *vs, const char *name, size_t len)
{
    for (size_t i = vs->n; i-- > 0;)
        if (strlen(vs->v[i].name) == len && memcmp(vs->v[i].name, name, len) == 0)
            return &vs->v[i];
    return NULL;
}

void vars_set(struct vars *vs, const char *name, size_t len, const char *value, const char *unknown)
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

void vars_free(struct vars *vs)
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
const char *vars_lookup(const struct scan *s, struct vars *overlay, const char *name, size_t len,
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

bool word_name_char(char ch, bool first)
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
    /* !e->buf follows from cap 0; said for clang-tidy's analyzer, which loses that. */
    if (!e->buf || e->len + n + 1 > e->cap) {
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
    scan_line(s, text, strlen(text));
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
        q = lex_skip_paren(p + 2);
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
        while (q + n < end && word_name_char(q[n], n == 0))
            n++;
        if (n > 0 && q + n < end && q[n] == '}') {
            val = vars_lookup(s, overlay, q, n, &unknown);
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
    if (p + 1 < end && word_name_char(p[1], true)) {
        size_t n = 1;

        while (p + 1 + n < end && word_name_char(p[1 + n], false))
            n++;
        val = vars_lookup(s, overlay, p + 1, n, &unknown);
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
void word_expand(struct scan *s, const char *w, size_t n, struct vars *overlay, struct fields *out,
                 bool assign)
{
    struct expansion e = {.out = out, .word = w, .word_len = n, .assign = assign};
    const char *p = w, *end = w + n;

    if (n > 0 && *w == '~') {
        size_t u = 1;
        const char *home = NULL, *unknown;

        while (u < n && w[u] != '/' && !strchr("'\"\\$`", w[u]))
            u++;
        if (u == 1) {
            home = vars_lookup(s, overlay, "HOME", 4, &unknown);
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
                    q = lex_skip_backquote(p + 1);
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
            q = lex_skip_backquote(p + 1);
            q = q && q <= end ? q : end;
            substitution(s, &e, p + 1, (size_t)(q - 1 - (p + 1)), true);
            p = q;
            break;
        case '<':
        case '>':
            /* <(…): what runs inside is judged; the word is a file name only the shell knows. */
            q = lex_skip_paren(p + 2);
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
void scan_substitutions(struct scan *s, const char *w, size_t len)
{
    for (const char *p = w; p < w + len && !s->problem; p++) {
        const char *q;

        if (*p == '\\') {
            p++;
        } else if (*p == '`' || (*p == '$' && p + 1 < w + len && p[1] == '(')) {
            struct expansion e = {0};
            bool back = *p == '`';
            const char *in = p + (back ? 1 : 2);

            q = back ? lex_skip_backquote(in) : lex_skip_paren(in);
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

void fields_free(struct fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].text);
        free(f->v[i].word);
    }
    free(f->v);
    memset(f, 0, sizeof *f);
}

/* NOLINTEND(misc-no-recursion) */
