"""Writes tests/idx_vectors.h: gzip streams of synthetic IDX files made by Python's zlib, one per
deflate block type plus optional header fields and two members, for tests/test_idx.c.

    python3 tests/make_idx_vectors.py > tests/idx_vectors.h
    python3 tests/make_idx_vectors.py --corpus tests/fuzz/corpus/idx    # seeds for make fuzz
"""
import os
import sys
import gzip, zlib, struct
def idx(n, h, w):
    data = bytes(((x * y + k) % 17) * 15 for k in range(n) for y in range(h) for x in range(w))
    return bytes([0, 0, 8, 3]) + struct.pack('>III', n, h, w) + data
def raw_deflate(b, level, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy); return c.compress(b) + c.flush()
def member(b, body, flags=0, extra=b''):
    h = bytes([0x1f, 0x8b, 8, flags]) + b'\0\0\0\0' + b'\0\xff' + extra
    if flags & 2: h += struct.pack('<H', zlib.crc32(h) & 0xffff)
    return h + body + struct.pack('<II', zlib.crc32(b), len(b) & 0xffffffff)
small = idx(2, 3, 4); big = idx(6, 28, 28)
out = {
 'gz_fixed': member(small, raw_deflate(small, 9, zlib.Z_FIXED)),
 'gz_dynamic': member(big, raw_deflate(big, 9)),
 'gz_empty': member(b'', raw_deflate(b'', 9)),
 'gz_empty_stored': member(b'', raw_deflate(b'', 0)),
 'gz_stored': member(small, raw_deflate(small, 0)),
 'gz_two_members': member(small[:10], raw_deflate(small[:10], 9)) + member(small[10:], raw_deflate(small[10:], 0)),
 'gz_header_fields': member(small, raw_deflate(small, 9), 4 | 8 | 16 | 2, b'\x03\x00abc' + b'name.idx\0' + b'a comment\0'),
}
if sys.argv[1:2] == ['--corpus']:
    os.makedirs(sys.argv[2], exist_ok=True)
    seeds = dict(out, images=big, labels=bytes([0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4]))
    for k, v in seeds.items():
        open(os.path.join(sys.argv[2], k + ('.gz' if k.startswith('gz') else '.idx')), 'wb').write(v)
    sys.exit(0)
print('/* Written by tests/make_idx_vectors.py; do not edit. */')
for k, v in out.items():
    print('static const uint8_t %s[%d] = {' % (k, len(v)))
    for i in range(0, len(v), 24): print('    ' + ', '.join('0x%02x' % c for c in v[i:i+24]) + ',')
    print('};')
