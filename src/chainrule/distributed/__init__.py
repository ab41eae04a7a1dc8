"""chainrule.distributed: torch.distributed's process group and collectives on MPI.

Start the processes with MPI (`mpiexec -n 4 python train.py`, or a hostfile on a
cluster), then call init_process_group() in each. Needs the `chainrule[mpi]` extra."""
from .process_group import (DistributedTimeoutError, ReduceOp, all_gather, all_reduce,
                            barrier, broadcast, communication_stats,
                            destroy_process_group, get_backend, get_rank, get_world_size,
                            init_process_group, is_available, is_initialized)

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "get_rank", "get_world_size", "get_backend", "barrier", "all_reduce",
           "broadcast", "all_gather", "ReduceOp", "DistributedTimeoutError",
           "communication_stats"]
