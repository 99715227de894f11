// Loads PyTorch state dicts saved with torch.save (the zip format of
// `pytorch_model.bin` / `.pt`) through libtorch's own unpickler. Nested dicts
// are flattened to dotted keys; values that are not tensors are skipped.
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include "internal.h"

namespace dt {

static uint32_t u32_at(const std::string& p, size_t i) {
  TORCH_CHECK(i + 4 <= p.size(), "truncated pickle");
  uint32_t v;
  std::memcpy(&v, p.data() + i, 4);
  return v;
}

// libtorch's unpickler turns `collections.OrderedDict()` into None (it only
// expects one as a tensor's empty backward-hooks argument), cannot BUILD an
// OrderedDict's `_metadata` state, and has no POP; yet `state_dict()` is an
// OrderedDict. This pass copies the opcodes while tracking, for each stack
// slot, where its construction starts in the output, and rewrites:
//   OrderedDict ( ) REDUCE   ->  EMPTY_DICT
//   <dict> <state> BUILD     ->  <dict>        (the state's opcodes are dropped)
// Everything else is copied unchanged.
static std::string rewrite_ordered_dicts(const std::string& p) {
  struct Slot {
    size_t start;
    bool mark = false, od_class = false, od_dict = false;
  };
  std::string out;
  out.reserve(p.size());
  std::vector<Slot> st;
  int64_t od_memo = -1;
  size_t i = 0;
  const size_t n = p.size();
  auto need = [&](size_t k) { TORCH_CHECK(st.size() >= k, "malformed pickle: stack underflow"); };
  auto pop_to_mark = [&]() -> size_t {
    while (!st.empty() && !st.back().mark) st.pop_back();
    TORCH_CHECK(!st.empty(), "malformed pickle: no MARK");
    size_t start = st.back().start;
    st.pop_back();
    return start;
  };
  auto line = [&](size_t from) {
    size_t e = p.find('\n', from);
    TORCH_CHECK(e != std::string::npos, "truncated pickle");
    return e + 1;
  };
  bool done = false;
  while (i < n && !done) {
    const size_t at = i, ostart = out.size();
    const unsigned char op = static_cast<unsigned char>(p[i++]);
    bool emit = true;
    auto push = [&](Slot s) { st.push_back(s); };
    auto memo_index = [&](size_t arg_len) -> int64_t {
      return arg_len == 1 ? static_cast<unsigned char>(p[i]) : u32_at(p, i);
    };
    switch (op) {
      case 0x80: i += 1; break;            // PROTO
      case 0x95: i += 8; emit = false; break;  // FRAME: only a read-ahead hint
      case 'K': i += 1; push({ostart}); break;
      case 'M': i += 2; push({ostart}); break;
      case 'J': i += 4; push({ostart}); break;
      case 'G': i += 8; push({ostart}); break;
      case 0x82: i += 1; push({ostart}); break;
      case 0x83: i += 2; push({ostart}); break;
      case 0x84: i += 4; push({ostart}); break;
      case 'X': case 'B': case 'T': case 0x8b: i += 4 + u32_at(p, i); push({ostart}); break;
      case 0x8c: case 'C': case 'U': case 0x8a:
        TORCH_CHECK(i < n, "truncated pickle");
        i += 1 + static_cast<unsigned char>(p[i]);
        push({ostart});
        break;
      case 0x8d: case 0x8e: case 0x96: {
        TORCH_CHECK(i + 8 <= n, "truncated pickle");
        uint64_t len;
        std::memcpy(&len, p.data() + i, 8);
        i += 8 + len;
        push({ostart});
        break;
      }
      case 'I': case 'L': case 'S': case 'V': case 'F': i = line(i); push({ostart}); break;
      case 'N': case 0x88: case 0x89: case ')': case ']': case '}': case 0x8f: push({ostart}); break;
      case 'c': {  // GLOBAL "module\nname\n"
        size_t mid = line(i), end = line(mid);
        bool od = p.compare(i, mid - i, "collections\n") == 0 &&
                  p.compare(mid, end - mid, "OrderedDict\n") == 0;
        i = end;
        Slot s{ostart};
        s.od_class = od;
        emit = !od;  // the class itself is never emitted; its uses become dicts
        push(s);
        break;
      }
      case 'q': case 'r': {  // BINPUT / LONG_BINPUT
        size_t len = op == 'q' ? 1 : 4;
        int64_t idx = memo_index(len);
        i += len;
        need(1);
        if (st.back().od_class) {
          od_memo = idx;
          emit = false;
        }
        break;
      }
      case 'p': {
        size_t end = line(i);
        need(1);
        if (st.back().od_class) {
          od_memo = std::stoll(p.substr(i, end - i - 1));
          emit = false;
        }
        i = end;
        break;
      }
      case 'h': case 'j': case 'g': {  // BINGET / LONG_BINGET / GET
        int64_t idx;
        if (op == 'g') {
          size_t end = line(i);
          idx = std::stoll(p.substr(i, end - i - 1));
          i = end;
        } else {
          size_t len = op == 'h' ? 1 : 4;
          idx = memo_index(len);
          i += len;
        }
        Slot s{ostart};
        s.od_class = idx == od_memo;
        emit = !s.od_class;
        push(s);
        break;
      }
      case '(': { Slot s{ostart}; s.mark = true; push(s); break; }
      case 't': case 'l': case 'd': case 0x91: push({pop_to_mark()}); break;
      case 'u': case 'e': case 0x90: pop_to_mark(); break;  // SETITEMS APPENDS ADDITEMS
      case '1': pop_to_mark(); break;                        // POP_MARK
      case 0x85: need(1); break;                             // TUPLE1
      case 0x86: need(2); st.pop_back(); break;              // TUPLE2
      case 0x87: need(3); st.pop_back(); st.pop_back(); break;
      case 'Q': need(1); break;                              // BINPERSID
      case 'P': i = line(i); push({ostart}); break;          // PERSID
      case 0x93: need(2); st.pop_back(); break;              // STACK_GLOBAL
      case 0x94: need(1); break;                             // MEMOIZE
      case '0': need(1); st.pop_back(); break;
      case '2': need(1); push(st.back()); break;
      case 'a': need(2); st.pop_back(); break;               // APPEND
      case 's': need(3); st.pop_back(); st.pop_back(); break;  // SETITEM
      case 'R': case 0x81: {  // REDUCE / NEWOBJ
        need(2);
        Slot args = st.back();
        st.pop_back();
        Slot fn = st.back();
        st.pop_back();
        if (fn.od_class && args.start + 1 == ostart && out[args.start] == ')') {
          out.resize(args.start);  // drop the empty tuple
          out.push_back('}');
          emit = false;
          Slot d{args.start};
          d.od_dict = true;
          push(d);
        } else {
          TORCH_CHECK(!fn.od_class, "unsupported OrderedDict construction in pickle");
          push({fn.start});
        }
        break;
      }
      case 0x92: need(3); st.pop_back(); st.pop_back(); break;  // NEWOBJ_EX
      case 'b': {  // BUILD
        need(2);
        Slot state = st.back();
        st.pop_back();
        if (st.back().od_dict) {
          out.resize(state.start);
          emit = false;
        }
        break;
      }
      case '.': done = true; break;
      default: TORCH_CHECK(false, "unsupported pickle opcode 0x", std::hex, int(op), " at ", at);
    }
    TORCH_CHECK(i <= n, "truncated pickle");
    if (emit) out.append(p, at, i - at);
  }
  TORCH_CHECK(done, "truncated pickle (no STOP)");
  return out;
}

static void flatten(const c10::IValue& v, const std::string& prefix, StateDict& out) {
  if (v.isTensor()) {
    out.keys.push_back(prefix);
    out.values.push_back(v.toTensor());
  } else if (v.isGenericDict()) {
    for (const auto& e : v.toGenericDict()) {
      if (!e.key().isString()) continue;
      const std::string& k = e.key().toStringRef();
      flatten(e.value(), prefix.empty() ? k : prefix + "." + k, out);
    }
  }
}

}  // namespace dt

