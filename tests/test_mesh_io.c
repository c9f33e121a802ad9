/* Mesh readers and writers: round trips, every format quirk we promise to handle, and the one-line
 * messages for broken files (each checked for its line number or location). */
#include "tests/harness.h"
#include "mesh/mesh.h"
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char err[MC_ERRLEN];

static const char *put(const char *name, const void *data, size_t len)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}
static const char *puts_(const char *name, const char *text) { return put(name, text, strlen(text)); }

/* Loads text written to a file of that name; expects success with these counts. */
static void expect_ok(const char *name, const char *text, int nverts, int nfaces)
{
    mc_mesh m;
    int r = mc_mesh_load(puts_(name, text), &m, err);
    CHECK(r == 0, "%s: should load, got: %s", name, err);
    CHECK(r || (m.nverts == nverts && m.nfaces == nfaces), "%s: %d verts %d faces, expected %d %d",
          name, m.nverts, m.nfaces, nverts, nfaces);
    for (int i = 0; !r && i < 3 * m.nfaces; i++)
        if (m.faces[i] < 0 || m.faces[i] >= m.nverts) { CHECK(0, "%s: face index out of range", name); break; }
    mc_mesh_free(&m);
}

/* Expects failure with a message containing want, an empty mesh, and a message that is one line. */
static void expect_err_bytes(const char *name, const void *data, size_t len, const char *want)
{
    mc_mesh m;
    err[0] = 0;
    int r = mc_mesh_load(put(name, data, len), &m, err);
    CHECK(r != 0, "%s: should fail (wanted '%s')", name, want);
    CHECK(r == 0 || strstr(err, want), "%s: message '%s' lacks '%s'", name, err, want);
    CHECK(!strchr(err, '\n'), "%s: message has a newline", name);
    CHECK(m.nverts == 0 && m.nfaces == 0 && !m.verts && !m.faces, "%s: mesh not left empty", name);
    mc_mesh_free(&m);
}
static void expect_err(const char *name, const char *text, const char *want)
{
    expect_err_bytes(name, text, strlen(text), want);
}

static const float cube_v[24] = { 0,0,0, 1,0,0, 1,1,0, 0,1,0, 0,0,1, 1,0,1, 1,1,1, 0,1,1 };
static const int cube_f[36] = { 0,2,1, 0,3,2, 4,5,6, 4,6,7, 0,1,5, 0,5,4, 1,2,6, 1,6,5, 2,3,7, 2,7,6, 3,0,4, 3,4,7 };

static void test_round_trip(void)
{
    mc_mesh cube = { (float *)cube_v, (int *)cube_f, 8, 12 };
    /* Values that must survive printing: the largest floats, a denormal, -0 (a fuzzer found the first). */
    float odd[12] = { 0.1f, -1e-7f, 3.4e38f, 1.0f / 3, -0.0f, 12345.678f, FLT_MAX, -FLT_MAX, 1e-45f, -FLT_MIN, 0, 7 };
    mc_mesh cloud = { odd, NULL, 4, 0 };
    const char *names[] = { "rt.obj", "rt.ply", "RT.OBJ", "rt.PLY" };
    for (int i = 0; i < 4; i++) {
        const mc_mesh *src = i < 2 ? &cube : &cloud;
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        CHECK(mc_mesh_save(path, src, err) == 0, "save %s: %s", names[i], err);
        mc_mesh m;
        CHECK(mc_mesh_load(path, &m, err) == 0, "load %s: %s", names[i], err);
        CHECK(m.nverts == src->nverts && m.nfaces == src->nfaces, "%s: counts %d %d", names[i], m.nverts, m.nfaces);
        if (m.nverts == src->nverts)
            CHECK(!memcmp(m.verts, src->verts, 12 * (size_t)m.nverts), "%s: vertices differ", names[i]);
        if (m.nfaces == src->nfaces && m.nfaces)
            CHECK(!memcmp(m.faces, src->faces, 12 * (size_t)m.nfaces), "%s: faces differ", names[i]);
        if (i == 0) CHECK(test_close(mc_mesh_area(&m), 6.0, 1e-12, 0), "cube area %g", mc_mesh_area(&m));
        mc_mesh_free(&m);
    }
    /* Saving leaves no temporary files behind, and overwrites atomically. */
    char path[256];
    snprintf(path, sizeof path, "%s/rt.obj", dir);
    CHECK(mc_mesh_save(path, &cloud, err) == 0, "overwrite: %s", err);
    DIR *d = opendir(dir);
    int tmp = 0;
    for (struct dirent *e; (e = readdir(d));) tmp += strstr(e->d_name, ".tmp") != NULL;
    closedir(d);
    CHECK(tmp == 0, "%d temporary files left behind", tmp);
    snprintf(path, sizeof path, "%s/no/such/dir/x.obj", dir);
    CHECK(mc_mesh_save(path, &cube, err) != 0 && strstr(err, "x.obj"), "save to missing dir: %s", err);
    snprintf(path, sizeof path, "%s/x.stl", dir);
    CHECK(mc_mesh_save(path, &cube, err) != 0 && strstr(err, ".obj or .ply"), "save stl: %s", err);
    float lo[3], hi[3];
    mc_mesh_bounds(&cube, lo, hi);
    CHECK(lo[0] == 0 && lo[2] == 0 && hi[1] == 1 && hi[2] == 1, "bounds");
}

