#include "nn/zipfile.h"
#include "nn/interop.h"
#include <stdlib.h>
#include <string.h>

/* ---- reading ---- */
enum { LOCAL_SIG = 0x04034b50, CENTRAL_SIG = 0x02014b50, END_SIG = 0x06054b50, LOCAL_LEN = 30, CENTRAL_LEN = 46, END_LEN = 22 };

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

void mc_zip_free(mc_zip *z)
{
    for (int k = 0; z->entries && k < z->n; k++) free(z->entries[k].name);
    free(z->entries);
    memset(z, 0, sizeof *z);
}

static int bad(mc_zip *z, char *err, const char *name, const char *what)
{
    mc_zip_free(z);
    mc_set_err(err, "%s: not a valid zip archive: %s (the file may be truncated or damaged)", name, what);
    return 1;
}

int mc_zip_parse(const char *name, const unsigned char *buf, size_t len, mc_zip *z, char *err)
{
    memset(z, 0, sizeof *z);
    if (len < END_LEN) return bad(z, err, name, "too short");
    /* The end record sits in the last 22 + 65535 bytes (a comment may follow it). */
    size_t end = len - END_LEN, stop = len > END_LEN + 65535 ? len - END_LEN - 65535 : 0;
    while (le32(buf + end) != END_SIG || END_LEN + le16(buf + end + 20) != len - end) {
        if (end == stop) return bad(z, err, name, "no end-of-directory record");
        end--;
    }
    const unsigned char *e = buf + end;
    uint32_t count = le16(e + 10), cd_size = le32(e + 12), cd_at = le32(e + 16);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_at == 0xffffffffu) {
        mc_set_err(err, "%s: a zip64 archive (over 4 GiB or 65535 entries), which mache does not read", name);
        return 1;
    }
    if (le16(e + 4) || le16(e + 6) || le16(e + 8) != count) return bad(z, err, name, "a multi-disk archive");
    if (cd_at > end || cd_size > end - cd_at || count > cd_size / CENTRAL_LEN) return bad(z, err, name, "central directory out of range");
    z->entries = mc_calloc(count ? count : 1, sizeof *z->entries);
    size_t at = cd_at, cd_end = (size_t)cd_at + cd_size;
    for (uint32_t k = 0; k < count; k++) {
        if (cd_end - at < CENTRAL_LEN || le32(buf + at) != CENTRAL_SIG) return bad(z, err, name, "bad central directory entry");
        const unsigned char *c = buf + at;
        uint32_t flags = le16(c + 8), method = le16(c + 10), crc = le32(c + 16), csize = le32(c + 20), usize = le32(c + 24);
        uint32_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32), local = le32(c + 42);
        if (cd_end - at - CENTRAL_LEN < (size_t)nlen + xlen + clen) return bad(z, err, name, "central directory entry runs past its end");
        if (nlen == 0 || !mc_name_ok((const char *)c + CENTRAL_LEN, nlen)) return bad(z, err, name, "bad entry name");
        mc_zip_entry *ze = &z->entries[k];
        ze->name = mc_malloc(nlen + 1);
        memcpy(ze->name, c + CENTRAL_LEN, nlen);
        ze->name[nlen] = 0;
        z->n = (int)k + 1;
        if (flags & 1) {
            mc_set_err(err, "%s: zip entry %s is encrypted", name, ze->name);
            mc_zip_free(z);
            return 1;
        }
        if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu) {
            mc_set_err(err, "%s: zip entry %s needs zip64, which mache does not read", name, ze->name);
            mc_zip_free(z);
            return 1;
        }
        /* The local header repeats the name; its extra field (PyTorch's alignment padding) may differ. */
        if (local > cd_at || cd_at - local < LOCAL_LEN || le32(buf + local) != LOCAL_SIG) return bad(z, err, name, "bad local header offset");
        size_t lname = le16(buf + local + 26), lextra = le16(buf + local + 28), data = (size_t)local + LOCAL_LEN + lname + lextra;
        if (lname != nlen || memcmp(buf + local + LOCAL_LEN, ze->name, nlen)) return bad(z, err, name, "local and central names differ");
        if (data > cd_at || csize > cd_at - data) return bad(z, err, name, "entry data runs past the directory");
        ze->data = buf + data;
        ze->size = csize;                    /* the bytes in the file: a compressed entry is refused when read */
        ze->method = (int)method;
        ze->crc = crc;
        if (method == 0 && csize != usize) return bad(z, err, name, "a stored entry whose sizes differ");
        at += CENTRAL_LEN + (size_t)nlen + xlen + clen;
    }
    return 0;
}

mc_zip_entry *mc_zip_find(const mc_zip *z, const char *entry)
{
    for (int k = 0; k < z->n; k++)
        if (!strcmp(z->entries[k].name, entry)) return &z->entries[k];
    return NULL;
}

