// Generic operator calls: any registered operator by schema name and overload,
// called boxed through the dispatcher. Arguments arrive as a tagged byte stream:
//
//   tag  meaning           payload (little-endian, unaligned)
//   1    Tensor            handle as f64 (0 = undefined / None for Tensor?)
//   2    int               i64
//   3    float             f64
//   4    bool              u8
//   5    None              -
//   6    int[]             u32 n, i64[n]
//   7    Tensor[]          u32 n, f64[n] handles
//   8/9/10 Scalar          i64 / f64 / u8 (int, float, bool)
//   11   str               u32 n, bytes[n]
//   12   Tensor?[]         u32 n, f64[n] handles (0 = None)
//   13   float[]           u32 n, f64[n]
//   14   schema default    -
//   15   Device            i8 type, i8 index
//   16   bool[]            u32 n, u8[n]
//
// Results go to 8-byte slots with a kind byte each: 1 tensor handle, 2 int,
// 3 float (f64 bits); handles are f64 bits too, 4 bool, 5 None/undefined tensor, 7 list header (count)
// followed by one slot per element.
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <mutex>
#include <unordered_map>

#include "internal.h"

namespace dt {

struct Op {
  c10::OperatorHandle handle;
  const c10::FunctionSchema* schema;
  std::string text;
};

class Reader {
 public:
  explicit Reader(const uint8_t* p) : p_(p) {}
  template <typename T>
  T get() {
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }

