// Tensor handles: creation from host memory, copy-out, metadata, free.
#include "internal.h"

namespace dt {
std::atomic<int64_t> live_handles{0};
std::atomic<int64_t> live_bytes{0};

static void release(dt_handle h) {
  if (h == 0) return;
  auto* b = box(h);
  live_handles.fetch_sub(1, std::memory_order_relaxed);
  live_bytes.fetch_sub(b->bytes, std::memory_order_relaxed);
  delete b;
}

at::Device make_device(int32_t type, int32_t index) {
  return at::Device(static_cast<c10::DeviceType>(type), static_cast<c10::DeviceIndex>(index));
}
}  // namespace dt

extern "C" {

dt_handle dt_tensor_from_buffer(const void* data, int64_t nbytes, int32_t dtype,
                               const int64_t* shape, int32_t ndim, int32_t device_type,
                               int32_t device_index, int32_t requires_grad) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    auto st = static_cast<at::ScalarType>(dtype);
    at::Tensor t = at::empty(at::IntArrayRef(shape, ndim), at::TensorOptions().dtype(st));
    int64_t expected = t.numel() * static_cast<int64_t>(t.element_size());
    TORCH_CHECK(nbytes == expected, "fromBuffer: buffer holds ", nbytes, " bytes but shape ",
                t.sizes(), " of ", st, " needs ", expected);
    if (expected > 0) std::memcpy(t.data_ptr(), data, expected);
    at::Device dev = dt::make_device(device_type, device_index);
    if (!dev.is_cpu()) t = t.to(dev);
    if (requires_grad) t.set_requires_grad(true);
    return dt::wrap(std::move(t));
  });
}

int32_t dt_tensor_copy_out(dt_handle h, void* dst, int64_t nbytes) {
  return dt::guard<int32_t>(-1, [&]() -> int32_t {
    at::Tensor t = dt::unwrap(h);
    if (!t.device().is_cpu()) t = t.to(at::kCPU);
    t = t.contiguous();
    int64_t n = t.numel() * static_cast<int64_t>(t.element_size());
    TORCH_CHECK(n == nbytes, "copy out: tensor has ", n, " bytes, destination ", nbytes);
    if (n > 0) std::memcpy(dst, t.const_data_ptr(), n);
    return 0;
  });
}

int32_t dt_tensor_meta(dt_handle h, int64_t* out, int32_t cap) {
  return dt::guard<int32_t>(-1, [&]() -> int32_t {
    const at::Tensor& t = dt::unwrap(h);
    int32_t nd = static_cast<int32_t>(t.dim());
    TORCH_CHECK(cap >= 7 + 2 * nd, "meta: buffer too small for ", nd, " dims");
    out[0] = static_cast<int64_t>(t.scalar_type());
    out[1] = static_cast<int64_t>(t.device().type());
    out[2] = t.device().index();
    out[3] = t.requires_grad();
    out[4] = t.is_leaf();
    out[5] = t.numel();
    out[6] = nd;
    bool strided = t.layout() == at::kStrided;
    for (int32_t i = 0; i < nd; i++) {
      out[7 + i] = t.size(i);
      out[7 + nd + i] = strided ? t.stride(i) : 0;
    }
    return nd;
  });
}

void dt_tensor_free(dt_handle h) { dt::release(h); }

void dt_tensor_free_many(const dt_handle* hs, int32_t n) {
  for (int32_t i = 0; i < n; i++) dt::release(hs[i]);
}

dt_handle dt_tensor_share(dt_handle h) {
  return dt::guard<dt_handle>(0, [&]() { return dt::wrap(dt::unwrap(h)); });
}

int32_t dt_tensor_set_requires_grad(dt_handle h, int32_t flag) {
  return dt::guard<int32_t>(-1, [&]() {
    dt::unwrap(h).set_requires_grad(flag != 0);
    return 0;
  });
}
}
