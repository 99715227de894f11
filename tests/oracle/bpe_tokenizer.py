"""Token ids of texts under a tokenizer.json, by Python `tokenizers` (the reference for the
run-time BPE of src/attributes/bpe.ts). stdin: {"tokenizer": path, "texts": [...]}; stdout: ids."""
import json
import sys

from tokenizers import Tokenizer

req = json.load(sys.stdin)
tok = Tokenizer.from_file(req["tokenizer"])
tok.no_truncation()
tok.no_padding()
print(json.dumps([tok.encode(t).ids for t in req["texts"]]))
