#include "examples/mache/args.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_help(const char *cmd, const mc_opt *opts, const char *usage)
{
    printf("usage: mache %s %s\n\noptions:\n", cmd, usage);
    for (const mc_opt *o = opts; o && o->name; o++) {
        const char *arg = o->type == OPT_INT ? " N" : o->type == OPT_FLOAT ? " X" : o->type == OPT_STR ? " S" : "";
        char left[64];
        snprintf(left, sizeof left, "--%s%s", o->name, arg);
        printf("  %-22s %s\n", left, o->help);
    }
    printf("  %-22s %s\n", "--help", "print this help");
}

static int set_value(const char *cmd, const mc_opt *o, const char *v)
{
    char *end;
    errno = 0;
    switch (o->type) {
    case OPT_STR: *(const char **)o->dst = v; return 0;
    case OPT_INT: {
        long x = strtol(v, &end, 10);
        if (errno || *end || end == v || x < -2147483647L || x > 2147483647L) break;
        *(int *)o->dst = (int)x;
        return 0;
    }
    case OPT_FLOAT: {
        float x = strtof(v, &end);
        if (errno || *end || end == v) break;
        *(float *)o->dst = x;
        return 0;
    }
    case OPT_FLAG: return 0;
    }
    fprintf(stderr, "mache %s: --%s expects %s, got '%s'\n", cmd, o->name,
            o->type == OPT_INT ? "a whole number" : "a number", v);
    return 1;
}

int mc_parse_args(int argc, char **argv, const mc_opt *opts, const char *usage,
                  const char **pos, int maxpos, int *npos)
{
    const char *cmd = argv[0];
    *npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { print_help(cmd, opts, usage); return 2; }
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (*npos >= maxpos) {
                fprintf(stderr, "mache %s: unexpected argument '%s' (see mache %s --help)\n", cmd, a, cmd);
                return 1;
            }
            pos[(*npos)++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const mc_opt *o = opts;
        while (o && o->name && !(strlen(o->name) == len && !strncmp(o->name, name, len))) o++;
        if (!o || !o->name) {
            fprintf(stderr, "mache %s: unknown option '--%.*s' (see mache %s --help)\n", cmd, (int)len, name, cmd);
            return 1;
        }
        if (o->type == OPT_FLAG) {
            if (eq) { fprintf(stderr, "mache %s: --%s takes no value\n", cmd, o->name); return 1; }
            *(int *)o->dst = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) { fprintf(stderr, "mache %s: --%s needs a value\n", cmd, o->name); return 1; }
        if (set_value(cmd, o, v)) return 1;
    }
    return 0;
}