extern "C" {

dt_handle dt_state_dict_load(const char* path) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    caffe2::serialize::PyTorchStreamReader reader{std::string(path)};
    auto [pkl_ptr, pkl_size] = reader.getRecord("data.pkl");
    std::string pkl = dt::rewrite_ordered_dicts(
        std::string(static_cast<const char*>(pkl_ptr.get()), pkl_size));
    size_t pos = 0;
    auto read = [&](char* buf, size_t len) {
      size_t k = std::min(len, pkl.size() - pos);
      std::memcpy(buf, pkl.data() + pos, k);
      pos += k;
      return k;
    };
    auto read_record = [&](const std::string& name) {
      return std::get<0>(reader.getRecord("data/" + name));
    };
    torch::jit::Unpickler unpickler(read, nullptr, nullptr, read_record, at::Device(at::kCPU));
    c10::IValue v = unpickler.parse_ivalue();
    auto sd = std::make_unique<dt::StateDict>();
    dt::flatten(v, "", *sd);
    TORCH_CHECK(!sd->keys.empty(), path,
                " holds no tensors (expected a state dict saved with torch.save)");
    return static_cast<dt_handle>(reinterpret_cast<uintptr_t>(sd.release()));
  });
}

int32_t dt_state_dict_size(dt_handle d) {
  return static_cast<int32_t>(dt::sd_of(d)->keys.size());
}

const char* dt_state_dict_key(dt_handle d, int32_t i) {
  return dt::guard<const char*>(nullptr, [&]() { return dt::sd_of(d)->keys.at(i).c_str(); });
}

dt_handle dt_state_dict_value(dt_handle d, int32_t i) {
  return dt::guard<dt_handle>(0, [&]() { return dt::wrap(dt::sd_of(d)->values.at(i)); });
}

void dt_state_dict_free(dt_handle d) { delete dt::sd_of(d); }
}
