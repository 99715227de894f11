// Shared pieces of the shim: the handle box, error slot, and the catch wrapper.
#pragma once
#include <ATen/ATen.h>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "../include/dsva_torch.h"

namespace dt {

// One heap box per handle. `bytes` is remembered so that freeing can update the
// live-bytes counter without touching the tensor again.
struct Handle {
  at::Tensor t;
  int64_t bytes;
};

extern std::atomic<int64_t> live_handles;
extern std::atomic<int64_t> live_bytes;

inline int64_t storage_bytes(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return 0;
  return static_cast<int64_t>(t.storage().nbytes());
}

inline dt_handle wrap(at::Tensor t) {
  if (!t.defined()) return 0;
  int64_t b = storage_bytes(t);
  auto* h = new Handle{std::move(t), b};
  live_handles.fetch_add(1, std::memory_order_relaxed);
  live_bytes.fetch_add(b, std::memory_order_relaxed);
  return static_cast<dt_handle>(reinterpret_cast<uintptr_t>(h));
}

inline Handle* box(dt_handle h) {
  return reinterpret_cast<Handle*>(static_cast<uintptr_t>(h));
}

inline at::Tensor& unwrap(dt_handle h) {
  if (h == 0) throw std::invalid_argument("null tensor handle");
  return box(h)->t;
}

// A loaded file's named tensors, behind the dt_state_dict_* handle (pickle.cpp, jit.cpp).
struct StateDict {
  std::vector<std::string> keys;
  std::vector<at::Tensor> values;
};

inline StateDict* sd_of(dt_handle d) {
  return reinterpret_cast<StateDict*>(static_cast<uintptr_t>(d));
}

void set_error(const char* msg);
void clear_error();
void install_warning_handler();

// Runs body; on any exception stores the message and returns fail.
template <typename R, typename F>
R guard(R fail, F&& body) {
  install_warning_handler();
  try {
    clear_error();
    return body();
  } catch (const c10::Error& e) {
    set_error(e.what_without_backtrace());
  } catch (const std::exception& e) {
    set_error(e.what());
  } catch (...) {
    set_error("unknown C++ exception");
  }
  return fail;
}

}  // namespace dt
