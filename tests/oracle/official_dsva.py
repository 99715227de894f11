"""Oracle for tests/official_parity_test.ts: the OFFICIAL DSVA code (wenjiaXu/RS_Scene_ZSL,
../shared/reference/official_dsva/model) running its own training loop, `main.main()`, imported
from that folder (nothing of it is copied here).

stdin JSON, by "mode":
  "setup": {"official", "clip": {"dir", "seed", "vision": {...}, "text": {...}},
             "layout": {"data", "out", "split"}}
      saves a CLIPModel with random weights (CLIPModel(CLIPConfig(...)).save_pretrained) to
      clip.dir (both sides load that folder), and runs the official tools/aid_to_dsva.py:
      layout.data (our folder layout) → the official RSSDIVCS layout in layout.out. stdout: {}
  "train": {"official", "clip_root", "threads", "jobs": [{"script",
            "overrides": {flag: value|null}, "episodes", "test", "paths", "work"}]}
      for each job, in one process, loads the official main.py afresh and runs `main.main()`
      with the flags of script/<script> (overrides replace or add flags; a null value drops
      one), with three things swapped by patching the loaded `main` module:
        * get_loader: the training loader yields OUR episodes (the already-transformed pixels
          and class ids of each step, from <episodes>.safetensors, `e{epoch}b{batch}.pixels`,
          `.labels`), the test loaders OUR test tensors (<test>.safetensors `seen.pixels`,
          `seen.labels`, `unseen.pixels`, `unseen.labels`) in batches of --batch_size. Before
          that, the official ImageFilelist of each test set is built and its image paths and
          labels checked against ours (`paths`: {"seen": [...], "unseen": [...]}, relative to
          the image folder), and every episode image against the official training list.
        * CLIP_proto: the official class, its state dict saved right after construction
          (<work>/init.safetensors) and at the end (<work>/final.safetensors).
        * Loss_fn, test_zsl_proposal, test_gzsl_proposal: the official functions, their
          results recorded per call.
      Everything else — the model, the DATA_LOADER of the official layout, the optimizer (a new
      Adam every epoch, lrs by phase), the loss weights, AC from --pro_start_epoch, CPT after
      --pretrain_epoch, calibrated stacking, the metrics — is the official code as it runs.
      stdout: {"jobs": [{"steps": [{"epoch", "terms": {loss_log key: weighted value}, "total"}],
                         "evals": [{"epoch", "fn", "acc"}], "argv": [...]}]}
  "proposal": {"official", "inputs", "out", "cases": [{"name", "groups", "thr"}]}
      the official Attention Concentration, `CLIP_proto.get_proposal`, called on
      <inputs>.safetensors `<name>.pixels` [B, 3, H, W], `<name>.attention` [B, K, h, w] and
      `<name>.attributes` [B, K] for each case, with `self` holding only what it reads (the
      groups, their count, the device and `opt.pro_thr`). Saves `<name>.maps` (the fused map
      per image) and `<name>.crops` (the resized crops) to <out>.safetensors. stdout: {}
"""
import contextlib
import importlib.util
import json
import os
import shlex
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

req = json.load(sys.stdin)
mode = req["mode"]


def setup():
    from transformers import CLIPConfig, CLIPModel

    c = req["clip"]
    torch.manual_seed(c["seed"])
    model = CLIPModel(CLIPConfig(text_config=c["text"], vision_config=c["vision"]))
    with contextlib.redirect_stdout(sys.stderr):
        model.save_pretrained(c["dir"])
    lay = req["layout"]
    tool = os.path.join(req["official"], "tools", "aid_to_dsva.py")
    subprocess.run(
        [sys.executable, tool, lay["data"], lay["out"], lay["split"]],
        check=True,
        stdout=sys.stderr,
    )
    return {}


def script_argv(path):
    """The flags of one official script (its `python ./model/main.py ...` line)."""
    text = open(path).read().replace("\\\n", " ")
    words = shlex.split(text, comments=True)
    return words[words.index("./model/main.py") + 1:]


