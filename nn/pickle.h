/* A restricted unpickler for PyTorch state_dicts (pickle protocol 2). It builds plain values and never
 * runs anything: the only globals it knows are OrderedDict, the tensor rebuild functions and the
 * storage types, and every other global is an error that names it. */
#ifndef MACHE_PICKLE_H
#define MACHE_PICKLE_H
#include <stddef.h>
#include <stdint.h>

/* Element types of PyTorch storages, as named by torch.<X>Storage. */
typedef enum mc_dtype {
    MC_F32, MC_F64, MC_F16, MC_BF16, MC_I64, MC_I32, MC_I16, MC_I8, MC_U8, MC_BOOL, MC_NDTYPES
} mc_dtype;
int         mc_dtype_size(mc_dtype t);
const char *mc_dtype_name(mc_dtype t);     /* "F32", "I64", ... (safetensors' names) */
/* The element at index i of little-endian data of type t, as a float. */
float       mc_dtype_get(mc_dtype t, const unsigned char *data, int64_t i);
/* Back to int64 for writing an integer tensor, clamped (a float can round past the int64 range). */
int64_t     mc_float_to_int64(float v);

typedef enum mc_pk_type {
    MC_PK_NONE, MC_PK_BOOL, MC_PK_INT, MC_PK_FLOAT, MC_PK_STR, MC_PK_TUPLE, MC_PK_LIST, MC_PK_DICT,
    MC_PK_GLOBAL, MC_PK_STORAGE, MC_PK_TENSOR
} mc_pk_type;

#define MC_PK_MAX_DIMS 8

typedef struct mc_pk mc_pk;
struct mc_pk {
    mc_pk_type  type;
    int64_t     i;          /* BOOL, INT; GLOBAL: which one (internal) */
    double      f;          /* FLOAT */
    const unsigned char *s; /* STR: bytes in the pickle (not NUL-terminated); a LONG1 over 8 bytes: its bytes */
    size_t      len;        /* STR, and a long INT's byte count (0 for an ordinary INT) */
    mc_pk     **items;      /* TUPLE, LIST; DICT: key, value, key, value, ... */
    int         n, cap;
    /* STORAGE (from a persistent id): its key, element type and count; a legacy view's offset */
    mc_dtype    dtype;
    int64_t     numel, view_offset, view_numel;
    /* TENSOR: a view of a storage */
    mc_pk      *storage;
    int64_t     offset;
    int         ndim;
    int64_t     shape[MC_PK_MAX_DIMS], stride[MC_PK_MAX_DIMS];
};

typedef struct mc_pickle {
    mc_pk  *root;
    mc_pk **nodes;          /* every value made, freed together */
    int     n, cap;
} mc_pickle;

/* Unpickles one object from buf; *used is the number of bytes up to and including STOP. The values'
 * strings point into buf, which must outlive p. name is for messages. */
int  mc_pickle_load(const char *name, const unsigned char *buf, size_t len, size_t *used, mc_pickle *p, char *err);
void mc_pickle_free(mc_pickle *p);
/* STR equal to a C string. */
int  mc_pk_is(const mc_pk *v, const char *s);

#endif
