/* Pieces shared by the mesh readers (obj.c off.c ply.c stl.c) and the generators: a growable mesh,
 * the clean-up every reader ends with, and a bounds-checked scanner over a file held in memory. */
#ifndef MACHE_MESH_PARSE_H
#define MACHE_MESH_PARSE_H
#include "mesh/mesh.h"
#include <stdio.h>

/* A mesh that grows as vertices and faces arrive. Readers refuse files with more than MC_MESH_MAX
 * vertices or triangles (3 GiB of floats) rather than run out of memory. */
#define MC_MESH_MAX (1 << 28)
typedef struct mc_meshbuf { mc_mesh m; int vcap, fcap; } mc_meshbuf;

int  mc_meshbuf_vert(mc_meshbuf *b, float x, float y, float z);    /* returns the new vertex's index */
void mc_meshbuf_tri(mc_meshbuf *b, int i, int j, int k);
int  mc_meshbuf_fan(mc_meshbuf *b, const int *idx, int n);   /* polygon as a triangle fan; 1 if too many */
void mc_meshbuf_reserve(mc_meshbuf *b, int nverts, int nfaces);      /* capacity hint */
/* Hands the mesh over: drops degenerate triangles (repeated corners, zero area) and trims the arrays.
 * Fails if there are no vertices, or if the file had faces but none of them survive. */
int  mc_meshbuf_finish(mc_meshbuf *b, const char *name, mc_mesh *out, char *err);

/* A cursor over text in memory. Lines end at "\n", "\r\n" or a lone "\r"; line counts from 1. */
typedef struct mc_text {
    const char *p, *end;
    int line;   /* the line of what was returned last */
    int next;   /* the line the cursor is on */
} mc_text;

void mc_text_init(mc_text *t, const char *buf, size_t len);      /* also skips a UTF-8 byte-order mark */
int  mc_text_line(mc_text *t, const char **s, const char **e);   /* next line as [s,e); 0 at the end */
/* Next whitespace-separated token in [*s, e), advancing *s; 0 if none is left. */
int  mc_token(const char **s, const char *e, const char **ts, const char **te);
/* Next token across lines (for the formats that are token streams); 0 at the end of the buffer. */
int  mc_text_token(mc_text *t, const char **ts, const char **te);
int  mc_token_is(const char *ts, const char *te, const char *word);   /* case-insensitive */
int  mc_token_double(const char *ts, const char *te, double *v);     /* 0 if not a number */
int  mc_token_long(const char *ts, const char *te, long long *v);    /* 0 if not a whole number */

/* A coordinate we can keep: finite, and finite again as a float. The bound is where rounding to float
 * would give infinity (FLT_MAX plus half a step), so "3.40282347e+38", FLT_MAX as %.9g prints it, passes. */
static inline int mc_coord_ok(double v) { return v > -0x1.ffffffp127 && v < 0x1.ffffffp127; }

int mc_read_obj(const char *name, const char *buf, size_t len, mc_mesh *m, char *err);
int mc_read_off(const char *name, const char *buf, size_t len, mc_mesh *m, char *err);
int mc_read_ply(const char *name, const char *buf, size_t len, mc_mesh *m, char *err);
int mc_read_stl(const char *name, const char *buf, size_t len, mc_mesh *m, char *err);

/* Writers into an open stream; the caller checks the stream for errors. */
void mc_write_obj(FILE *f, const mc_mesh *m);
void mc_write_ply(FILE *f, const mc_mesh *m);

#endif
