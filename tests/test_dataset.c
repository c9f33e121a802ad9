/* Datasets: directory trees (classes, ModelNet train/test folders, broken and hidden files), procedural
 * sources, the 80/20 split, normalised caches, batches, and meshes that follow their points. */
#include "tests/harness.h"
#include "datasets/dataset.h"
#include "procedural/shapes.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64], err[MC_ERRLEN];

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {   /* mkdir -p */
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void put_mesh(const char *rel, const char *category, int index)
{
    char path[256];
    mc_mesh m;
    put(rel, "");   /* makes the folders */
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    CHECK(mc_procedural(category, index, 0, &m, err) == 0 && mc_mesh_save(path, &m, err) == 0, "%s: %s", rel, err);
    mc_mesh_free(&m);
}

static const char *base(const char *path) { return strrchr(path, '/') ? strrchr(path, '/') + 1 : path; }

static int has(const mc_dataset *ds, const char *file)
{
    for (int i = 0; i < ds->nshapes; i++)
        if (!strcmp(base(ds->names[i]), file)) return 1;
    return 0;
}

static void check_normalised(const mc_dataset *ds)
{
    for (int i = 0; i < ds->nshapes; i++) {
        const float *p = ds->points + (size_t)i * ds->cache_points * 3;
        double c[3] = { 0, 0, 0 }, rmax = 0;
        for (int j = 0; j < ds->cache_points; j++) {
            double r = 0;
            for (int k = 0; k < 3; k++) c[k] += p[3 * j + k] / ds->cache_points, r += p[3 * j + k] * p[3 * j + k];
            rmax = fmax(rmax, r);
        }
        CHECK(fabs(c[0]) + fabs(c[1]) + fabs(c[2]) < 1e-4 && fabs(sqrt(rmax) - 1) < 1e-5,
              "%s: centroid (%g %g %g), radius %g", ds->names[i], c[0], c[1], c[2], sqrt(rmax));
    }
}

static void test_directory(void)
{
    put_mesh("chair/a.obj", "chair", 0);
    put_mesh("chair/b.ply", "chair", 1);
    put_mesh("chair/c.OBJ", "chair", 2);
    put_mesh("chair/sub/d.obj", "chair", 3);
    put_mesh("chair/e.obj", "chair", 4);
    put_mesh("plane/x/models/model_normalized.obj", "plane", 0);
    put("broken.obj", "v 0 0 0\nv 1 0 0\nf 1 2 3\n");
    put(".hidden/h.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
    put("notes.txt", "not a mesh\n");
    put("cloud.off", "OFF\n4 0 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n");

    mc_dataset ds;
    CHECK(mc_dataset_open(&ds, dir, "train", 2000, 7, err) == 0, "train: %s", err);
    /* chair: a b c e sub/d sorted -> a.obj b.ply c.OBJ e.obj sub/d.obj; first 4 train. Top level: broken.obj,
     * cloud.off -> 2 files, 1 train (broken.obj, which fails). plane: 1 file, train. */
    CHECK(ds.nshapes == 5, "train has %d shapes, expected 5", ds.nshapes);
    CHECK(has(&ds, "a.obj") && has(&ds, "b.ply") && has(&ds, "c.OBJ") && has(&ds, "e.obj") && has(&ds, "model_normalized.obj"),
          "train split members");
    CHECK(ds.nskipped == 1 && !has(&ds, "h.obj"), "broken skipped (%d), hidden ignored", ds.nskipped);
    for (int i = 1; i < ds.nshapes; i++) CHECK(strcmp(ds.names[i - 1], ds.names[i]) < 0, "names sorted");
    check_normalised(&ds);

    /* Batches: a subset without repeats, drawn from the cache. */
    enum { NP = 200 };
    int idx[3] = { 0, 2, 4 };
    float *out = malloc(3 * 2500 * 3 * sizeof(float));
    mc_rng rng;
    mc_rng_seed(&rng, 9);
    mc_dataset_batch(&ds, idx, 3, NP, &rng, out);
    int missing = 0;
    for (int b = 0; b < 3; b++) {
        const float *cache = ds.points + (size_t)idx[b] * ds.cache_points * 3;
        char *used = calloc((size_t)ds.cache_points, 1);
        for (int i = 0; i < NP; i++) {
            int found = -1;
            for (int j = 0; j < ds.cache_points && found < 0; j++)
                if (!memcmp(cache + 3 * j, out + ((size_t)b * NP + i) * 3, 12) && !used[j]) found = j;
            if (found < 0) missing++; else used[found] = 1;
        }
        free(used);
    }
    CHECK(missing == 0, "%d batch points are not distinct points of their shape's cache", missing);
    mc_dataset_batch(&ds, idx, 1, 2500, &rng, out);   /* more than the cache: every cached point appears */
    int absent = 0;
    for (int j = 0; j < ds.cache_points; j++) {
        int found = 0;
        for (int i = 0; i < 2500 && !found; i++) found = !memcmp(ds.points + 3 * j, out + 3 * i, 12);
        absent += !found;
    }
    CHECK(absent == 0, "%d cached points missing from an oversized batch", absent);
    free(out);

    /* The mesh follows its points: resampled, it has about the same centroid (the cache's own centroid is
     * off by about 0.01 per axis with 2000 points) and lies in the unit ball. */
    for (int i = 0; i < ds.nshapes; i++) {
        mc_mesh m;
        CHECK(mc_dataset_mesh(&ds, i, &m, err) == 0, "mesh %d: %s", i, err);
        float *p = malloc(4000 * 3 * sizeof(float));
        mc_mesh_sample(&m, 4000, &rng, p, err);
        double c[3] = { 0, 0, 0 }, rmax = 0;
        for (int j = 0; j < 4000; j++) {
            double r = 0;
            for (int k = 0; k < 3; k++) c[k] += p[3 * j + k] / 4000, r += p[3 * j + k] * p[3 * j + k];
            rmax = fmax(rmax, sqrt(r));
        }
        CHECK(sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]) < 0.06 && rmax < 1.1 && rmax > 0.9,
              "%s: normalised mesh centroid off by %g, radius %g", ds.names[i], sqrt(c[0] * c[0] + c[1] * c[1] + c[2] * c[2]), rmax);
        free(p);
        mc_mesh_free(&m);
    }
    CHECK(mc_dataset_mesh(&ds, 99, (mc_mesh[1]){ 0 }, err) != 0 && strstr(err, "out of range"), "mesh index: %s", err);

    /* Same seed, same caches; and a shape's cache does not depend on the split it was opened with. */
    mc_dataset all;
    CHECK(mc_dataset_open(&all, dir, "all", 2000, 7, err) == 0 && all.nshapes == 7, "all: %d shapes (%s)", all.nshapes, err);
    int same = 0;
    for (int i = 0; i < all.nshapes; i++)
        if (!strcmp(all.names[i], ds.names[0]))
            same = !memcmp(all.points + (size_t)i * 6000, ds.points, 6000 * sizeof(float));
    CHECK(same, "a shape's cache depends only on the seed and its name");
    mc_dataset_free(&all);
    mc_dataset_free(&ds);

    CHECK(mc_dataset_open(&ds, dir, "test", 100, 7, err) == 0, "test: %s", err);
    CHECK(ds.nshapes == 2 && has(&ds, "d.obj") && has(&ds, "cloud.off"), "test split: %d shapes", ds.nshapes);
    mc_dataset_free(&ds);
}

