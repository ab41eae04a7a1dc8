"""`chainrule datasets`: what data is available, what is on disk and where, and how to
get Fashion-MNIST / MNIST (download, or place the files by hand)."""
import os

from ..runtime.i18n import _
from . import data_sources
from ._common import CLIError, HelpFormatter, wrap

EPILOG = """examples:
  chainrule datasets                               list, with what is cached where
  chainrule datasets download fashion-mnist        fetch the four files (about 30 MB)
  chainrule datasets download mnist --data-dir ~/data
  chainrule train --dataset fashion-mnist --data-dir ~/data"""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "datasets", help="list the data sets and download Fashion-MNIST / MNIST",
        epilog=EPILOG, formatter_class=HelpFormatter,
        description=wrap("Without arguments, list the data sets `chainrule train --dataset` "
                    "accepts, whether each is on disk and where. `download NAME` fetches "
                    "fashion-mnist or mnist from the official mirrors (MD5-checked)."))
    p.add_argument("action", nargs="?", choices=["list", "download"], default="list",
                   help="list (default) or download")
    p.add_argument("name", nargs="?", metavar="NAME", help="fashion-mnist or mnist")
    p.add_argument("--data-dir", metavar="DIR",
                   help="data folder (default: $CHAINRULE_DATA or ~/.cache/chainrule)")
    p.set_defaults(run=run)
    return p


def _files(cls):
    return [name for name, _md5 in cls.resources_train + cls.resources_test]


def _present(folder, gz_name):
    for candidate in (gz_name, gz_name[:-3]):
        for where in (folder, os.path.dirname(os.path.dirname(folder))):
            if os.path.isfile(os.path.join(where, candidate)):
                return True
    return False


def status(name, data_dir):
    cls = data_sources.idx_dataset_class(name)
    folder = data_sources.idx_folder(name, data_dir)
    have = [f for f in _files(cls) if _present(folder, f)]
    return cls, folder, have


def list_datasets(data_dir):
    from ..vision.datasets.digits import DATA_FILE
    print(_("data folder: {path}  (change with --data-dir or $CHAINRULE_DATA)").format(
        path=data_dir) + "\n")
    print(f"  {'digits':18s}" + _("built in: 1,797 handwritten digits, 8x8 pixels, 10 classes "
                                  "(1,438 train / 359 test)") + f"\n  {'':18s}{DATA_FILE}")
    print(f"  {'synthetic-linear':18s}" + _("generated: y = 2 x1 - 3.4 x2 + 4.2 + noise "
                                            "(d2l 3.3), 1,000 train / 200 test rows"))
    hints = []
    for name in ("fashion-mnist", "mnist"):
        cls, folder, have = status(name, data_dir)
        files = _files(cls)
        state = (_("cached") if len(have) == len(files) else
                 _("partly cached ({have}/{total} files)").format(have=len(have), total=len(files))
                 if have else _("not downloaded"))
        size = _("70,000 images 28x28, 10 classes (60,000 train / 10,000 test)")
        print(f"  {name:18s}" + _("{state}: {size}").format(state=state, size=size)
              + f"\n  {'':18s}{folder}")
        if len(have) < len(files):
            missing = [f for f in files if f not in have]
            hints.append(_("  {name}: chainrule datasets download {name}\n"
                           "    or by hand: get {files}\n"
                           "    from {mirror} and put them in {folder}/").format(
                               name=name, files=", ".join(missing), mirror=cls.mirrors[0],
                               folder=folder))
    print(f"  {'FILE.csv':18s}" + _("any CSV with a header: chainrule train --dataset FILE.csv "
                                    "--target COLUMN"))
    if hints:
        print("\n" + _("to get the missing data sets:"))
        print("\n".join(hints))
    return 0


def download(name, data_dir):
    if name not in data_sources.IDX_CLASSES:
        choices = ", ".join(data_sources.IDX_CLASSES)
        if name in data_sources.PRESETS:
            raise CLIError(_("{name} needs no download; only {choices} do").format(
                name=name, choices=choices))
        raise CLIError(_("cannot download {name!r}; choose one of {choices}").format(
            name=name, choices=choices))
    from ..vision.datasets import DownloadError
    cls = data_sources.idx_dataset_class(name)
    folder = data_sources.idx_folder(name, data_dir)
    for train in (True, False):
        try:
            cls(data_dir, train=train, download=True)
        except DownloadError:
            raise CLIError(_("could not download {name} (no internet?); get {files} from "
                             "{mirror} by hand and put them in {folder}/").format(
                name=name, files=", ".join(_files(cls)), mirror=cls.mirrors[0],
                folder=folder)) from None
        except (ValueError, OSError) as err:
            raise CLIError(_("{name} in {folder} is damaged ({error}); delete the folder and "
                             "download again").format(name=name, folder=folder,
                                                      error=err)) from None
    print(_("{name} is ready in {folder}").format(name=name, folder=folder))
    return 0


def run(args):
    data_dir = args.data_dir or data_sources.default_data_dir()
    if args.action == "download":
        if not args.name:
            raise CLIError(_("say which data set to download: chainrule datasets download "
                             "fashion-mnist (or mnist)"))
        return download(args.name, data_dir)
    if args.name:
        raise CLIError(_("unexpected {name!r}; to fetch it: chainrule datasets download "
                         "{name}").format(name=args.name))
    return list_datasets(data_dir)
