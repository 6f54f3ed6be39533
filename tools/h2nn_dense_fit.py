#!/usr/bin/env python3
"""h2nn_dense_fit.py — the dense linear baseline for an h2nn input file: the
least-squares N x N matrix W minimising sum_s ||W q_s - w*_s||^2 over the
training set (float64, numpy's lstsq), then its mean relative error
mean_s ||W q_s - w*_s|| / ||w*_s|| on the training and test sets — the same
measure h2nn_mpi reports.  For a linear operator and enough samples
(Ns_train >= N) this recovers the operator up to the data's float32
rounding: a scale for what a learned operator could reach.

  tools/h2nn_dense_fit.py FILE.h5 [--max-train S]

Prints one JSON line {"train_error":..., "test_error":..., "N":..., "train_samples":...}.
Needs python3-numpy and python3-h5py (runscripts/setup.sh installs them)."""
import argparse
import json
import sys

import h5py
import numpy as np


def rel_error(pred, target):
    return float(np.mean(np.linalg.norm(pred - target, axis=1) / np.linalg.norm(target, axis=1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--max-train", type=int, default=0, help="use at most S training samples (0 = all)")
    a = ap.parse_args()
    try:
        with h5py.File(a.file, "r") as f:
            q, w = f["/train/input"], f["/train/output"]
            n_tr = q.shape[0] if a.max_train <= 0 else min(a.max_train, q.shape[0])
            Q = np.asarray(q[:n_tr], dtype=np.float64)
            Wt = np.asarray(w[:n_tr], dtype=np.float64)
            Qt = np.asarray(f["/test/input"][:], dtype=np.float64)
            Wtt = np.asarray(f["/test/output"][:], dtype=np.float64)
    except (OSError, KeyError) as e:
        sys.exit(f"h2nn_dense_fit: {a.file}: {e}")
    if Q.shape[0] < Q.shape[1]:
        print(f"h2nn_dense_fit: warning: {Q.shape[0]} training samples < N = {Q.shape[1]}: the fit is underdetermined",
              file=sys.stderr)
    # rows are samples: Q X = W*, X = W^T (N x N)
    X, *_ = np.linalg.lstsq(Q, Wt, rcond=None)
    print(json.dumps({"N": Q.shape[1], "train_samples": Q.shape[0], "train_error": rel_error(Q @ X, Wt),
                      "test_error": rel_error(Qt @ X, Wtt)}))


if __name__ == "__main__":
    main()