static void test_modelnet(void)
{
    put_mesh("mn/bed/train/bed_0001.off.obj", "table", 0);   /* any mesh extension works below train/ */
    put("mn/bed/train/bed_0002.off", "OFF\n4 4 6\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n");
    put("mn/bed/test/bed_0003.off", "OFF4 4 6\n0 0 0\n2 0 0\n0 2 0\n0 0 2\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n");
    char root[128];
    snprintf(root, sizeof root, "%s/mn/", dir);
    mc_dataset ds;
    CHECK(mc_dataset_open(&ds, root, "train", 64, 1, err) == 0 && ds.nshapes == 2, "modelnet train: %s", err);
    CHECK(has(&ds, "bed_0001.off.obj") && has(&ds, "bed_0002.off"), "modelnet train members");
    mc_dataset_free(&ds);
    CHECK(mc_dataset_open(&ds, root, "test", 64, 1, err) == 0 && ds.nshapes == 1 && has(&ds, "bed_0003.off"), "modelnet test: %s", err);
    mc_dataset_free(&ds);
}

static void test_procedural_source(void)
{
    mc_dataset ds, again;
    CHECK(mc_dataset_open(&ds, "procedural:mug:5:3", "train", 300, 1, err) == 0 && ds.nshapes == 4, "mug train: %s", err);
    CHECK(ds.nshapes == 4 && !strcmp(ds.names[3], "procedural:mug:3") && ds.shape_seed == 3, "names %s", ds.names[0]);
    check_normalised(&ds);
    mc_mesh m, direct;
    CHECK(mc_dataset_mesh(&ds, 2, &m, err) == 0, "procedural mesh: %s", err);
    mc_procedural("mug", 2, 3, &direct, err);
    CHECK(m.nverts == direct.nverts && m.nfaces == direct.nfaces, "the dataset's mesh is procedural:mug:2 of seed 3");
    mc_mesh_free(&m);
    mc_mesh_free(&direct);
    CHECK(mc_dataset_open(&again, "procedural:mug:5:3", "train", 300, 1, err) == 0
          && !memcmp(ds.points, again.points, (size_t)4 * 300 * 3 * sizeof(float)), "deterministic caches");
    mc_dataset_free(&again);
    CHECK(mc_dataset_open(&again, "procedural:mug:5:3", "train", 300, 2, err) == 0
          && memcmp(ds.points, again.points, (size_t)4 * 300 * 3 * sizeof(float)), "another seed, other samples");
    mc_dataset_free(&again);
    mc_dataset_free(&ds);
    CHECK(mc_dataset_open(&ds, "procedural:mug:5:3", "test", 300, 1, err) == 0 && ds.nshapes == 1
          && !strcmp(ds.names[0], "procedural:mug:4"), "mug test");
    mc_dataset_free(&ds);
    CHECK(mc_dataset_open(&ds, "procedural:all:2", "all", 100, 1, err) == 0 && ds.nshapes == 2 * MC_PROCEDURAL_NCATEGORIES,
          "all categories: %d (%s)", ds.nshapes, err);
    mc_dataset_free(&ds);
}

