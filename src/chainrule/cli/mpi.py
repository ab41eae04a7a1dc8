"""`mpiexec -n N chainrule train ...`: every rank runs the same command; fit sees the
process group and trains data-parallel. Rank 0 alone prints and writes the run folder;
the other ranks work in a private temporary folder (a copy of the run being resumed, so
they read the same checkpoint), removed when they finish."""
import atexit
import os
import shutil
import tempfile

from ..runtime.i18n import _

_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def launched_by_mpi():
    """The number of ranks mpiexec started, or 1 for a plain start."""
    for name in _SIZE_VARS:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return int(value)
    return 1


def join(args, resume_folder):
    """Join the MPI job when started by mpiexec on several ranks; on ranks > 0 point the
    command's output at a private folder. Returns (rank, world size)."""
    if launched_by_mpi() == 1:
        return 0, 1
    from .. import distributed as dist
    from ._common import CLIError
    try:
        if not dist.is_initialized():
            dist.init_process_group("mpi")
    except ImportError:  # said here, where the command line's language applies
        raise CLIError(_("mpiexec started {n} ranks, but training on several ranks needs "
                         "mpi4py and an MPI library; install them with: pip install "
                         "'chainrule[mpi]'").format(n=launched_by_mpi())) from None
    rank, world = dist.get_rank(), dist.get_world_size()
    if rank > 0:
        private = tempfile.mkdtemp(prefix=f"chainrule-rank{rank}-")
        atexit.register(shutil.rmtree, private, True)
        args.quiet, args.overwrite = True, False
        if resume_folder is not None:
            copy = os.path.join(private, os.path.basename(os.path.normpath(resume_folder)))
            shutil.copytree(resume_folder, copy)
            args.resume, args.out, args.name = copy, private, None
        else:
            args.out, args.name = private, "run"
    return rank, world
