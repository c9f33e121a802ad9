#include "datasets/dataset.h"
#include "procedural/shapes.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { MAX_DEPTH = 16 };

typedef struct { char **v; int n, cap; } strlist;

static void push(strlist *l, char *s)
{
    if (l->n == l->cap) l->v = mc_realloc(l->v, (size_t)(l->cap = l->cap ? 2 * l->cap : 64) * sizeof *l->v);
    l->v[l->n++] = s;
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(mc_malloc(n), s, n);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = mc_malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Every mesh file under dir; hidden entries are skipped, and symlink loops stop at MAX_DEPTH. */
static void scan(const char *dir, int depth, strlist *out)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *path = join(dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && depth < MAX_DEPTH) scan(path, depth + 1, out);
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && mc_mesh_format(path)) { push(out, path); continue; }
        free(path);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* AtlasNet's split: the first 80% of a sorted class is for training (all of it if too small to split). */
static int train_count(int n) { return n * 4 / 5 > 0 ? n * 4 / 5 : n; }

enum { ALL, TRAIN, TEST };

/* The split a file belongs to by a folder named train or test on its way (ModelNet), or ALL if none. */
static int folder_split(const char *rel)
{
    for (const char *p = rel, *slash; (slash = strchr(p, '/')); p = slash + 1) {
        size_t n = (size_t)(slash - p);
        if (n == 5 && !strncasecmp(p, "train", 5)) return TRAIN;
        if (n == 4 && !strncasecmp(p, "test", 4)) return TEST;
    }
    return ALL;
}

static size_t class_len(const char *rel)   /* the first folder of a relative path ("" at the top) */
{
    const char *slash = strchr(rel, '/');
    return slash ? (size_t)(slash - rel) : 0;
}

/* The files of a directory that belong to the split, sorted. */
static int list_dir(const char *root, int split, strlist *out, int *nfound, char *err)
{
    strlist all = { 0 };
    scan(root, 0, &all);
    if (all.n) qsort(all.v, (size_t)all.n, sizeof *all.v, cmp_str);
    *nfound = all.n;
    size_t skip = strlen(root) + 1;
    char *done = mc_calloc((size_t)all.n + 1, 1);
    for (int i = 0; i < all.n; i++) {
        if (done[i]) continue;
        const char *rel = all.v[i] + skip;
        int tag = folder_split(rel);
        if (tag != ALL) {
            if (split == ALL || split == tag) push(out, dup(all.v[i]));
            done[i] = 1;
            continue;
        }
        /* The rest of this file's class, in sorted order, split 80/20. */
        size_t cl = class_len(rel);
        int n = 0, k = 0;
        for (int j = i; j < all.n; j++) {
            const char *r = all.v[j] + skip;
            n += !done[j] && folder_split(r) == ALL && class_len(r) == cl && !strncmp(r, rel, cl);
        }
        int ntrain = train_count(n);
        for (int j = i; j < all.n; j++) {
            const char *r = all.v[j] + skip;
            if (done[j] || folder_split(r) != ALL || class_len(r) != cl || strncmp(r, rel, cl)) continue;
            int tag2 = k++ < ntrain ? TRAIN : TEST;
            if (split == ALL || split == tag2) push(out, dup(all.v[j]));
            done[j] = 1;
        }
    }
    for (int i = 0; i < all.n; i++) free(all.v[i]);
    free(all.v);
    free(done);
    if (out->n) qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
    if (all.n == 0) {
        mc_set_err(err, "%s: no mesh files (.obj .off .ply .stl) found in this directory or below", root);
        return 1;
    }
    return 0;
}

/* "procedural:CATEGORY:COUNT[:SEED]" into names "procedural:CATEGORY:INDEX" of the split. */
static int list_procedural(const char *src, int split, strlist *out, uint64_t *seed, char *err)
{
    char cat[64];
    const char *p = src + strlen("procedural:"), *colon = strchr(p, ':');
    char *end;
    if (!colon || colon == p || (size_t)(colon - p) >= sizeof cat) goto bad;
    snprintf(cat, sizeof cat, "%.*s", (int)(colon - p), p);
    long count = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || count <= 0 || count > 10000000) goto bad;
    *seed = 0;
    if (*end == ':') {
        const char *s = end + 1;
        *seed = strtoull(s, &end, 10);
        if (end == s || *s == '-') goto bad;
    }
    if (*end) goto bad;
    int all = !strcmp(cat, "all"), found = 0;
    for (int c = 0; c < MC_PROCEDURAL_NCATEGORIES; c++) {
        const char *name = mc_procedural_categories[c];
        if (!all && strcmp(cat, name)) continue;
        found = 1;
        int ntrain = train_count((int)count);
        for (int i = 0; i < count; i++) {
            if (split != ALL && (i < ntrain) != (split == TRAIN)) continue;
            char buf[96];
            snprintf(buf, sizeof buf, "procedural:%s:%d", name, i);
            push(out, dup(buf));
        }
    }
    if (found) return 0;
    mc_set_err(err, "%s: unknown procedural category '%s' (try all, plane, sword, chair, table, lamp, mug or car)",
               src, cat);
    return 1;
bad:
    mc_set_err(err, "%s: expected procedural:CATEGORY:COUNT[:SEED], e.g. procedural:plane:500 or procedural:all:100:7",
               src);
    return 1;
}