static void expect_open_err(const char *src, const char *split, const char *want)
{
    mc_dataset ds;
    err[0] = 0;
    int r = mc_dataset_open(&ds, src, split, 10, 0, err);
    CHECK(r != 0 && strstr(err, want), "open %s %s: wanted '%s', got '%s'", src, split, want, err);
    CHECK(ds.nshapes == 0 && !ds.points && !ds.names, "dataset left empty");
}

static void test_errors(void)
{
    char path[128];
    expect_open_err("procedural:plane:10", "validation", "unknown split 'validation'");
    expect_open_err("procedural:boat:10", "train", "unknown procedural category 'boat'");
    expect_open_err("procedural:plane", "train", "expected procedural:CATEGORY:COUNT");
    expect_open_err("procedural:plane:0", "train", "expected procedural:CATEGORY:COUNT");
    expect_open_err("procedural:plane:5:x", "train", "expected procedural:CATEGORY:COUNT");
    expect_open_err("/no/such/place", "train", "/no/such/place: no such directory");
    snprintf(path, sizeof path, "%s/empty", dir);
    mkdir(path, 0755);
    expect_open_err(path, "train", "no mesh files");
    put("bad/one.obj", "garbage\n");
    put("bad/two.stl", "");
    snprintf(path, sizeof path, "%s/bad", dir);
    fprintf(stderr, "(two warnings about broken files are expected here)\n");
    expect_open_err(path, "all", "none of the 2 shapes could be read");
    mc_dataset ds;
    CHECK(mc_dataset_open(&ds, "procedural:plane:3", "train", 0, 0, err) != 0 && strstr(err, "cache_points"), "cache 0");
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/mache_dataset.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_directory();
    test_modelnet();
    test_procedural_source();
    test_errors();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("test_dataset");
}