const unsigned char *mc_zip_data(const char *name, mc_zip_entry *e, char *err)
{
    if (e->method != 0) {
        mc_set_err(err, "%s: zip entry %s is compressed (method %d); PyTorch writes stored entries "
                   "(was the file re-zipped? unzip it and save it again with torch.save)", name, e->name, e->method);
        return NULL;
    }
    if (!e->verified && mc_crc32(0, e->data, e->size) != e->crc) {
        mc_set_err(err, "%s: zip entry %s fails its CRC check (the file is damaged)", name, e->name);
        return NULL;
    }
    e->verified = 1;
    return e->data;
}

/* ---- writing ---- */
static void chunk(mc_zip_writer *w, const void *p, size_t n)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 64;
        w->chunks = mc_realloc(w->chunks, (size_t)w->cap * sizeof *w->chunks);
    }
    w->chunks[w->n++] = (mc_chunk){p, n};
    w->offset += n;
}

/* Version 10 (stored), no flags, method 0, and a fixed date (1980-01-01) so equal inputs give equal files. */
static void common_fields(mc_buf *b, uint32_t crc, size_t n, size_t name_len, size_t extra_len)
{
    mc_buf_put_uint(b, 10, 2);
    mc_buf_put_uint(b, 0, 2);
    mc_buf_put_uint(b, 0, 2);
    mc_buf_put_uint(b, 0, 2);
    mc_buf_put_uint(b, 0x21, 2);
    mc_buf_put_uint(b, crc, 4);
    mc_buf_put_uint(b, n, 4);
    mc_buf_put_uint(b, n, 4);
    mc_buf_put_uint(b, name_len, 2);
    mc_buf_put_uint(b, extra_len, 2);
}

void mc_zip_add(mc_zip_writer *w, const char *entry, const void *data, size_t n)
{
    size_t name_len = strlen(entry);
    uint32_t crc = mc_crc32(0, data, n);
    /* Pad with an extra field ("FB", PyTorch's id) so the data starts on a 64-byte boundary. */
    size_t pad = (64 - (w->offset + LOCAL_LEN + name_len + 4) % 64) % 64;
    w->headers = mc_realloc(w->headers, (size_t)(w->entries + 1) * sizeof *w->headers);
    mc_buf *h = &w->headers[w->entries];
    memset(h, 0, sizeof *h);
    mc_buf_put_uint(h, LOCAL_SIG, 4);
    common_fields(h, crc, n, name_len, pad + 4);
    mc_buf_put(h, entry, name_len);
    mc_buf_put_uint(h, 0x4246, 2);
    mc_buf_put_uint(h, pad, 2);
    for (size_t k = 0; k < pad; k++) mc_buf_put(h, "Z", 1);

    mc_buf *c = &w->central;
    mc_buf_put_uint(c, CENTRAL_SIG, 4);
    mc_buf_put_uint(c, 10, 2);                  /* made by: MS-DOS, version 1.0 */
    common_fields(c, crc, n, name_len, 0);
    mc_buf_put_uint(c, 0, 2);                   /* comment length */
    mc_buf_put_uint(c, 0, 2);                   /* disk */
    mc_buf_put_uint(c, 0, 2);                   /* internal attributes */
    mc_buf_put_uint(c, 0, 4);                   /* external attributes */
    mc_buf_put_uint(c, w->offset > 0xffffffffu ? 0xffffffffu : w->offset, 4);
    mc_buf_put(c, entry, name_len);
    w->entries++;
    /* A header may move when headers[] grows, so chunk it by index at write time: store the length now. */
    chunk(w, NULL, h->n);
    chunk(w, data, n);
}

int mc_zip_write(mc_zip_writer *w, const char *path, char *err)
{
    int r = 1;
    mc_buf end = {0};
    if (w->offset + w->central.n > 0xffffffffu || w->entries > 0xfffe) {
        mc_set_err(err, "%s: the archive would pass 4 GiB or 65535 entries, which needs zip64 (not written by mache)", path);
        goto done;
    }
    for (int k = 0; k < w->entries; k++) w->chunks[2 * k].p = w->headers[k].p;
    mc_buf_put_uint(&end, END_SIG, 4);
    mc_buf_put_uint(&end, 0, 4);                             /* this disk, the directory's disk */
    mc_buf_put_uint(&end, (uint64_t)w->entries, 2);
    mc_buf_put_uint(&end, (uint64_t)w->entries, 2);
    mc_buf_put_uint(&end, w->central.n, 4);
    mc_buf_put_uint(&end, w->offset, 4);
    mc_buf_put_uint(&end, 0, 2);                             /* comment length */
    chunk(w, w->central.p, w->central.n);
    chunk(w, end.p, end.n);
    r = mc_file_save_chunks(path, w->chunks, w->n, err);
done:
    for (int k = 0; k < w->entries; k++) free(w->headers[k].p);
    free(w->headers); free(w->chunks); free(w->central.p); free(end.p);
    memset(w, 0, sizeof *w);
    return r;
}
