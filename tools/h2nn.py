#!/usr/bin/env python3
"""h2nn.py — apply a trained h2nn checkpoint from Python (numpy + h5py).

A second, independent implementation of the network's forward pass, written
from the checkpoint layout of docs/design.md §5.2 alone (no code shared with
the C program): the inputs are given and the outputs returned in the
original point order of the input file, with the normalisation of §3.2 and
the optional output mean applied, exactly as `h2nn_mpi --predict` does.

As a library (put tools/ on sys.path):

    import h2nn
    op = h2nn.load("run.ckpt.h5")
    w = op.apply(q)            # q: (N,) or (samples, N), original order

As a program (the prediction file of docs/design.md §5.4):

    python3 tools/h2nn.py CKPT.h5 INPUT.h5 --output PRED.h5 [--set test|train|all]

The computation is in float64 (the C program computes in float32), so the
two agree to float32 rounding, not bitwise.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np

FORMAT_VERSION = 1
ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "linear": lambda x: x,
}


class CheckpointError(ValueError):
    """The checkpoint is not one this module can read; the message names the file and the dataset."""


class _Map:
    """One block-sparse map (docs/design.md §2.4) on the boxes of one level.

    rows[i] = (cols, W_1 .. W_zeta row blocks, b_1 .. b_zeta): for every
    layer k the blocks of row i side by side, an (out_i x sum in_j) matrix,
    so a layer is one product per row with the stacked inputs."""

    def __init__(self, path, grp, widths, zeta):
        rowptr = _dataset(path, grp, "rowptr", np.int64, 1)
        col = _dataset(path, grp, "col", np.int64, 1)
        nboxes = widths.shape[1]
        if rowptr.shape[0] != nboxes + 1 or rowptr[0] != 0 or rowptr[-1] != col.shape[0] or np.any(np.diff(rowptr) < 0):
            raise CheckpointError(f"{path}: {grp.name}/rowptr is not a CSR row pointer over {nboxes} boxes")
        if col.size and (col.min() < 0 or col.max() >= nboxes):
            raise CheckpointError(f"{path}: {grp.name}/col has a box outside 0..{nboxes - 1}")
        self.nboxes = nboxes
        self.active = col.size > 0 and "layer_1" in grp
        self.rows = []
        if not self.active:
            return
        layers = []
        for k in range(1, zeta + 1):
            wo, wi = widths[k], widths[k - 1]
            W = _dataset(path, grp, f"layer_{k}/W", np.float32, 1).astype(np.float64)
            b = _dataset(path, grp, f"layer_{k}/b", np.float32, 1).astype(np.float64)
            need_W = sum(int(wo[i]) * int(wi[col[rowptr[i]:rowptr[i + 1]]].sum()) for i in range(nboxes))
            if W.size != need_W or b.size != int(wo.sum()):
                raise CheckpointError(f"{path}: {grp.name}/layer_{k} has {W.size} weights and {b.size} biases, "
                                      f"expected {need_W} and {int(wo.sum())} for this pattern and these widths")
            rows, pw, pb = [], 0, 0
            for i in range(nboxes):
                blocks = []
                for e in range(rowptr[i], rowptr[i + 1]):
                    n = int(wo[i]) * int(wi[col[e]])
                    blocks.append(W[pw:pw + n].reshape(int(wo[i]), int(wi[col[e]])))  # block row-major out x in
                    pw += n
                Wrow = np.hstack(blocks) if blocks else np.zeros((int(wo[i]), 0))
                rows.append((Wrow, b[pb:pb + wo[i]][:, None]))
                pb += int(wo[i])
            layers.append(rows)
        self.rows = [(col[rowptr[i]:rowptr[i + 1]], [layers[k][i] for k in range(zeta)]) for i in range(nboxes)]

    def apply(self, z0, act, out_width, ns):
        """z0: list over boxes of (width x ns) arrays; returns the map's output per box."""
        if not self.active:
            return [np.zeros((int(out_width[i]), ns)) for i in range(self.nboxes)]
        z = z0
        zeta = len(self.rows[0][1]) if self.rows else 0
        for k in range(zeta):
            nxt = []
            for i in range(self.nboxes):
                cols, per_layer = self.rows[i]
                Wrow, b = per_layer[k]
                x = np.vstack([z[j] for j in cols]) if len(cols) else np.zeros((0, ns))
                y = Wrow @ x + b
                nxt.append(act(y) if k < zeta - 1 else y)  # the last layer has no activation
            z = nxt
        return z


