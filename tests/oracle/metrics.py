"""Independent numpy oracle for the ZSL / GZSL metrics (tests/eval_test.ts).

Written from Xian et al.'s definitions as DSVA's code computes them
(`visual_utils.compute_per_class_acc[_gzsl]`, `main_utils.calibrated_stacking`): argmax over the
candidate columns (numpy's first-max rule), per-class accuracy `np.sum(correct) / np.sum(idx)`,
mean = Python `sum(list) / len(list)`, H = 2*U*S/(U+S). Everything in float64.

The seen-unseen curve is computed by brute force: the critical gammas are np.unique of
max_seen - max_unseen, and at one gamma inside every interval the scores are calibrated
(`out[:, seen] -= gamma`) and re-classified from scratch. AUSUC is returned twice: summed term by
term in a Python loop (same order as the TS code: exact) and by np.trapezoid (pairwise sum).

stdin: {"cases": [{scores (flat), rows, cols, labels, seen, unseen, gammas, skip, retain}]}
stdout: one result object per case.
"""
import json
import sys

import numpy as np


def per_class_mean(labels, pred, classes, skip):
    acc = []
    for c in classes:
        idx = labels == c
        if np.sum(idx) == 0:
            if skip:
                continue
            raise ValueError(f"class {c} has no images")
        acc.append(np.sum(labels[idx] == pred[idx]) / np.sum(idx))
    return sum(acc) / len(acc)


def gzsl_at(scores, labels, seen, unseen, gamma, skip, dtype=np.float64):
    out = scores.astype(dtype)  # float32: numpy float32 minus a Python float stays float32
    out[:, seen] = out[:, seen] - gamma
    pred = np.argmax(out, axis=1)
    s = per_class_mean(labels, pred, seen, skip)
    u = per_class_mean(labels, pred, unseen, skip)
    h = 0.0 if s + u == 0 else 2 * u * s / (u + s)
    return s, u, h, pred


def run(case):
    scores = np.asarray(case["scores"], dtype=np.float64).reshape(case["rows"], case["cols"])
    labels = np.asarray(case["labels"], dtype=np.int64)
    seen = np.sort(np.asarray(case["seen"], dtype=np.int64))
    unseen = np.sort(np.asarray(case["unseen"], dtype=np.int64))
    skip = case["skip"]
    res = {}

    # ZSL on the unseen-class images, unseen candidates only.
    zrows = np.isin(labels, unseen)
    zl = labels[zrows]
    zpred = unseen[np.argmax(scores[zrows][:, unseen], axis=1)]
    res["zsl"] = per_class_mean(zl, zpred, unseen, skip)
    res["zsl_pred"] = zpred.tolist()

    res["gzsl"] = []
    for g in case["gammas"]:
        s, u, h, pred = gzsl_at(scores, labels, seen, unseen, g, skip)
        res["gzsl"].append({"S": s, "U": u, "H": h, "pred": pred.tolist()})
    res["gzsl32"] = []
    for g in case["gammas"]:
        s, u, h, pred = gzsl_at(scores, labels, seen, unseen, g, skip, np.float32)
        res["gzsl32"].append({"S": s, "U": u, "H": h, "pred": pred.tolist()})

    d = scores[:, seen].max(axis=1) - scores[:, unseen].max(axis=1)
    crit = np.unique(d)
    m = len(crit)
    gap = (crit[-1] - crit[0]) / (m - 1) if m >= 2 else 1.0
    reps = [crit[0] - gap]
    reps += [crit[j - 1] + (crit[j] - crit[j - 1]) / 2 for j in range(1, m)]
    reps += [crit[-1] + gap]
    S, U, H = [], [], []
    for g in reps:
        s, u, h, _ = gzsl_at(scores, labels, seen, unseen, g, skip)
        S.append(s)
        U.append(u)
        H.append(h)
    seq = 0.0
    for j in range(m):
        seq += (U[j + 1] - U[j]) * (S[j] + S[j + 1]) / 2
    res["curve"] = {
        "crit": crit.tolist(),
        "gamma": [float(g) for g in reps],
        "S": S,
        "U": U,
        "H": H,
        "ausuc_seq": seq,
        "ausuc_np": float(np.trapezoid(np.asarray(S), np.asarray(U))),
    }

    # seen-retention gamma on the seen-class images: the last interval with at most
    # floor((1 - retain) * n) images switched to an unseen class.
    sr = np.isin(labels, seen)
    ds = np.sort(d[sr])
    n = len(ds)
    k = int(np.floor((1 - case["retain"]) * n + 1e-9))
    cs = np.unique(ds)
    switched = [int(np.sum(ds <= v)) for v in cs]  # after gamma passes cs[j]
    j = 0
    while j < len(cs) and switched[j] <= k:
        j += 1
    mg = (cs[-1] - cs[0]) / (len(cs) - 1) if len(cs) >= 2 else 1.0
    if j == 0:
        gamma = cs[0] - mg
    elif j == len(cs):
        gamma = cs[-1] + mg
    else:
        gamma = cs[j - 1] + (cs[j] - cs[j - 1]) / 2
    res["retention"] = {"gamma": float(gamma), "switched": 0 if j == 0 else switched[j - 1], "n": n}
    return res


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump([run(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