static int load_shape(const char *name, uint64_t shape_seed, mc_mesh *m, char *err)
{
    if (strncmp(name, "procedural:", 11)) return mc_mesh_load(name, m, err);
    char cat[64];
    int index;
    const char *p = name + 11, *colon = strrchr(p, ':');
    snprintf(cat, sizeof cat, "%.*s", (int)(colon - p), p);
    index = atoi(colon + 1);
    return mc_procedural(cat, index, shape_seed, m, err);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

int mc_dataset_open(mc_dataset *ds, const char *src, const char *split_name, int cache_points, uint64_t seed, char *err)
{
    memset(ds, 0, sizeof *ds);
    int split = !strcmp(split_name, "train") ? TRAIN : !strcmp(split_name, "test") ? TEST
              : !strcmp(split_name, "all") ? ALL : -1;
    if (split < 0) { mc_set_err(err, "unknown split '%s' (expected train, test or all)", split_name); return 1; }
    if (cache_points <= 0) { mc_set_err(err, "cache_points must be positive (got %d)", cache_points); return 1; }

    strlist names = { 0 };
    int nfound = 0;
    struct stat st;
    if (!strncmp(src, "procedural:", 11)) {
        if (list_procedural(src, split, &names, &ds->shape_seed, err)) return 1;
        nfound = names.n;
    } else if (stat(src, &st) != 0) {
        mc_set_err(err, "%s: no such directory or file (a data source is a directory of meshes, a mesh file, "
                   "or procedural:CATEGORY:COUNT)", src);
        return 1;
    } else if (S_ISDIR(st.st_mode)) {
        char *root = dup(src);
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/') root[--n] = 0;
        int r = list_dir(root, split, &names, &nfound, err);
        free(root);
        if (r) return 1;
    } else {
        push(&names, dup(src));   /* one mesh file: the whole dataset, whatever the split */
        nfound = 1;
    }
    if (names.n == 0) {
        mc_set_err(err, "%s: the '%s' split is empty (%d shapes in all; each class gives 80%% to train, 20%% to test)",
                   src, split_name, nfound);
        free(names.v);
        return 1;
    }

    /* Read and sample every shape once, in parallel; each has its own random stream. */
    int n = names.n;
    float *points = mc_malloc((size_t)n * cache_points * 3 * sizeof(float));
    mc_xform *xform = mc_malloc((size_t)n * sizeof *xform);
    char **errors = mc_calloc((size_t)n, sizeof *errors);
    #pragma omp parallel for schedule(dynamic)
    for (int i = 0; i < n; i++) {
        char e[MC_ERRLEN], msg[2 * MC_ERRLEN];
        mc_mesh m;
        mc_rng rng;
        float *p = points + (size_t)i * cache_points * 3;
        mc_rng_seed(&rng, seed ^ hash_str(names.v[i]));
        if (load_shape(names.v[i], ds->shape_seed, &m, e)) {
            errors[i] = dup(e);
        } else if (mc_mesh_sample(&m, cache_points, &rng, p, e)) {
            snprintf(msg, sizeof msg, "%s: %s", names.v[i], e);
            errors[i] = dup(msg);
        } else {
            xform[i] = mc_unit_ball(p, cache_points);
            mc_xform_points(&xform[i], p, cache_points);
        }
        mc_mesh_free(&m);
    }

    /* Keep the shapes that loaded, in order; report the others. */
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (errors[i]) {
            fprintf(stderr, "warning: skipping %s\n", errors[i]);
            if (ds->nskipped++ == 0) mc_set_err(err, "%s", errors[i]);
            free(names.v[i]);
            free(errors[i]);
            continue;
        }
        if (kept != i) {
            memmove(points + (size_t)kept * cache_points * 3, points + (size_t)i * cache_points * 3,
                    (size_t)cache_points * 3 * sizeof(float));
            xform[kept] = xform[i];
        }
        names.v[kept++] = names.v[i];
    }
    free(errors);
    if (kept == 0) {
        char first[MC_ERRLEN];
        snprintf(first, sizeof first, "%s", err ? err : "");
        mc_set_err(err, "%s: none of the %d shapes could be read (first: %.300s)", src, n, first);
        free(points);
        free(xform);
        free(names.v);
        ds->nskipped = 0;
        return 1;
    }
    ds->nshapes = kept;
    ds->cache_points = cache_points;
    ds->points = mc_realloc(points, (size_t)kept * cache_points * 3 * sizeof(float));
    ds->names = mc_realloc(names.v, (size_t)kept * sizeof *names.v);
    ds->xform = mc_realloc(xform, (size_t)kept * sizeof *xform);
    return 0;
}

void mc_dataset_batch(const mc_dataset *ds, const int *idx, int n, int npoints, mc_rng *rng, float *out)
{
    int *pick = mc_malloc((size_t)npoints * sizeof(int));
    for (int b = 0; b < n; b++) {
        if (idx[b] < 0 || idx[b] >= ds->nshapes)
            mc_fatal("mc_dataset_batch: shape %d out of range (the dataset has %d)", idx[b], ds->nshapes);
        const float *src = ds->points + (size_t)idx[b] * ds->cache_points * 3;
        float *dst = out + (size_t)b * npoints * 3;
        mc_sample_indices(rng, npoints, ds->cache_points, pick);
        for (int i = 0; i < npoints; i++) memcpy(dst + 3 * (size_t)i, src + 3 * (size_t)pick[i], 3 * sizeof(float));
    }
    free(pick);
}

int mc_dataset_mesh(const mc_dataset *ds, int i, mc_mesh *out, char *err)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= ds->nshapes) {
        mc_set_err(err, "shape %d out of range (the dataset has %d)", i, ds->nshapes);
        return 1;
    }
    if (load_shape(ds->names[i], ds->shape_seed, out, err)) return 1;
    mc_xform_mesh(&ds->xform[i], out);
    return 0;
}

void mc_dataset_free(mc_dataset *ds)
{
    for (int i = 0; i < ds->nshapes; i++) free(ds->names[i]);
    free(ds->names);
    free(ds->points);
    free(ds->xform);
    memset(ds, 0, sizeof *ds);
}
