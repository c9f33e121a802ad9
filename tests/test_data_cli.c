/* The data commands of the `mache` program, run as a user would: mache data and mache mesh-info. */
#include "tests/harness.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char mache[512], dir[64];

/* Runs a command line, capturing stdout and stderr together; returns the exit status. */
static int run(char *out, size_t n, const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    FILE *p = popen(cmd, "r");
    size_t len = fread(out, 1, n - 1, p);
    out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
    (void)argc;
    /* The program sits beside this test in the build directory. */
    snprintf(mache, sizeof mache, "%s", argv[0]);
    char *slash = strrchr(mache, '/');
    snprintf(slash ? slash + 1 : mache, sizeof mache - (size_t)(slash ? slash + 1 - mache : 0), "mache");
    snprintf(dir, sizeof dir, "/tmp/mache_cli.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char out[8192], path[256];

    CHECK(run(out, sizeof out, "%s data --category plane --count 3 --seed 4 --out %s/new/planes 2>&1", mache, dir) == 0
          && strstr(out, "wrote 3 meshes"), "mache data: %s", out);
    snprintf(path, sizeof path, "%s/new/planes/plane_0000.obj %s/new/planes/plane_0002.obj", dir, dir);
    CHECK(run(out, sizeof out, "%s mesh-info %s 2>&1", mache, path) == 0, "mesh-info: %s", out);
    CHECK(strstr(out, "plane_0000.obj: obj, ") && strstr(out, " triangles, area ") && strstr(out, "bbox ["), "mesh-info line: %s", out);
    char *second = strchr(out, '\n');
    CHECK(second && strstr(second, "plane_0002.obj"), "one line per file");

    snprintf(path, sizeof path, "%s/missing.ply %s/new/planes/plane_0001.obj", dir, dir);
    CHECK(run(out, sizeof out, "%s mesh-info %s 2>&1", mache, path) == 1, "mesh-info exits 1 for an unreadable file");
    CHECK(strstr(out, "missing.ply: cannot open") && strstr(out, "plane_0001.obj: obj,"), "still prints the others: %s", out);

    CHECK(run(out, sizeof out, "%s data --category boat --count 2 --out %s 2>&1", mache, dir) == 1
          && strstr(out, "unknown category 'boat'"), "unknown category: %s", out);
    CHECK(run(out, sizeof out, "%s data --category plane --out %s 2>&1", mache, dir) == 1 && strstr(out, "--count"), "missing count: %s", out);
    CHECK(run(out, sizeof out, "%s data --count x --category plane --out %s 2>&1", mache, dir) == 1 && strstr(out, "whole number"), "bad count: %s", out);
    CHECK(run(out, sizeof out, "%s data --help%s", mache, "") == 0 && strstr(out, "--category"), "data --help: %s", out);
    CHECK(run(out, sizeof out, "%s mesh-info --help%s", mache, "") == 0 && strstr(out, "FILE"), "mesh-info --help: %s", out);
    CHECK(run(out, sizeof out, "%s mesh-info 2>&1%s", mache, "") == 1, "mesh-info with no files");
    CHECK(run(out, sizeof out, "%s data --category all --count 1 --out %s/all 2>&1", mache, dir) == 0
          && strstr(out, "wrote 7 meshes"), "all categories: %s", out);

    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    if (system(path) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("test_data_cli");
}
