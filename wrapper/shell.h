/*
 * shell.h — command lines for the hook shell (§7); defined in shell.c.
 */
#ifndef CCWRAP_SHELL_H
#define CCWRAP_SHELL_H

/*
 * CMD with the shell told to replace itself with the program ("exec node server.js",
 * "PORT=1 exec node app.js") when CMD is one simple command; NULL when it is shell syntax
 * (a list, a pipeline, a redirection, a substitution, a builtin). Allocated.
 */
char *shell_exec_form(const char *cmd);

#endif