static void test_obj(void)
{
    expect_ok("tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", 3, 1);
    expect_ok("forms.obj",
              "# comment\nmtllib x.mtl\no thing\ng group\nusemtl red\ns off\n"
              "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0 1.0\nvt 0 0\nvt 1 0\nvn 0 0 1\n"
              "f 1/1/1 2/2/1 3/1/1\nf 1//1 3//1 4//1\nf 1/1 2/2 4/1\nl 1 2\np 3\n", 4, 3);
    expect_ok("negative.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\nv 0 0 1\nf -4 -3 -1\n", 4, 2);
    expect_ok("quad.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n", 4, 2);
    expect_ok("pentagon.obj", "v 0 0 0\nv 2 0 0\nv 3 1 0\nv 1 2 0\nv -1 1 0\nf 1 2 3 4 5\n", 5, 3);
    expect_ok("crlf_bom.obj", "\xEF\xBB\xBFv 0 0 0\r\nv 1 0 0\r\nv 0 1 0\r\nf 1 2 3\r\n", 3, 1);
    expect_ok("cr_only.obj", "v 0 0 0\rv 1 0 0\rv 0 1 0\rf 1 2 3", 3, 1);
    expect_ok("no_newline.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3", 3, 1);
    expect_ok("forward.obj", "f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\n", 3, 1);
    expect_ok("trailing_comment.obj", "v 0 0 0 # origin\nv 1 0 0\nv 0 1 0\nf 1 2 3 # the face\n", 3, 1);
    expect_ok("cloud.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n", 3, 0);
    expect_ok("tabs.obj", "v\t0 0 0\nv 1\t0 0\n  v 0 1 0\nf\t1 2\t3\n", 3, 1);
    expect_ok("exp.obj", "v 0e0 0 0\nv 1E+0 0 0\nv -0 .5e1 0\nf 1 2 3\n", 3, 1);
    /* Degenerate faces are dropped: repeated corner, collinear corners, a two-corner face. */
    expect_ok("degenerate.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 2 0 0\nf 1 2 3\nf 1 1 2\nf 1 2 4\nf 1 2\n", 4, 1);

    expect_err("range.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nv 1 1 1\nv 2 2 2\nv 3 3 3\nv 4 4 4\n\nf 1 2 9\n",
               "range.obj:10: face index 9 out of range (file has 8 vertices)");
    expect_err("neg_range.obj", "v 0 0 0\nv 1 0 0\nf -1 -2 -3\n", "neg_range.obj:3: face index -3 out of range");
    expect_err("zero.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "zero.obj:4: face index 0 is invalid");
    expect_err("badidx.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 b 3\n", "badidx.obj:4: bad face index 'b'");
    expect_err("nan.obj", "v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n", "nan.obj:2: vertex coordinate 'nan' is not a finite");
    expect_err("inf.obj", "v 0 0 0\nv 1 0 0\nv 0 -inf 0\n", "inf.obj:3: vertex coordinate '-inf'");
    expect_err("huge.obj", "v 0 0 0\nv 1e39 0 0\n", "huge.obj:2: vertex coordinate '1e39'");
    expect_err("huge2.obj", "v 0 0 0\nv 3.4028236e38 0 0\n", "huge2.obj:2: vertex coordinate '3.4028236e38'");
    expect_ok("largest.obj", "v 3.40282347e+38 -3.40282356e38 0\n", 1, 0);   /* both round to FLT_MAX */
    expect_err("short.obj", "v 0 0 0\nv 1 0\n", "short.obj:2: a vertex needs three numbers");
    expect_err("empty.obj", "", "empty.obj: file is empty");
    expect_err("blank.obj", "\n\n# nothing\n", "blank.obj: no vertices");
    expect_err("alldegen.obj", "v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "alldegen.obj: all 1 triangles are degenerate");
    expect_err("binary.obj", "\x01\x02\x03\x00\xff", "no vertices");
}

static void test_off(void)
{
    const char *tet = "OFF\n4 4 6\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n";
    expect_ok("tet.off", tet, 4, 4);
    expect_ok("glued.off", "OFF4 4 6\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n", 4, 4);
    expect_ok("comments.off", "# made by hand\nOFF # keyword\n\n# counts next\n4 2 0\n0 0 0\n# a comment line\n1 0 0\n"
              "1 1 0\n0 1 0\n3 0 1 2 255 0 0\n3 0 2 3 0.5 0.5 0.5 1\n", 4, 2);
    expect_ok("coff.off", "COFF\n3 1 0\n0 0 0 255 0 0 255\n1 0 0 0 255 0 255\n0 1 0 0 0 255 255\n3 0 1 2\n", 3, 1);
    expect_ok("noff.off", "NOFF\n3 1 0\n0 0 0 0 0 1\n1 0 0 0 0 1\n0 1 0 0 0 1\n3 0 1 2\n", 3, 1);
    expect_ok("quad.off", "OFF\r\n4 1 0\r\n0 0 0\r\n1 0 0\r\n1 1 0\r\n0 1 0\r\n4 0 1 2 3", 4, 2);
    expect_ok("bom.off", "\xEF\xBB\xBFOFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", 3, 1);
    expect_ok("cloud.off", "OFF\n2 0 0\n0 0 0\n1 1 1\n", 2, 0);

    expect_err("range.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n", "range.off:6: face index 7 out of range (file has 3 vertices)");
    expect_err("negidx.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 -1\n", "negidx.off:6: face index -1 out of range");
    expect_err("absurd.off", "OFF\n2000000000 2000000000 0\n0 0 0\n", "absurd.off:2: header promises 2000000000 vertices");
    expect_err("absurd2.off", "OFF\n1000 0 0\n0 0 0\n", "absurd2.off:2: header promises 1000 vertices");
    expect_err("negcount.off", "OFF\n-3 1 0\n", "negcount.off:2: expected the counts");
    expect_err("trunc.off", "OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n", "trunc.off:6: expected 2 faces, found 1");
    expect_err("truncv.off", "OFF\n4 0 0\n0 0 0 0 0 0 0\n1 0 0\n0 1 0\n", "truncv.off:5: expected 4 vertices, found 3");
    expect_err("truncv2.off", "OFF\n4 0 0\n0 0 0\n1 0 0\n0 1 0\n", "truncv2.off:2: header promises 4 vertices");
    expect_err("nan.off", "OFF\n3 1 0\n0 0 0\n1 NaN 0\n0 1 0\n3 0 1 2\n", "nan.off:4: vertex coordinate 'NaN'");
    expect_err("shortface.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1       \n", "shortface.off:6: face has fewer indices than its count 3");
    expect_err("badface.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 x\n", "badface.off:6: bad face index 'x'");
    expect_err("bigface.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n99999999 0 1\n", "bigface.off:6: a face starts with its number of corners");
    expect_err("notoff.off", "PLY\n3 1 0\n", "notoff.off:1: not an OFF file");
    expect_err("4off.off", "4OFF\n3 1 0\n", "not an OFF file");
    expect_err("binoff.off", "OFF BINARY\n", "binoff.off:1: binary OFF is not supported");
    expect_err("nocounts.off", "OFF\n", "expected the counts");
    expect_err("empty.off", "", "empty.off: file is empty");
    expect_err("comment_only.off", "# just a comment\n", "no OFF header");
}

/* A little byte writer for binary test files. */
typedef struct { unsigned char b[4096]; size_t n; int big; } bytes;
static void raw(bytes *o, const void *p, size_t n) { memcpy(o->b + o->n, p, n); o->n += n; }
static void text(bytes *o, const char *s) { raw(o, s, strlen(s)); }
static void num(bytes *o, uint64_t u, int size)
{
    for (int i = 0; i < size; i++) o->b[o->n + (o->big ? size - 1 - i : i)] = (unsigned char)(u >> (8 * i));
    o->n += size;
}
static void f32(bytes *o, float f) { uint32_t u; memcpy(&u, &f, 4); num(o, u, 4); }
static void f64(bytes *o, double d) { uint64_t u; memcpy(&u, &d, 8); num(o, u, 8); }

static void test_ply(void)
{
    expect_ok("ascii.ply", "ply\nformat ascii 1.0\ncomment hi\nobj_info x\nelement vertex 4\nproperty float x\n"
              "property float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\n"
              "end_header\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n4 0 1 2 3\n", 4, 2);
    /* Extra properties before and between coordinates, an extra element with a list, CRLF, no final newline. */
    expect_ok("extra.ply", "ply\r\nformat ascii 1.0\r\nelement vertex 3\r\nproperty uchar red\r\nproperty double x\r\n"
              "property float nx\r\nproperty float y\r\nproperty float z\r\nelement edge 1\r\nproperty list uchar float junk\r\n"
              "property int v1\r\nelement face 1\r\nproperty list uint8 uint32 vertex_index\r\nproperty uchar flags\r\n"
              "end_header\r\n255 0 9 0 0\r\n255 1 9 0 0\r\n255 0 9 1 0\r\n2 1.5 2.5 7\r\n3 0 1 2 1", 3, 1);
    expect_ok("cloud.ply", "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
              "property float z\nend_header\n0 0 0 1 1 1\n", 2, 0);

    for (int big = 0; big <= 1; big++) {
        bytes o = { .n = 0, .big = big };
        text(&o, big ? "ply\nformat binary_big_endian 1.0\n" : "ply\nformat binary_little_endian 1.0\n");
        text(&o, "element vertex 4\nproperty double x\nproperty float y\nproperty float z\nproperty uchar alpha\n"
                 "element face 2\nproperty list ushort short vertex_indices\nproperty int tag\n"
                 "element extra 2\nproperty list uint uchar stuff\nend_header\n");
        const float v[12] = { 0,0,0, 1,0,0, 1,1,0, 0,1,0 };
        for (int i = 0; i < 4; i++) { f64(&o, v[3 * i]); f32(&o, v[3 * i + 1]); f32(&o, v[3 * i + 2]); num(&o, 7, 1); }
        num(&o, 3, 2); num(&o, 0, 2); num(&o, 1, 2); num(&o, 2, 2); num(&o, 99, 4);
        num(&o, 4, 2); num(&o, 0, 2); num(&o, 1, 2); num(&o, 2, 2); num(&o, 3, 2); num(&o, 99, 4);
        num(&o, 2, 4); num(&o, 1, 1); num(&o, 2, 1); num(&o, 0, 4);
        mc_mesh m;
        const char *name = big ? "be.ply" : "le.ply";
        CHECK(mc_mesh_load(put(name, o.b, o.n), &m, err) == 0, "%s: %s", name, err);
        CHECK(m.nverts == 4 && m.nfaces == 3, "%s: %d %d", name, m.nverts, m.nfaces);
        CHECK(m.nverts == 4 && !memcmp(m.verts, v, sizeof v), "%s: vertices", name);
        mc_mesh_free(&m);
        /* The same file cut short, and with an index out of range. */
        /* Cut short: the header's counts no longer fit. */
        expect_err_bytes(name, o.b, o.n - 20, "header promises 2 'extra' elements, more than the 84 bytes");
    }
    {
        bytes o = { .n = 0 };
        text(&o, "ply\nformat binary_little_endian 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                 "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n");
        for (int i = 0; i < 9; i++) f32(&o, i == 3 || i == 7 ? 1.0f : 0.0f);
        num(&o, 3, 1); num(&o, 0, 4); num(&o, 1, 4); num(&o, 5, 4);
        expect_err_bytes("range_bin.ply", o.b, o.n, "range_bin.ply (face 0): face index 5 out of range (file has 3 vertices)");
        o.n -= 13;
        num(&o, 200, 1);
        expect_err_bytes("badlist.ply", o.b, o.n, "badlist.ply (face 0): bad list length 200");
        o.n -= 1 + 36;
        f32(&o, 0); f32(&o, 0); f32(&o, 0); f32(&o, 1); f32(&o, 0); f32(&o, 0); f32(&o, 0); f32(&o, NAN); f32(&o, 0);
        expect_err_bytes("nan_bin.ply", o.b, o.n, "nan_bin.ply (vertex 2): vertex coordinate nan");
    }
    const char *hdr = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
                      "element face 1\nproperty list uchar int vertex_indices\nend_header\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%s0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n", hdr);
    expect_err("range.ply", buf, "range.ply:13: face index 3 out of range (file has 3 vertices)");
    snprintf(buf, sizeof buf, "%s0 0 0\n1 0 0\n0 inf 0\n3 0 1 2\n", hdr);
    expect_err("inf.ply", buf, "inf.ply:12: vertex coordinate inf");
    snprintf(buf, sizeof buf, "%s0 0 0\n1 0 0\n0 x 0\n3 0 1 2\n", hdr);
    expect_err("word.ply", buf, "word.ply:12: expected a number in element 'vertex', found 'x'");
    snprintf(buf, sizeof buf, "%s0 0 0\n1 0 0\n0 1 0\n3 0 1", hdr);
    expect_err("trunc.ply", buf, "trunc.ply: file ends inside element 'face' 0");
    snprintf(buf, sizeof buf, "%s0 0 0\n1 0 0\n", hdr);
    expect_err("trunc2.ply", buf, "trunc2.ply: header promises 3 'vertex' elements");
    expect_err("absurd.ply", "ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\n"
               "property float y\nproperty float z\nend_header\n\1\2\3", "header promises 4000000000 'vertex' elements");
    expect_err("absurd2.ply", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
               "element face 999999\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n",
               "header promises 999999 'face' elements");
    expect_err("twovert.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
               "element vertex 1\nproperty float x\nend_header\n0 0 0\n1\n", "two 'vertex' elements");
    expect_err("nover.ply", "ply\nformat ascii 1.0\nelement point 1\nproperty float x\nend_header\n1\n", "no 'vertex' element");
    expect_err("noxyz.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nend_header\n1 2\n",
               "with x, y and z");
    expect_err("fmt.ply", "ply\nformat binary_middle_endian 1.0\nend_header\n", "fmt.ply:2: unknown PLY format 'binary_middle_endian'");
    expect_err("type.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float128 x\nend_header\n", "type.ply:4: expected 'property TYPE NAME'");
    expect_err("noend.ply", "ply\nformat ascii 1.0\nelement vertex 1\n", "no 'end_header'");
    expect_err("nofmt.ply", "ply\nelement vertex 0\nend_header\n", "nofmt.ply:3: no 'format' line");
    expect_err("junk.ply", "ply\nformat ascii 1.0\nhello world\nend_header\n", "junk.ply:3: unknown header line 'hello world'");
    expect_err("notply.ply", "solid x\n", "notply.ply:1: not a PLY file");
    expect_err("empty.ply", "", "empty.ply: file is empty");
}

static void stl_facet(bytes *o, const float *a, const float *b, const float *c)
{
    for (int i = 0; i < 3; i++) f32(o, 0);
    for (int i = 0; i < 3; i++) f32(o, a[i]);
    for (int i = 0; i < 3; i++) f32(o, b[i]);
    for (int i = 0; i < 3; i++) f32(o, c[i]);
    num(o, 0, 2);
}

static void test_stl(void)
{
    /* A cube as 12 separate facets: merging brings it back to 8 vertices. */
    bytes o = { .n = 0 };
    text(&o, "solid but really binary");
    while (o.n < 80) o.b[o.n++] = ' ';
    num(&o, 12, 4);
    for (int f = 0; f < 12; f++) stl_facet(&o, cube_v + 3 * cube_f[3 * f], cube_v + 3 * cube_f[3 * f + 1], cube_v + 3 * cube_f[3 * f + 2]);
    mc_mesh m;
    CHECK(mc_mesh_load(put("cube.stl", o.b, o.n), &m, err) == 0, "cube.stl: %s", err);
    CHECK(m.nverts == 8 && m.nfaces == 12, "cube.stl: %d verts %d faces (identical corners should merge)", m.nverts, m.nfaces);
    CHECK(test_close(mc_mesh_area(&m), 6.0, 1e-12, 0), "cube.stl area");
    mc_mesh_free(&m);
    o.b[o.n++] = 0;   /* trailing padding some exporters add */
    o.b[0] = 'x';
    CHECK(mc_mesh_load(put("pad.stl", o.b, o.n), &m, err) == 0 && m.nfaces == 12, "pad.stl: %s", err);
    mc_mesh_free(&m);
    expect_err_bytes("trunc.stl", o.b, o.n - 30, "trunc.stl: binary STL header promises 12 triangles (684 bytes) but the file has 655");
    o.b[0] = 's';   /* "solid" at the start of a binary file must not make it ascii */
    expect_err_bytes("trunc_solid.stl", o.b, o.n - 30, "trunc_solid.stl: binary STL header promises 12 triangles");
    memcpy(o.b + 84 + 50 * 3 + 16, &(float){ NAN }, 4);
    expect_err_bytes("nan.stl", o.b, 84 + 50 * 12, "nan.stl (triangle 3): vertex coordinate is not a finite number");

    const char *ascii = "solid cube\n"
        "  facet normal 0 0 -1\n    outer loop\n      vertex 0 0 0\n      vertex 1 1 0\n      vertex 1 0 0\n    endloop\n  endfacet\n"
        "  facet normal 0 0 -1\n    outer loop\n      vertex 0 0 0\n      vertex 0 1 0\n      vertex 1 1 0\n    endloop\n  endfacet\n"
        "endsolid cube\n"
        "solid second\nfacet normal 0 0 1\nouter loop\nvertex -0 0 0\nvertex 1 1 0\nvertex 1 0 1e-3\nendloop\nendfacet\nendsolid\n";
    expect_ok("ascii.stl", ascii, 5, 3);
    expect_ok("crlf.STL", "\xEF\xBB\xBFsolid t\r\nfacet normal 0 0 1\r\nouter loop\r\nvertex 0 0 0\r\nvertex 1 0 0\r\n"
              "vertex 0 1 0\r\nendloop\r\nendfacet\r\nendsolid t", 3, 1);
    expect_ok("quadfacet.stl", "solid q\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 1 1 0\n"
              "vertex 0 1 0\nendloop\nendfacet\nendsolid\n", 4, 2);
    expect_err("nan_ascii.stl", "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 nan 0\n",
               "nan_ascii.stl:6: vertex coordinate 'nan'");
    expect_err("short_ascii.stl", "solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0\nendloop\n",
               "short_ascii.stl:6: 'vertex' needs three numbers");
    expect_err("novert.stl", "solid empty\nendsolid empty\n", "novert.stl: no 'vertex' lines");
    expect_err("twovert.stl", "solid t\nfacet\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\n", "no complete triangles");
    expect_err("degen.stl", "solid t\nfacet\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 0 0\nendloop\nendfacet\n",
               "all 1 triangles are degenerate");
    expect_err("short.stl", "hello", "short.stl: not an STL file");
    expect_err("empty.stl", "", "empty.stl: file is empty");
}

static void test_files(void)
{
    mc_mesh m;
    char path[256];
    snprintf(path, sizeof path, "%s/none.obj", dir);
    CHECK(mc_mesh_load(path, &m, err) != 0 && strstr(err, "none.obj: cannot open"), "missing file: %s", err);
    CHECK(mc_mesh_load(puts_("mesh.xyz", "1 2 3\n"), &m, err) != 0 && strstr(err, "unknown mesh format '.xyz'"), "ext: %s", err);
    snprintf(path, sizeof path, "%s/adir.obj", dir);
    mkdir(path, 0755);
    CHECK(mc_mesh_load(path, &m, err) != 0 && strstr(err, "not a regular file"), "directory: %s", err);
    CHECK(mc_mesh_format("a/b.c/MODEL.Ply") == MC_MESH_PLY && mc_mesh_format("a.obj/b") == MC_MESH_UNKNOWN, "format by extension");
    /* Parsing straight from memory, as the fuzzers do. */
    const char tri[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3";
    CHECK(mc_mesh_parse("mem", tri, sizeof tri - 1, MC_MESH_OBJ, &m, err) == 0 && m.nfaces == 1, "parse: %s", err);
    mc_mesh_free(&m);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/mache_mesh_io.XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_round_trip();
    test_obj();
    test_off();
    test_ply();
    test_stl();
    test_files();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_summary("test_mesh_io");
}