 private:
  const uint8_t* p_;
};

at::Device make_device(int32_t type, int32_t index);

static c10::IValue decode_one(Reader& r, const c10::Argument& arg, const Op& op) {
  uint8_t tag = r.get<uint8_t>();
  switch (tag) {
    case 1: {
      double h = r.get<double>();
      if (h == 0) return c10::IValue();
      return c10::IValue(unwrap(h));
    }
    case 2: return c10::IValue(r.get<int64_t>());
    case 3: return c10::IValue(r.get<double>());
    case 4: return c10::IValue(r.get<uint8_t>() != 0);
    case 5: return c10::IValue();
    case 6: {
      uint32_t n = r.get<uint32_t>();
      std::vector<int64_t> v(n);
      for (auto& x : v) x = r.get<int64_t>();
      return c10::IValue(std::move(v));
    }
    case 7: {
      uint32_t n = r.get<uint32_t>();
      std::vector<at::Tensor> v;
      v.reserve(n);
      for (uint32_t i = 0; i < n; i++) v.push_back(unwrap(r.get<double>()));
      return c10::IValue(std::move(v));
    }
    case 8: return c10::IValue(c10::Scalar(r.get<int64_t>()));
    case 9: return c10::IValue(c10::Scalar(r.get<double>()));
    case 10: return c10::IValue(c10::Scalar(r.get<uint8_t>() != 0));
    case 11: {
      uint32_t n = r.get<uint32_t>();
      std::string s(n, '\0');
      for (uint32_t i = 0; i < n; i++) s[i] = static_cast<char>(r.get<uint8_t>());
      return c10::IValue(std::move(s));
    }
    case 12: {
      uint32_t n = r.get<uint32_t>();
      c10::List<std::optional<at::Tensor>> v;
      v.reserve(n);
      for (uint32_t i = 0; i < n; i++) {
        double h = r.get<double>();
        v.push_back(h ? std::optional<at::Tensor>(unwrap(h)) : std::nullopt);
      }
      return c10::IValue(std::move(v));
    }
    case 13: {
      uint32_t n = r.get<uint32_t>();
      std::vector<double> v(n);
      for (auto& x : v) x = r.get<double>();
      return c10::IValue(std::move(v));
    }
    case 14: {
      const auto& d = arg.default_value();
      TORCH_CHECK(d.has_value(), "argument '", arg.name(), "' of ", op.text,
                  " has no default value and must be given");
      return *d;
    }
    case 15: {
      int8_t type = r.get<int8_t>();
      int8_t index = r.get<int8_t>();
      return c10::IValue(make_device(type, index));
    }
    case 16: {
      uint32_t n = r.get<uint32_t>();
      c10::List<bool> v;
      for (uint32_t i = 0; i < n; i++) v.push_back(r.get<uint8_t>() != 0);
      return c10::IValue(std::move(v));
    }
    default: TORCH_CHECK(false, "bad argument tag ", int(tag), " for '", arg.name(), "'");
  }
}

// Builds the full argument stack: the callBoxed contract is one IValue per
// schema argument (kwarg-only included), so missing trailing ones get defaults.
static void fill_stack(const Op& op, const uint8_t* args, int32_t nargs, torch::jit::Stack& st) {
  const auto& params = op.schema->arguments();
  TORCH_CHECK(nargs >= 0 && static_cast<size_t>(nargs) <= params.size(), op.text, " takes ",
              params.size(), " arguments but ", nargs, " were given");
  st.clear();
  Reader r(args);
  for (int32_t i = 0; i < nargs; i++) st.push_back(decode_one(r, params[i], op));
  for (size_t i = nargs; i < params.size(); i++) {
    const auto& d = params[i].default_value();
    TORCH_CHECK(d.has_value(), "missing argument '", params[i].name(), "' (#", i, ") of ",
                op.text);
    st.push_back(*d);
  }
}

static bool is_listlike_int(const c10::IValue& v) { return v.isIntList(); }

// Counts slots first so an unsupported return fails before any handle exists.
static int32_t slots_needed(const torch::jit::Stack& st) {
  int32_t n = 0;
  for (const auto& v : st) {
    if (v.isTensor() || v.isInt() || v.isSymInt() || v.isDouble() || v.isBool() || v.isNone()) {
      n += 1;
    } else if (v.isTensorList()) {
      n += 1 + static_cast<int32_t>(v.toTensorList().size());
    } else if (is_listlike_int(v)) {
      n += 1 + static_cast<int32_t>(v.toIntList().size());
    } else if (v.isList()) {
      for (const auto& e : v.toListRef())
        TORCH_CHECK(e.isTensor() || e.isNone(), "unsupported list element in result: ",
                    e.tagKind());
      n += 1 + static_cast<int32_t>(v.toListRef().size());
    } else {
      TORCH_CHECK(false, "unsupported result type ", v.tagKind());
    }
  }
  return n;
}

static void put_tensor(const at::Tensor& t, uint64_t* outs, uint8_t* kinds, int32_t& k) {
  if (t.defined()) {
    dt_handle h = wrap(t);
    std::memcpy(&outs[k], &h, 8);
    kinds[k++] = 1;
  } else {
    outs[k] = 0;
    kinds[k++] = 5;
  }
}

static int32_t write_results(const torch::jit::Stack& st, uint64_t* outs, uint8_t* kinds,
                             int32_t max_outs) {
  int32_t need = slots_needed(st);
  TORCH_CHECK(need <= max_outs, "result needs ", need, " slots, only ", max_outs, " given");
  int32_t k = 0;
  for (const auto& v : st) {
    if (v.isTensor()) {
      put_tensor(v.toTensor(), outs, kinds, k);
    } else if (v.isInt() || v.isSymInt()) {
      int64_t x = v.isInt() ? v.toInt() : v.toSymInt().expect_int();
      std::memcpy(&outs[k], &x, 8);
      kinds[k++] = 2;
    } else if (v.isDouble()) {
      double x = v.toDouble();
      std::memcpy(&outs[k], &x, 8);
      kinds[k++] = 3;
    } else if (v.isBool()) {
      outs[k] = v.toBool();
      kinds[k++] = 4;
    } else if (v.isNone()) {
      outs[k] = 0;
      kinds[k++] = 5;
    } else if (is_listlike_int(v)) {
      auto l = v.toIntList();
      outs[k] = l.size();
      kinds[k++] = 7;
      for (int64_t x : l) {
        std::memcpy(&outs[k], &x, 8);
        kinds[k++] = 2;
      }
    } else {
      const auto& l = v.toListRef();
      outs[k] = l.size();
      kinds[k++] = 7;
      for (const auto& e : l) {
        if (e.isNone()) {
          outs[k] = 0;
          kinds[k++] = 5;
        } else {
          put_tensor(e.toTensor(), outs, kinds, k);
        }
      }
    }
  }
  return k;
}

static int32_t call_into(const Op& op, const uint8_t* args, int32_t nargs, uint64_t* outs,
                         uint8_t* kinds, int32_t max_outs) {
  thread_local torch::jit::Stack st;
  fill_stack(op, args, nargs, st);
  op.handle.callBoxed(&st);
  int32_t n = write_results(st, outs, kinds, max_outs);
  st.clear();
  return n;
}

static Op* op_of(dt_handle op) { return reinterpret_cast<Op*>(static_cast<uintptr_t>(op)); }

static std::mutex ops_mutex;
static std::unordered_map<std::string, Op*> ops_by_name;

}  // namespace dt