def with_overrides(argv, overrides):
    """argparse keeps the last value of a repeated flag, so the script's own repeats stay as they
    are; an override removes every occurrence of its flag and appends its value."""
    out, i = [], 0
    while i < len(argv):
        flag = argv[i]
        takes_value = i + 1 < len(argv) and not argv[i + 1].startswith("--")
        if flag[2:] in overrides:
            i += 2 if takes_value else 1
            continue
        out.append(flag)
        if takes_value:
            out.append(argv[i + 1])
        i += 2 if takes_value else 1
    for k, v in overrides.items():
        if v is None:
            continue
        out.append("--" + k)
        if v is not True:
            out.append(str(v))
    return out


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def state_of(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def train():
    torch.set_num_threads(req["threads"])
    model_dir = os.path.join(req["official"], "model")
    if model_dir not in sys.path:
        sys.path.insert(0, model_dir)
    os.environ["DSVA_CLIP_ROOT"] = req["clip_root"]
    return {"jobs": [train_job(job, model_dir) for job in req["jobs"]]}


def train_job(job, model_dir):
    argv = with_overrides(
        script_argv(os.path.join(req["official"], "script", job["script"])),
        job["overrides"],
    )
    sys.argv = ["main.py"] + argv
    work = job["work"]
    episodes = load_file(job["episodes"])
    test = load_file(job["test"])
    steps, evals, holder = [], [], []
    epoch_now = [-1]

    with contextlib.redirect_stdout(sys.stderr):  # the official code prints; stdout is ours
        main = load_module("official_main", os.path.join(model_dir, "main.py"))
        import visual_utils
        from visual_utils import ImageFilelist

        opt = main.opt
        image_root = opt.image_root

        def rel(p):
            return os.path.relpath(p, os.path.join(image_root, "images"))

        class Episodes:
            """The training loader: epoch e's steps on the e-th pass, as the official loop
            iterates `trainloader` once per epoch."""

            def __init__(self, n_batch):
                self.n_batch = n_batch
                self.epoch = -1

            def __len__(self):
                return self.n_batch

            def __iter__(self):
                self.epoch += 1
                epoch_now[0] = self.epoch
                for b in range(self.n_batch):
                    key = f"e{self.epoch}b{b}"
                    yield episodes[key + ".pixels"], episodes[key + ".labels"], []

        def get_loader(opt_, data):
            # The official lists, checked against ours (same images, same order, same labels).
            for name, image_type in (("seen", "test_seen_loc"), ("unseen", "test_unseen_loc")):
                fl = ImageFilelist(opt_, data_inf=data, transform=None, dataset=opt_.dataset,
                                   image_type=image_type)
                theirs = [rel(p) for p, _ in fl.imlist]
                ours = job["paths"][name]
                assert theirs == ours, f"{name} test images differ: {theirs[:3]} vs ours {ours[:3]}"
                labels = [l for _, l in fl.imlist]
                assert labels == test[name + ".labels"].tolist(), f"{name} test labels differ"
            train_list = ImageFilelist(opt_, data_inf=data, transform=None, dataset=opt_.dataset,
                                       image_type="trainval_loc")
            official_train = {rel(p): l for p, l in train_list.imlist}
            for path, label in job["paths"]["train"]:
                assert official_train.get(path) == label, f"episode image {path} not in train_zsl_loc"

            def batches(name):
                x, y = test[name + ".pixels"], test[name + ".labels"]
                bs = opt_.batch_size
                return [(x[i:i + bs], y[i:i + bs], []) for i in range(0, x.shape[0], bs)]

            return Episodes(opt_.n_batch), batches("unseen"), batches("seen"), None

        class RecordedCLIP(main.CLIP_proto):
            def __init__(self, *a, **k):
                super().__init__(*a, **k)
                holder.append(self)
                save_file(state_of(self), os.path.join(work, "init.safetensors"))

        official_loss = main.Loss_fn

        def loss_fn(opt_, loss_log, *a, **k):
            fresh = {key: 0.0 for key in loss_log}
            loss = official_loss(opt_, fresh, *a, **k)
            for key, v in fresh.items():
                loss_log[key] += v
            terms = {key: v for key, v in fresh.items() if key != "ave_loss"}
            steps.append({"epoch": epoch_now[0], "terms": terms, "total": loss.item()})
            return loss

        def recorded(fn, name):
            def run(*a, **k):
                acc = fn(*a, **k)
                evals.append({"epoch": epoch_now[0], "fn": name, "acc": float(acc)})
                return acc

            return run

        main.get_loader = get_loader
        main.CLIP_proto = RecordedCLIP
        main.Loss_fn = loss_fn
        main.test_zsl_proposal = recorded(main.test_zsl_proposal, "test_zsl_proposal")
        main.test_gzsl_proposal = recorded(main.test_gzsl_proposal, "test_gzsl_proposal")
        main.main()

    save_file(state_of(holder[0]), os.path.join(work, "final.safetensors"))
    return {"steps": steps, "evals": evals, "argv": argv}


def proposal():
    from types import SimpleNamespace

    torch.set_num_threads(1)
    with contextlib.redirect_stdout(sys.stderr):
        official = load_module("official_model", os.path.join(req["official"], "model", "model.py"))
    inputs, out = load_file(req["inputs"]), {}
    for c in req["cases"]:
        me = SimpleNamespace(group=c["groups"], group_dim=len(c["groups"]), device="cpu",
                             opt=SimpleNamespace(pro_thr=c["thr"]))
        with torch.no_grad():
            crops, maps = official.CLIP_proto.get_proposal(
                me, inputs[c["name"] + ".pixels"].clone(), inputs[c["name"] + ".attention"].clone(),
                inputs[c["name"] + ".attributes"].clone())
        out[c["name"] + ".maps"] = torch.stack(maps).contiguous()
        out[c["name"] + ".crops"] = crops.contiguous()
    save_file(out, req["out"])
    return {}


out = {"setup": setup, "train": train, "proposal": proposal}[mode]()
print(json.dumps(out))
