"""Download a file from a list of mirrors, checked against its MD5, with retries.

The data goes to a temporary file in the destination folder and replaces the destination
only after its checksum matched, so an interrupted or corrupted download never leaves a
file that looks complete. `fetch` is a module attribute so tests can replace it."""
import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request

ATTEMPTS = 3
BACKOFF_S = 1.0      # waits 1 s, 2 s, ... between rounds over the mirrors
TIMEOUT_S = 15
_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    pass


def fetch(url, out):
    """Stream `url` into the binary file object `out` (urllib handles http(s) and file)."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            out.write(chunk)


def file_md5(path):
    digest = hashlib.md5(usedforsecurity=False)  # the published checksums are MD5
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _try_once(url, dest, md5):
    folder = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(dest) + ".",
                               suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            fetch(url, out)
            out.flush()
            os.fsync(out.fileno())
        got = file_md5(tmp)
        if md5 is not None and got != md5:
            raise DownloadError(f"MD5 mismatch for {url}: got {got}, expected {md5}")
        os.chmod(tmp, 0o644)  # mkstemp makes files private; data files are not secrets
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _no_connection(err):
    """True for errors where no server answered (DNS failure, refused, timed out)."""
    if isinstance(err, urllib.error.HTTPError):
        return False
    return isinstance(err, (urllib.error.URLError, TimeoutError, ConnectionError))


def download(urls, dest, md5=None, attempts=ATTEMPTS, backoff=BACKOFF_S, manual_hint=""):
    """Fetch `dest` from the first mirror that works, in up to `attempts` rounds."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    errors = []
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        unreachable = 0
        for url in urls:
            try:
                _try_once(url, dest, md5)
                return dest
            except (OSError, DownloadError, ValueError) as err:
                errors.append(f"{url}: {err}")
                unreachable += _no_connection(err)
        if unreachable == len(urls):
            break  # no mirror answered at all: offline, so retrying only makes the user wait
    tried = "\n  ".join(errors[-len(urls):])
    raise DownloadError(f"could not download {os.path.basename(dest)} after {attempts} "
                        f"attempt(s); last errors:\n  {tried}\n{manual_hint}")
