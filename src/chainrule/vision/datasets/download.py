"""Download a file from a list of mirrors, checked against its MD5, with retries.

The data goes through chainrule's atomic write (a temporary file in the destination
folder, renamed over the destination only once complete), and a checksum mismatch aborts
that write, so an interrupted or corrupted download never leaves a file that looks
complete. `fetch` is a module attribute so tests can replace it. (pooch would do the
hashing and retries but tries one URL at a time, refuses file:// mirrors and keeps a
second temp-and-rename of its own; the few lines here are simpler than wrapping it.)"""
import hashlib
import os
import time
import urllib.error
import urllib.request

from ...runtime.atomic_files import atomic_write

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


class _Hashing:
    """A binary file that also hashes what is written to it."""

    def __init__(self, out):
        self.out = out
        self.digest = hashlib.md5(usedforsecurity=False)  # the published checksums are MD5

    def write(self, chunk):
        self.digest.update(chunk)
        return self.out.write(chunk)


def _try_once(url, dest, md5):
    def write(out):
        hashing = _Hashing(out)
        fetch(url, hashing)
        got = hashing.digest.hexdigest()
        if md5 is not None and got != md5:  # raised inside the write: dest stays as it was
            raise DownloadError(f"MD5 mismatch for {url}: got {got}, expected {md5}")

    atomic_write(dest, write)


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
