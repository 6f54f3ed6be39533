#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# python_predict.sh PYTHON — tools/h2nn.py, the independent numpy forward
# pass written from the checkpoint layout (docs/design.md §5.2, §6.7),
# against `h2nn_mpi --predict`, on checkpoints trained here with model-parallel
# ranks, two of them with several far levels:
#   1-D: 500 random points (ragged leaves of 15-16, far levels 2..5), relu,
#        zeta 3, --center-output (/model/output_mean), trained on 8 ranks
#        as 1 x 8 (the coarse tree above level 3 spans ranks);
#   2-D: a 32 x 32 grid (far levels 3..6), tanh, zeta 2, hidden widths
#        20 (close) and 12 (far) unlike the boxes' own, --input-scale 3,
#        trained on 4 ranks as 2 x 2;
#   and a network without far field (64 points, two leaves: lmin = L + 1,
#        no leaf bases or transfers in the file), trained on 2 ranks as 1 x 2.
# For each: the CLI's /test/prediction and /train/prediction (--set all) and
# the API's op.apply on the test inputs equal the program's predictions to
# 1e-5 relative (per sample, ||py - c|| / ||c||), while the same measure
# between different samples (a control: the comparison can fail) is above
# 1e-2; both report the same test error.  Also: the CLI refuses an
# input file whose points differ from the checkpoint's (exit 1, one
# "h2nn.py: error:" line naming both files) and leaves no output file.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
[ ${#ARGS[@]} -eq 1 ] || fail "usage: python_predict.sh ... -- PYTHON"
PY=${ARGS[0]}
TOOL=$SCRIPT_DIR/../../tools/h2nn.py
[ -f "$TOOL" ] || fail "tools/h2nn.py not found at $TOOL"
"$PY" -c 'import numpy, h5py' 2> py.err || fail "$PY cannot import numpy and h5py (Debian: python3-numpy python3-h5py): $(cat py.err)"

# compare.py CKPT C_PRED PY_PRED INPUT — exit 0 iff every sample agrees to 1e-5
cat > compare.py <<EOF
import sys
import h5py, numpy as np
sys.path.insert(0, "$SCRIPT_DIR/../../tools")
import h2nn
ckpt, cfile, pyfile, inp = sys.argv[1:5]
TOL = 1e-5
def worst(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape and a.shape[0] > 0, (a.shape, b.shape)
    return float(np.max(np.linalg.norm(a - b, axis=1) / np.linalg.norm(b, axis=1)))
with h5py.File(cfile, "r") as c, h5py.File(pyfile, "r") as p, h5py.File(inp, "r") as f:
    errs = {s: worst(p[s + "/prediction"][()], c[s + "/prediction"][()]) for s in ("test", "train")}
    op = h2nn.load(ckpt)
    errs["api"] = worst(op.apply(f["test/input"][()]), c["test/prediction"][()])
    one = op.apply(f["test/input"][0])
    assert one.shape == (op.N,)
    errs["api_1"] = worst(one[None, :], c["test/prediction"][0:1])
    # control: the same measure between different samples must be large
    control = worst(p["test/prediction"][()], np.roll(c["test/prediction"][()], 1, axis=0))
print(" ".join(f"{k}={v:.3g}" for k, v in errs.items()), f"(control, samples shifted: {control:.3g})")
sys.exit(0 if max(errs.values()) <= TOL and control > 1e-2 else 1)
EOF

# case TAG NP GEN_ARGS -- TRAIN_ARGS
check_case() {
  local tag=$1 np=$2
  shift 2
  local gen=() train=()
  while [ "$1" != "--" ]; do gen+=("$1"); shift; done
  shift
  train=("$@")
  run_ok 2 "$tag.gen" "$H2NN_GEN" "${gen[@]}" --samples 90 --seed 3 --output "$tag.h5"
  run_ok "$np" "$tag.train" "$H2NN_MPI" "${train[@]}" --iterations 30 --batch-size 16 \
    --eval-every 0 --checkpoint "$tag.ckpt.h5" "$tag.h5"
  run_ok 1 "$tag.pred" "$H2NN_MPI" --predict "$tag.ckpt.h5" --all --output "$tag.c.h5" "$tag.h5"
  grep -q "model_parallel\":[2-9]" "$tag.train.out" || fail "$tag: training was not model-parallel: $(grep '^{' "$tag.train.out")"
  local rc=0
  "$PY" "$TOOL" "$tag.ckpt.h5" "$tag.h5" --output "$tag.py.h5" --set all > "$tag.py.out" 2> "$tag.py.err" || rc=$?
  [ "$rc" -eq 0 ] || fail "$tag: h2nn.py exited $rc: $(cat "$tag.py.err")"
  "$PY" compare.py "$tag.ckpt.h5" "$tag.c.h5" "$tag.py.h5" "$tag.h5" > "$tag.cmp" 2>&1 \
    || fail "$tag: h2nn.py differs from h2nn_mpi --predict by more than 1e-5: $(cat "$tag.cmp")"
  note "$tag: worst per-sample relative difference $(cat "$tag.cmp")"
  local c_err py_err
  c_err=$(json_field test_error "$tag.pred.out")
  py_err=$(json_field test_error "$tag.py.out")
  is_finite_number "$py_err" || fail "$tag: h2nn.py reported no test error: $(cat "$tag.py.out")"
  rel_close "$c_err" "$py_err" 1e-5 || fail "$tag: test error $py_err (h2nn.py) vs $c_err (h2nn_mpi --predict)"
}

check_case d1 8 kernel --dim 1 --geometry random --n 500 --kernel log -- \
  --leaf-size 16 --rank 6 --zeta 3 --center-output --model-parallel 8
check_case d0 2 kernel --dim 1 --geometry grid --n 64 --kernel gaussian -- \
  --leaf-size 32 --rank 4 --zeta 2 --model-parallel 2
check_case d2 4 kernel --dim 2 --geometry grid --n 1024 --kernel inverse -- \
  --leaf-size 16 --rank 8 --zeta 2 --activation tanh --close-hidden 20 --far-hidden 12 --input-scale 3 \
  --model-parallel 2

# the far levels the cases claim
"$PY" - d1.ckpt.h5 d2.ckpt.h5 d0.ckpt.h5 <<'EOF' || fail "checkpoints do not have the structure this test claims"
import sys, h5py
for path, want_lmin, want_L in zip(sys.argv[1:], (2, 3, 2), (5, 6, 1)):
    with h5py.File(path, "r") as f:
        a = f["model"].attrs
        assert (int(a["lmin"]), int(a["L"])) == (want_lmin, want_L), (path, int(a["lmin"]), int(a["L"]))
EOF

# wrong geometry: one clear error naming both files, no output left behind
rc=0
"$PY" "$TOOL" d1.ckpt.h5 d2.h5 --output bad.h5 > bad.out 2> bad.err || rc=$?
[ "$rc" -eq 1 ] || fail "h2nn.py with another geometry: exit $rc, expected 1"
[ "$(grep -c '^h2nn.py: error:' bad.err)" -eq 1 ] || fail "expected one 'h2nn.py: error:' line: $(cat bad.err)"
{ grep -q "d1.ckpt.h5" bad.err && grep -q "d2.h5" bad.err; } || fail "error does not name both files: $(cat bad.err)"
[ ! -e bad.h5 ] || fail "h2nn.py left bad.h5 after an error"
ls bad.h5.tmp.* > /dev/null 2>&1 && fail "h2nn.py left a temporary file after an error"
note "ok"
