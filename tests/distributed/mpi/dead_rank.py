"""Run under mpiexec -n 2: rank 1 leaves the job (MODE 'exit') or stops calling
collectives (MODE 'hang') while rank 0 waits in an allreduce with a 1 s timeout.
Usage: dead_rank.py MODE"""
import os
import sys
import time

import chainrule as cr
import chainrule.distributed as dist

dist.init_process_group("mpi", timeout=1.0)
if dist.get_rank() == 1:
    if sys.argv[1] == "exit":
        os._exit(3)
    time.sleep(60)
t = cr.ones(3)
dist.all_reduce(t)
print("all_reduce returned without rank 1", flush=True)
