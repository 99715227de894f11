"""Reference DSVA forward + losses for tests/dsva_test.ts, written from
../shared/reference/dsva.md (§2 model, §3 Attention Concentration, §4 losses), following the
official `CLIP_proto` / `Loss_fn` as described there, with plain torch ops.

The backbone is a Hugging Face CLIP vision transformer written out here (pre_layrnorm, pre-norm
blocks, tokens = last_hidden_state without post_layernorm), reading HF CLIP parameter names under
the `backbone.` prefix. Prototypes are `prototypes` [K, D] (used as the official conv1d weight
[K, D, 1]); the ALE head is `ale.0` (LayerNorm) and `ale.1` (Linear).

stdin JSON: {"cases": [case, ...]}, each case:
  {"dir": str,                       # holds weights.safetensors and inputs.safetensors
   "vit": {"patch_size", "num_heads", "act": "quick_gelu"|"gelu", "eps"},
   "groups": [[int, ...], ...], "thr": float, "pro_weight": float, "use_ac": bool,
   "weights": {"xe", "attri", "xe_pro", "l_xe", "l_attri", "cpt", "l_regular", "regular"},
   "ce_on_probabilities": bool, "grads": [param name, ...]}
inputs.safetensors: pixels [B,3,H,W] f32, att [C,K] f32 (rows = classes), labels [B] i64.
Writes <dir>/ref.safetensors; prints {"ok": true}.
"""
import json
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from skimage import measure

torch.set_num_threads(1)


def attend(q, k, v):
    """Multi-head attention as HF's eager CLIP computes it; bench/train_baseline.py swaps in
    scaled_dot_product_attention (vit_tokens looks this up at call time)."""
    return torch.softmax((q * q.shape[-1] ** -0.5) @ k.transpose(-1, -2), dim=-1) @ v


def vit_tokens(sd, x, cfg):
    """HF CLIPVisionTransformer.forward(...).last_hidden_state."""
    pre = "backbone."
    p = cfg["patch_size"]
    eps = cfg["eps"]
    w = lambda n: sd[pre + n]  # noqa: E731
    b = x.shape[0]
    patches = F.conv2d(x, w("embeddings.patch_embedding.weight"), stride=p)
    d = patches.shape[1]
    tokens = patches.flatten(2).transpose(1, 2)
    cls = w("embeddings.class_embedding").expand(b, 1, -1)
    h = torch.cat([cls, tokens], dim=1) + w("embeddings.position_embedding.weight").unsqueeze(0)
    h = F.layer_norm(h, (d,), w("pre_layrnorm.weight"), w("pre_layrnorm.bias"), eps)
    heads = cfg["num_heads"]
    hd = d // heads
    i = 0
    while pre + f"encoder.layers.{i}.layer_norm1.weight" in sd:
        L = f"encoder.layers.{i}."
        r = h
        y = F.layer_norm(h, (d,), w(L + "layer_norm1.weight"), w(L + "layer_norm1.bias"), eps)
        q = F.linear(y, w(L + "self_attn.q_proj.weight"), w(L + "self_attn.q_proj.bias"))
        k = F.linear(y, w(L + "self_attn.k_proj.weight"), w(L + "self_attn.k_proj.bias"))
        v = F.linear(y, w(L + "self_attn.v_proj.weight"), w(L + "self_attn.v_proj.bias"))
        t = y.shape[1]
        q, k, v = (z.view(b, t, heads, hd).transpose(1, 2) for z in (q, k, v))
        att = attend(q, k, v)
        att = att.transpose(1, 2).reshape(b, t, d)
        h = r + F.linear(att, w(L + "self_attn.out_proj.weight"), w(L + "self_attn.out_proj.bias"))
        r = h
        y = F.layer_norm(h, (d,), w(L + "layer_norm2.weight"), w(L + "layer_norm2.bias"), eps)
        y = F.linear(y, w(L + "mlp.fc1.weight"), w(L + "mlp.fc1.bias"))
        y = y * torch.sigmoid(1.702 * y) if cfg["act"] == "quick_gelu" else F.gelu(y)
        h = r + F.linear(y, w(L + "mlp.fc2.weight"), w(L + "mlp.fc2.bias"))
        i += 1
    return h


def ale(sd, x, eps=1e-5):
    d = x.shape[-1]
    y = F.layer_norm(x, (d,), sd["ale.0.weight"], sd["ale.0.bias"], eps)
    return F.linear(y, sd["ale.1.weight"], sd["ale.1.bias"])


def box_of(tmp_map, thr):
    """dsva.md §3 steps 5-6 on one averaged map [H, W]."""
    h, w = tmp_map.shape
    a = torch.mean(tmp_map, dim=(0, 1))
    m = (tmp_map > a * thr).cpu().numpy()
    labels = measure.label(m)  # default connectivity: 8-neighbourhood in 2-D
    props = measure.regionprops(labels)
    if len(props) == 0:
        return [0, 0, h, w]
    areas = [p.area for p in props]
    max_idx = areas.index(max(areas))
    prop = measure.regionprops((labels == (max_idx + 1)).astype(int))
    return list(prop[0].bbox) if len(prop) else [0, 0, h, w]


