"""Atomic file writes: a crash or an error mid-write never leaves a half-written file
where the previous one was, because the data goes to a temporary file in the same folder
(same filesystem, so the final rename is atomic) and replaces the target only once it is
complete and flushed to disk."""
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what a plain open(path, "wb") would have given


def atomic_write(path, write):
    """Call `write(binary_file)` on a temporary file, then move it onto `path`. A
    symbolic link is followed, as open() would: its target is replaced, the link stays."""
    path = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o7777  # keep an existing file's permissions
        except FileNotFoundError:
            mode = _FILE_MODE
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def atomic_write_text(path, text):
    """`atomic_write` of a str, encoded as UTF-8."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _fsync_folder(folder):
    # makes the rename itself durable; not possible on every platform (e.g. Windows)
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
