"""Solve a `tandem bench` instance file with scipy's linear_sum_assignment.

Usage: python3 scipy_lsa.py FILE CAPACITY

FILE: little-endian int32 rows, int32 cols, then rows*cols int32 costs in
row order (rows are mentees, cols mentors). Each mentor column is repeated
CAPACITY times, which turns the capacitated problem into the plain
rectangular assignment scipy solves (as many rows as possible, then the
least total cost). Prints one line:

    cost=<total> assigned=<rows assigned> seconds=<linear_sum_assignment only>

The matrix is converted to float64 (scipy's working type) before the clock
starts, so the time is the solver's alone: scipy's best case.
"""

import sys
import time

import numpy as np
from scipy.optimize import linear_sum_assignment


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: scipy_lsa.py FILE CAPACITY")
    path, capacity = argv[1], int(argv[2])
    if capacity <= 0:
        sys.exit("capacity must be positive")
    raw = np.fromfile(path, dtype="<i4")
    if raw.size < 2:
        sys.exit(f"{path}: short header")
    rows, cols = int(raw[0]), int(raw[1])
    if rows <= 0 or cols <= 0 or raw.size != 2 + rows * cols:
        sys.exit(f"{path}: {raw.size * 4} bytes do not hold a {rows}x{cols} matrix")
    cost = raw[2:].reshape(rows, cols)
    if capacity > 1:
        cost = np.repeat(cost, capacity, axis=1)
    work = np.ascontiguousarray(cost, dtype=np.float64)
    del raw

    start = time.perf_counter()
    r, c = linear_sum_assignment(work)
    seconds = time.perf_counter() - start

    total = int(cost[r, c].sum(dtype=np.int64))
    print(f"cost={total} assigned={len(r)} seconds={seconds:.6f}")


if __name__ == "__main__":
    main(sys.argv)
