"""IDX reader: round trips and refusal of truncated, padded, corrupt and bomb-like files."""
import gzip
import struct

import numpy as np
import pytest

from chainrule.vision.idx import IDXError, read_idx, write_idx


def header(code, dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip(tmp_path, dtype, gz):
    arr = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(out, arr)
    out[0, 0, 0] = 1  # the result is a normal writable array


def test_big_endian_on_disk(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(header(0x0C, [2]) + struct.pack(">2i", 1, 258))
    np.testing.assert_array_equal(read_idx(path), [1, 258])


def test_compression_detected_by_magic_not_name(tmp_path):
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    gz_named_raw = tmp_path / "plain.gz"
    gz_named_raw.write_bytes(header(0x08, [2, 3]) + arr.tobytes())
    raw_named_gz = tmp_path / "train-images-idx3-ubyte"
    raw_named_gz.write_bytes(gzip.compress(header(0x08, [2, 3]) + arr.tobytes()))
    np.testing.assert_array_equal(read_idx(gz_named_raw), arr)
    np.testing.assert_array_equal(read_idx(raw_named_gz), arr)


def test_truncated_raw_file(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(header(0x08, [10, 28, 28]) + b"\0" * 100)
    with pytest.raises(IDXError, match=r"short\.idx: header declares shape \(10, 28, 28\)"
                                       r".*only 100 bytes.*truncated"):
        read_idx(path)


def test_trailing_data_refused(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(header(0x08, [2]) + b"\1\2\3")
    with pytest.raises(IDXError, match="long.idx.*trailing data"):
        read_idx(path)


def test_huge_declared_shape_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.idx"
    path.write_bytes(header(0x0E, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF]) + b"\0" * 16)
    with pytest.raises(IDXError, match="huge.idx: header declares shape.*truncated"):
        read_idx(path)


def test_bad_magic_and_type(tmp_path):
    bad = tmp_path / "bad_magic"
    bad.write_bytes(b"\x12\x34\x08\x01" + b"\0" * 8)
    with pytest.raises(IDXError, match="bad_magic: not an IDX file"):
        read_idx(bad)
    code = tmp_path / "bad_type"
    code.write_bytes(b"\0\0\x07\x01\0\0\0\x01\0")
    with pytest.raises(IDXError, match="bad_type: unknown IDX data type code 0x07"):
        read_idx(code)
    nd = tmp_path / "zero_dims"
    nd.write_bytes(b"\0\0\x08\x00")
    with pytest.raises(IDXError, match="zero_dims: unsupported number of dimensions 0"):
        read_idx(nd)


def test_header_cut_short(tmp_path):
    path = tmp_path / "cut"
    path.write_bytes(b"\0\0\x08\x03\0\0")
    with pytest.raises(IDXError, match="cut: truncated file: 12 bytes needed for the dimension sizes, only 2"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(header(0x08, [50, 28, 28]) + bytes(range(256)) * 200)
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IDXError, match=r"cut\.gz: (corrupt or truncated gzip|truncated)"):
        read_idx(path)


def test_gzip_with_less_data_than_declared(tmp_path):
    path = tmp_path / "less.gz"
    path.write_bytes(gzip.compress(header(0x08, [4, 4]) + b"\0" * 10))
    with pytest.raises(IDXError, match=r"less\.gz: truncated file.*\(4, 4\).*only 10 bytes"):
        read_idx(path)


def test_gzip_with_more_data_than_declared(tmp_path):
    path = tmp_path / "more.gz"
    path.write_bytes(gzip.compress(header(0x08, [4]) + b"\0" * 10))
    with pytest.raises(IDXError, match=r"more\.gz: .*trailing data"):
        read_idx(path)


def test_corrupt_gzip_stream(tmp_path):
    blob = bytearray(gzip.compress(header(0x08, [64]) + bytes(range(64))))
    blob[-8] ^= 0xFF  # break the CRC
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(IDXError, match=r"crc\.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_gzip_header_beyond_deflate_ratio(tmp_path):
    # a tiny file cannot honestly declare gigabytes: refused without decompressing
    path = tmp_path / "liar.gz"
    path.write_bytes(gzip.compress(header(0x08, [60000, 1000, 1000])))
    with pytest.raises(IDXError, match=r"liar\.gz: .*cannot decompress to that much"):
        read_idx(path)


def test_gzip_bomb_bounded_by_max_bytes(tmp_path, monkeypatch):
    # 8 MB of zeros compress to ~8 KB, within DEFLATE's ratio; max_bytes still applies
    payload = header(0x08, [8, 1024, 1024]) + b"\0" * (8 << 20)
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(payload))
    with pytest.raises(IDXError, match=r"bomb\.gz: .*more than max_bytes=1000000"):
        read_idx(path, max_bytes=1_000_000)


def test_gzip_bomb_reads_stop_at_declared_size(tmp_path):
    # declares 16 bytes but decompresses to megabytes: reading stops just past 16
    path = tmp_path / "bomb2.gz"
    path.write_bytes(gzip.compress(header(0x08, [16]) + b"\0" * (4 << 20)))
    reads = []
    orig = gzip.GzipFile.read

    def spy(self, size=-1):
        reads.append(size)
        return orig(self, size)

    gzip.GzipFile.read = spy
    try:
        with pytest.raises(IDXError, match="trailing data"):
            read_idx(path)
    finally:
        gzip.GzipFile.read = orig
    assert all(0 <= r <= 16 for r in reads), reads


def test_not_gzip_after_magic(tmp_path):
    path = tmp_path / "fake.gz"
    path.write_bytes(b"\x1f\x8b" + b"garbage" * 4)
    with pytest.raises(IDXError, match=r"fake\.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_write_idx_rejects_unsupported(tmp_path):
    with pytest.raises(TypeError, match="cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
