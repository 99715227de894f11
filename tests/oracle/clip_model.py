"""Oracle for tests/clip_test.ts: a real CLIP tokenizer.json (a tiny byte-level BPE
trained here, laid out exactly as transformers' CLIPTokenizer), a transformers
CLIPModel with random weights, and reference outputs.

stdin JSON, by "mode":
  "tokenizer": {"dir", "corpus": [str], "merges": int}
      trains a BPE with CLIP's normalizer and pre-tokenizer on `corpus`, builds the
      vocabulary as OpenAI CLIP's (256 bytes, 256 bytes + "</w>", one entry per merge,
      then <|startoftext|> and <|endoftext|>), saves it with transformers'
      CLIPTokenizer to <dir> (tokenizer.json, tokenizer_config.json).
      stdout: {"vocab_size", "bos", "eos", "pad"}
  "tokenize": {"tokenizer": path, "texts": [str], "max_length": int,
               "padding": "longest" | "max_length", "pad_id": int, "pad_token": str}
      Python `tokenizers` (Tokenizer.from_file + enable_truncation/enable_padding +
      encode_batch) and transformers' CLIPTokenizer from the same folder.
      stdout: {"tokenizers": {"ids", "mask"}, "transformers": {"ids", "mask"}}
  "model": {"dir", "text_config", "vision_config", "projection_dim", "format",
            "texts": [str], "batch": int, "max_length": int, "text_tower": bool}
      saves a CLIPModel (random weights, random LayerNorm affines, logit_scale
      randomized) into <dir> beside the tokenizer already there; tokenizes `texts`
      with the folder's tokenizer (padding longest, truncation at max_length), runs
      the model on them and on `batch` seeded images; writes <dir>/ref.safetensors.
      With "text_tower": false the text_model.* and text_projection weights are
      dropped from the saved file (a vision-only checkpoint with a full config).
"""
import json
import sys

import torch
from safetensors.torch import load_file, save_file

req = json.load(sys.stdin)
mode = req["mode"]


def train_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    # CLIP's own normalizer and pre-tokenizer, taken from transformers' CLIPTokenizer.
    proto = CLIPTokenizer()
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>", continuing_subword_prefix=""))
    tok.normalizer = proto.backend_tokenizer.normalizer
    tok.pre_tokenizer = proto.backend_tokenizer.pre_tokenizer
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    trainer = trainers.BpeTrainer(
        vocab_size=10**6,
        limit_alphabet=10**6,
        min_frequency=2,
        initial_alphabet=alphabet,
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    tok.train_from_iterator(req["corpus"], trainer)
    trained = json.loads(tok.to_str())
    merges = trained["model"]["merges"][: req["merges"]]
    merges = [m.split(" ") if isinstance(m, str) else m for m in merges]
    # OpenAI CLIP's vocabulary order (bytes_to_unicode order, as in its simple_tokenizer).
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    base = [chr(c) for c in cs]
    vocab_list = base + [c + "</w>" for c in base]
    seen = set(vocab_list)
    kept = []
    for a, b in merges:
        if a not in seen or b not in seen or a + b in seen:
            continue
        kept.append((a, b))
        vocab_list.append(a + b)
        seen.add(a + b)
    vocab_list += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {t: i for i, t in enumerate(vocab_list)}
    clip = CLIPTokenizer(vocab=vocab, merges=kept, model_max_length=77)
    clip.save_pretrained(req["dir"])
    print(
        json.dumps(
            {
                "vocab_size": len(vocab),
                "bos": vocab["<|startoftext|>"],
                "eos": vocab["<|endoftext|>"],
                "pad": clip.pad_token_id,
            }
        )
    )


def tokenize():
    from tokenizers import Tokenizer
    from transformers import CLIPTokenizer

    tok = Tokenizer.from_file(req["tokenizer"])
    L = req["max_length"]
    tok.enable_truncation(max_length=L)
    if req["padding"] == "max_length":
        tok.enable_padding(pad_id=req["pad_id"], pad_token=req["pad_token"], length=L)
    else:
        tok.enable_padding(pad_id=req["pad_id"], pad_token=req["pad_token"])
    encs = tok.encode_batch(req["texts"])
    folder = req["tokenizer"].rsplit("/", 1)[0]
    hf = CLIPTokenizer.from_pretrained(folder)
    out = hf(req["texts"], padding=req["padding"], truncation=True, max_length=L)
    print(
        json.dumps(
            {
                "tokenizers": {
                    "ids": [e.ids for e in encs],
                    "mask": [e.attention_mask for e in encs],
                },
                "transformers": {"ids": out["input_ids"], "mask": out["attention_mask"]},
            }
        )
    )


def model():
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    d = req["dir"]
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config=req["text_config"],
        vision_config=req["vision_config"],
        projection_dim=req["projection_dim"],
    )
    m = CLIPModel(config).eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.LayerNorm):
                mod.weight.normal_(1.0, 0.1)
                mod.bias.normal_(0.0, 0.1)
        m.logit_scale.fill_(2.0)
    m.save_pretrained(d, safe_serialization=req["format"] == "safetensors")
    if not req.get("text_tower", True):
        path = f"{d}/model.safetensors"
        state = load_file(path)
        keep = {k: v for k, v in state.items() if not k.startswith(("text_model.", "text_projection"))}
        save_file(keep, path, metadata={"format": "pt"})
    tok = CLIPTokenizer.from_pretrained(d)
    enc = tok(req["texts"], padding="longest", truncation=True, max_length=req["max_length"], return_tensors="pt")
    size = config.vision_config.image_size
    pixels = torch.randn(req["batch"], 3, size, size)
    with torch.no_grad():
        out = m(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], pixel_values=pixels)
        text_pooled = m.text_model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output
        text_features = m.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output
        image_features = m.get_image_features(pixel_values=pixels).pooler_output
    ref = {
        "pixels": pixels,
        "input_ids": enc["input_ids"],
        "attention_mask": enc["attention_mask"],
        "image_embeds": out.image_embeds,
        "text_embeds": out.text_embeds,
        "logits_per_image": out.logits_per_image,
        "logits_per_text": out.logits_per_text,
        "text_last_hidden_state": out.text_model_output.last_hidden_state,
        "text_pooled": text_pooled,
        "text_features": text_features,
        "image_features": image_features,
    }
    save_file({k: v.contiguous().clone() for k, v in ref.items()}, f"{d}/ref.safetensors")
    print(json.dumps({"params": sum(p.numel() for p in m.parameters()), "eos_token_id": config.text_config.eos_token_id}))


{"tokenizer": train_tokenizer, "tokenize": tokenize, "model": model}[mode]()