def _dataset(path, grp, name, dtype, ndim):
    if name not in grp:
        raise CheckpointError(f"{path}: no dataset {grp.name.rstrip('/')}/{name} (not an h2nn checkpoint, or damaged)")
    d = grp[name]
    if not isinstance(d, h5py.Dataset) or d.ndim != ndim or d.dtype != np.dtype(dtype):
        raise CheckpointError(f"{path}: {d.name} is not a {ndim}-D {np.dtype(dtype).name} dataset")
    return d[()]


def _attr(path, grp, name, kind):
    if name not in grp.attrs:
        raise CheckpointError(f"{path}: /model has no attribute {name} (not an h2nn checkpoint?)")
    v = grp.attrs[name]
    if kind is str:
        return v.decode() if isinstance(v, bytes) else str(v)
    return kind(np.asarray(v).reshape(()))


class Operator:
    """A trained h2nn network read from a checkpoint (docs/design.md §5.2)."""

    def __init__(self, path):
        self.path = path
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            raise CheckpointError(f"{path}: cannot open as HDF5 ({e})") from None
        with f:
            if "model" not in f:
                raise CheckpointError(f"{path}: not an h2nn checkpoint (no /model group)")
            g = f["model"]
            version = _attr(path, g, "format_version", int)
            if version != FORMAT_VERSION:
                raise CheckpointError(f"{path}: checkpoint format {version}, this module reads {FORMAT_VERSION}")
            self.N, self.d = _attr(path, g, "N", int), _attr(path, g, "d", int)
            self.L, self.lmin = _attr(path, g, "L", int), _attr(path, g, "lmin", int)
            self.r, self.zeta = _attr(path, g, "rank", int), _attr(path, g, "zeta", int)
            self.close_hidden = _attr(path, g, "close_hidden", int)
            self.far_hidden = _attr(path, g, "far_hidden", int)
            self.input_scale = _attr(path, g, "input_scale", float)
            self.output_scale = _attr(path, g, "output_scale", float)
            self.activation = _attr(path, g, "activation", str)
            if self.activation not in ACTIVATIONS:
                raise CheckpointError(f"{path}: unknown activation '{self.activation}' in /model")
            if not (self.N >= 1 and 1 <= self.d <= 3 and self.L >= 0 and self.r >= 1 and self.zeta >= 1
                    and self.input_scale > 0 and self.output_scale > 0):
                raise CheckpointError(f"{path}: damaged checkpoint (invalid /model attributes)")
            N, L, r, zeta = self.N, self.L, self.r, self.zeta

            self.perm = _dataset(path, g, "perm", np.int64, 1)
            if self.perm.shape != (N,) or not np.array_equal(np.sort(self.perm), np.arange(N)):
                raise CheckpointError(f"{path}: /model/perm is not a permutation of 0..{N - 1}")
            self.leaf_sizes = _dataset(path, g, "leaf_sizes", np.int64, 1)
            if self.leaf_sizes.shape != (1 << L,) or self.leaf_sizes.sum() != N or self.leaf_sizes.min() < 1:
                raise CheckpointError(f"{path}: /model/leaf_sizes does not split {N} points into 2^L = {1 << L} leaves")
            self.points = _dataset(path, g, "points", np.float64, 2)
            if self.points.shape != (N, self.d):
                raise CheckpointError(f"{path}: /model/points is not N x d = {N} x {self.d}")
            self.output_mean = _dataset(path, g, "output_mean", np.float64, 1) if "output_mean" in g else None
            if self.output_mean is not None and self.output_mean.shape != (N,):
                raise CheckpointError(f"{path}: /model/output_mean does not have N = {N} values")
            self.leaf_start = np.concatenate(([0], np.cumsum(self.leaf_sizes)))

            # widths per layer and box (docs/design.md §2.4): own width in and out, hidden in between
            n = self.leaf_sizes
            self.close_widths = np.array([n if k in (0, zeta) or self.close_hidden <= 0
                                          else np.full(1 << L, self.close_hidden) for k in range(zeta + 1)])
            if "close" not in g:
                raise CheckpointError(f"{path}: no group /model/close")
            self.close = _Map(path, g["close"], self.close_widths, zeta)
            if not self.close.active:
                raise CheckpointError(f"{path}: /model/close has no layers")

            self.has_far = self.lmin <= L
            self.far, self.far_widths = {}, {}
            self.T, self.S = {}, {}
            if self.has_far:
                if self.lmin < 0:
                    raise CheckpointError(f"{path}: damaged checkpoint (lmin = {self.lmin})")
                for l in range(self.lmin, L + 1):
                    name = f"far/level_{l}"
                    if name not in g:
                        raise CheckpointError(f"{path}: no group /model/{name}")
                    w = np.array([np.full(1 << l, r if (k in (0, zeta) or self.far_hidden <= 0) else self.far_hidden)
                                  for k in range(zeta + 1)])
                    self.far_widths[l] = w
                    self.far[l] = _Map(path, g[name], w, zeta)
                V = _dataset(path, g, "leaf_V", np.float32, 1).astype(np.float64)
                U = _dataset(path, g, "leaf_U", np.float32, 1).astype(np.float64)
                if V.size != r * N or U.size != r * N:
                    raise CheckpointError(f"{path}: /model/leaf_V and leaf_U must hold r N = {r * N} values")
                s = self.leaf_start
                self.Vt = [V[r * s[k]:r * s[k + 1]].reshape(r, int(n[k])) for k in range(1 << L)]
                self.Ut = [U[r * s[k]:r * s[k + 1]].reshape(int(n[k]), r) for k in range(1 << L)]
                for l in range(self.lmin + 1, L + 1):
                    for key, store in (("transfer_up", self.T), ("transfer_down", self.S)):
                        a = _dataset(path, g, f"{key}/level_{l}", np.float32, 1).astype(np.float64)
                        if a.size != (r * r) << l:
                            raise CheckpointError(f"{path}: /model/{key}/level_{l} must hold 2^{l} r^2 values")
                        store[l] = a.reshape(1 << l, r, r)

    def apply(self, q):
        """The network applied to inputs q (N,) or (samples, N) in original point order."""
        q = np.asarray(q, dtype=np.float64)
        one = q.ndim == 1
        q2 = q[None, :] if one else q
        if q2.ndim != 2 or q2.shape[1] != self.N:
            raise ValueError(f"apply: expected inputs of shape (N,) or (samples, N) with N = {self.N}, got {q.shape}")
        ns = q2.shape[0]
        act = ACTIVATIONS[self.activation]
        L, s = self.L, self.leaf_start
        qt = (q2[:, self.perm] / self.input_scale).T          # tree order, N x ns
        qleaf = [qt[s[k]:s[k + 1]] for k in range(1 << L)]    # n_k x ns per leaf
        w = self.close.apply(qleaf, act, self.close_widths[self.zeta], ns)
        if self.has_far:
            # leaf projection and upward transfers: qh[l][box] (r x ns)
            qh = {L: [self.Vt[k] @ qleaf[k] for k in range(1 << L)]}
            for l in range(L - 1, self.lmin - 1, -1):
                T = self.T[l + 1]
                qh[l] = [T[2 * p] @ qh[l + 1][2 * p] + T[2 * p + 1] @ qh[l + 1][2 * p + 1] for p in range(1 << l)]
            # far maps, then downward transfers into the next level's far output
            wh = self.far[self.lmin].apply(qh[self.lmin], act, self.far_widths[self.lmin][self.zeta], ns)
            for l in range(self.lmin, L):
                S = self.S[l + 1]
                below = self.far[l + 1].apply(qh[l + 1], act, self.far_widths[l + 1][self.zeta], ns)
                wh = [below[c] + S[c] @ wh[c // 2] for c in range(1 << (l + 1))]
            w = [w[k] + self.Ut[k] @ wh[k] for k in range(1 << L)]
        wt = np.vstack(w)                                    # N x ns, tree order
        out = np.empty((ns, self.N))
        out[:, self.perm] = wt.T * self.output_scale
        if self.output_mean is not None:
            out += self.output_mean[None, :]
        return out[0] if one else out


def load(path):
    """Read checkpoint `path`; returns an Operator (raises CheckpointError naming the culprit)."""
    return Operator(path)


def mean_relative_error(pred, target):
    """mean over samples of ||pred - target|| / ||target|| (docs/design.md §3.1)."""
    pred, target = np.atleast_2d(pred), np.atleast_2d(target)
    return float(np.mean(np.linalg.norm(pred - target, axis=1) / np.linalg.norm(target, axis=1)))


def _predict_file(op, input_path, output_path, sets, chunk):
    try:
        fin = h5py.File(input_path, "r")
    except OSError as e:
        raise CheckpointError(f"{input_path}: cannot open as HDF5 ({e})") from None
    results = {}
    tmp = f"{output_path}.tmp.{os.getpid()}"
    try:
        with fin, h5py.File(tmp, "w") as fout:
            if "points" not in fin:
                raise CheckpointError(f"{input_path}: no dataset /points")
            pts = np.asarray(fin["points"][()], dtype=np.float64)
            if pts.ndim == 1:
                pts = pts[:, None]
            if pts.shape != op.points.shape:
                raise CheckpointError(f"{op.path} was trained on {op.N} points in {op.d}-D, but {input_path} has "
                                      f"{pts.shape[0]} points in {pts.shape[1]}-D")
            diff = np.max(np.abs(pts - op.points))
            if diff > 1e-12 * max(np.max(np.abs(pts)), 1e-300):
                raise CheckpointError(f"{op.path} was trained on other points than /points of {input_path} "
                                      f"(max difference {diff:g})")
            for name in sets:
                if f"{name}/input" not in fin:
                    raise CheckpointError(f"{input_path}: no dataset /{name}/input")
                dq = fin[f"{name}/input"]
                if dq.ndim != 2 or dq.shape[1] != op.N:
                    raise CheckpointError(f"{input_path}: /{name}/input is not samples x N = ... x {op.N}")
                ns = dq.shape[0]
                dp = fout.create_dataset(f"{name}/prediction", shape=(ns, op.N), dtype=np.float32)
                target = fin[f"{name}/output"] if f"{name}/output" in fin else None
                err_sum = 0.0
                for s0 in range(0, ns, chunk):
                    q = dq[s0:s0 + chunk].astype(np.float64)
                    if not np.all(np.isfinite(q)):
                        raise CheckpointError(f"{input_path}: /{name}/input has a non-finite value")
                    w = op.apply(q)
                    dp[s0:s0 + chunk] = w.astype(np.float32)
                    if target is not None:
                        t = target[s0:s0 + chunk].astype(np.float64)
                        err_sum += mean_relative_error(w, t) * w.shape[0]
                results[name] = {"samples": ns, "error": err_sum / ns if target is not None and ns else None}
            fout.attrs["checkpoint"] = op.path
            fout.attrs["input"] = input_path
        os.replace(tmp, output_path)  # complete files only under the final name
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="h2nn.py",
        description="Apply an h2nn checkpoint to the inputs of an h2nn input file (original point order) and "
                    "write the predictions, like h2nn_mpi --predict, with an independent numpy implementation.")
    ap.add_argument("checkpoint", help="checkpoint written by h2nn_mpi --checkpoint")
    ap.add_argument("input", help="input file with /points and /test/input (and /train/input for --set train|all)")
    ap.add_argument("--output", required=True, help="prediction file to write: /<set>/prediction, float32 samples x N")
    ap.add_argument("--set", choices=("test", "train", "all"), default="test",
                    help="which inputs to predict (default: test; all = test and train)")
    ap.add_argument("--chunk", type=int, default=256, help="samples per batch (memory vs speed; default 256)")
    a = ap.parse_args(argv)
    if a.chunk < 1:
        ap.error("--chunk must be at least 1")
    sets = ["test", "train"] if a.set == "all" else [a.set]
    try:
        op = load(a.checkpoint)
        res = _predict_file(op, a.input, a.output, sets, a.chunk)
    except (CheckpointError, OSError) as e:
        print(f"h2nn.py: error: {e}", file=sys.stderr)
        return 1
    for name in sets:
        r = res[name]
        err = "no /{}/output: no error reported".format(name) if r["error"] is None else f"mean relative error {r['error']:.8g}"
        print(f"h2nn.py: {name}: {r['samples']} samples, {err}")
    summary = {"mode": "predict", "samples": sum(r["samples"] for r in res.values())}
    for name in sets:
        summary[f"{name}_error"] = res[name]["error"]
    print(json.dumps(summary, separators=(",", ":")))  # one line, like h2nn_mpi's
    return 0


if __name__ == "__main__":
    sys.exit(main())