def forward(sd, pixels, att_ck, case):
    A = att_ck.t()  # official [K, C]
    X = vit_tokens(sd, pixels, case["vit"])  # [B, T, D]
    b, t, _ = X.shape
    g = int(round((t - 1) ** 0.5))
    P = sd["prototypes"].unsqueeze(2)  # [K, D, 1]
    M = F.conv1d(X.transpose(1, 2), P)  # [B, K, T]
    a_layer = torch.max(M, dim=2)[0]
    kk = M.shape[1]
    attention = M[:, :, 1:].view(b, kk, g, g)
    a_final = ale(sd, X.mean(dim=1))
    out = {
        "vam_logits": a_layer.mm(A),
        "global_logits": a_final.mm(A),
        "attributes": a_layer,
        "global_attributes": a_final,
        "attention": attention,
    }
    out["fused_logits"] = out["global_logits"]
    if not case["use_ac"]:
        return out
    H, W = pixels.shape[2], pixels.shape[3]
    groups = case["groups"]
    with torch.no_grad():
        maps = F.interpolate(attention.clone(), (H, W), mode="bilinear", align_corners=True)
        indices = [torch.max(a_layer[:, grp], dim=1)[1] for grp in groups]
        windows = torch.zeros(b, pixels.shape[1], H, W)
        boxes, fused_maps = [], []
        for i in range(b):
            ids = [groups[j][indices[j][i]] for j in range(len(groups))]
            tmp = maps[i, ids, :]
            for j in range(tmp.size(0)):
                tmp[j] -= torch.min(tmp[j])
                tmp[j] /= torch.max(tmp[j])
            tmp = torch.mean(tmp, dim=0, keepdim=False)
            fused_maps.append(tmp)
            y0, x0, y1, x1 = box_of(tmp, case["thr"])
            boxes.append([y0, x0, y1, x1])
            windows[i:i + 1] = F.interpolate(pixels[i:i + 1, :, y0:y1, x0:x1], size=(H, W),
                                             mode="bilinear", align_corners=True)
    Xc = vit_tokens(sd, windows, case["vit"])
    a_crop = ale(sd, torch.max(Xc, dim=1)[0])
    out["crop_attributes"] = a_crop
    out["crop_logits"] = a_crop.mm(A)
    out["fused_logits"] = out["global_logits"] + case["pro_weight"] * out["crop_logits"]
    out["boxes"] = torch.tensor(boxes, dtype=torch.int64)
    out["ac_map"] = torch.stack(fused_maps)
    out["crops"] = windows
    return out


def middle_graph(g):
    raw = torch.zeros((2 * g - 1, 2 * g - 1))
    for x in range(-g + 1, g):
        for y in range(-g + 1, g):
            raw[x + g - 1, y + g - 1] = x**2 + y**2
    mg = torch.zeros((g * g, g, g))
    for x in range(g):
        for y in range(g):
            mg[x * g + y] = raw[g - 1 - x:2 * g - 1 - x, g - 1 - y:2 * g - 1 - y]
    return mg


def add_glasso(var, group):
    return var[group, :].pow(2).sum(dim=0).add(1e-8).sum().pow(1 / 2.)


def losses(sd, out, att_ck, labels, case):
    w = case["weights"]
    criterion = torch.nn.CrossEntropyLoss()
    mse = torch.nn.MSELoss()
    probs = case["ce_on_probabilities"]
    cls_out = (lambda z: torch.softmax(z, dim=1)) if probs else (lambda z: z)
    label_a = att_ck.t()[:, labels].t()
    terms = {}
    terms["xe"] = criterion(cls_out(out["fused_logits"]), labels)
    loss = w["xe"] * terms["xe"]
    terms["attri"] = mse(out["global_attributes"], label_a)
    loss = loss + w["attri"] * terms["attri"]
    if "crop_logits" in out:
        terms["xe_pro"] = criterion(cls_out(out["crop_logits"]), labels)
        loss = loss + w["xe_pro"] * terms["xe_pro"]
    terms["l_xe"] = criterion(cls_out(out["vam_logits"]), labels)
    loss = loss + w["l_xe"] * terms["l_xe"]
    terms["l_attri"] = mse(out["attributes"], label_a)
    loss = loss + w["l_attri"] * terms["l_attri"]
    attn = out["attention"]
    b, k, g, _ = attn.shape
    peak_id = torch.argmax(attn.view(b * k, -1), dim=1)
    peak_mask = middle_graph(g)[peak_id, :, :].view(b, k, g, g)
    terms["cpt"] = torch.sum(torch.sigmoid(attn) * peak_mask)
    loss = loss + w["cpt"] * terms["cpt"]
    weight_layer = sd["prototypes"]
    weight_final = sd["ale.1.weight"]
    lr, lf = 0.0, 0.0
    for grp in case["groups"]:
        rl = add_glasso(weight_layer, grp)
        loss = loss + w["l_regular"] * rl
        rf = add_glasso(weight_final, grp)
        loss = loss + w["regular"] * rf
        lr = lr + rl
        lf = lf + rf
    terms["l_regular"] = lr
    terms["regular"] = lf
    terms["total"] = loss
    return terms


def run(case):
    d = case["dir"]
    sd = {k: v.clone().requires_grad_(v.is_floating_point())
          for k, v in load_file(f"{d}/weights.safetensors").items()}
    inp = load_file(f"{d}/inputs.safetensors")
    out = forward(sd, inp["pixels"], inp["att"], case)
    terms = losses(sd, out, inp["att"], inp["labels"], case)
    terms["total"].backward()
    save = {k: v.detach().clone().contiguous() for k, v in out.items()}
    save.update({f"loss.{k}": v.detach().reshape(()) for k, v in terms.items()})
    for name in case["grads"]:
        save[f"grad.{name}"] = sd[name].grad.contiguous()
    save_file(save, f"{d}/ref.safetensors")


if __name__ == "__main__":  # bench/train_baseline.py imports forward() and losses()
    req = json.load(sys.stdin)
    for c in req["cases"]:
        run(c)
    print(json.dumps({"ok": True, "torch": torch.__version__}))