extern "C" {

dt_handle dt_op_find(const char* name, const char* overload) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    std::string ov = overload ? overload : "";
    if (ov == "default") ov = "";
    std::string key = std::string(name) + "." + ov;
    std::lock_guard<std::mutex> lock(dt::ops_mutex);
    auto it = dt::ops_by_name.find(key);
    if (it != dt::ops_by_name.end()) return static_cast<dt_handle>(reinterpret_cast<uintptr_t>(it->second));
    auto h = c10::Dispatcher::singleton().findSchemaOrThrow(name, ov.c_str());
    auto* op = new dt::Op{h, &h.schema(), c10::toString(h.schema())};
    dt::ops_by_name.emplace(key, op);
    return static_cast<dt_handle>(reinterpret_cast<uintptr_t>(op));
  });
}

const char* dt_op_schema(dt_handle op) {
  return op ? dt::op_of(op)->text.c_str() : nullptr;
}

const char* dt_op_all_schemas(void) {
  static thread_local std::string all;
  return dt::guard<const char*>(nullptr, [&]() -> const char* {
    all.clear();
    for (const auto& name : c10::Dispatcher::singleton().getAllOpNames()) {
      auto h = c10::Dispatcher::singleton().findOp(name);
      if (!h || !h->hasSchema()) continue;
      all += c10::toString(h->schema());
      all.push_back('\n');
    }
    return all.c_str();
  });
}

int32_t dt_op_call(dt_handle op, const uint8_t* args, int32_t nargs, uint64_t* outs,
                   uint8_t* kinds, int32_t max_outs) {
  return dt::guard<int32_t>(-1, [&]() {
    return dt::call_into(*dt::op_of(op), args, nargs, outs, kinds, max_outs);
  });
}

dt_handle dt_op_call1(dt_handle op, const uint8_t* args, int32_t nargs) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    thread_local torch::jit::Stack st;
    const auto& o = *dt::op_of(op);
    dt::fill_stack(o, args, nargs, st);
    o.handle.callBoxed(&st);
    TORCH_CHECK(st.size() == 1 && (st[0].isTensor() || st[0].isNone()), o.text,
                " does not return exactly one Tensor");
    dt_handle h = st[0].isTensor() ? dt::wrap(std::move(st[0]).toTensor()) : 0;
    st.clear();
    return h;
  });
}

int32_t dt_op_call_nb(dt_handle op, const uint8_t* args, int32_t nargs, uint64_t* outs,
                      uint8_t* kinds, int32_t max_outs, int32_t grad_enabled, char* err,
                      int32_t err_len) {
  at::AutoGradMode mode(grad_enabled != 0);
  int32_t n = dt_op_call(op, args, nargs, outs, kinds, max_outs);
  if (n < 0 && err && err_len > 0) {
    const char* msg = dt_last_error();
    std::strncpy(err, msg ? msg : "unknown error", err_len - 1);
    err[err_len - 1] = '\0';
  }
  return n;
}
}
