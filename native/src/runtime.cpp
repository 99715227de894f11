// Runtime information and global switches: version, CUDA, memory, seeds,
// threads, autocast.
#include <ATen/DeviceAccelerator.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <dlfcn.h>
#include <torch/headeronly/version.h>

#include "internal.h"

#define DT_STR2(x) #x
#define DT_STR(x) DT_STR2(x)

extern "C" {

const char* dt_version(void) {
  return DT_STR(TORCH_VERSION_MAJOR) "." DT_STR(TORCH_VERSION_MINOR) "." DT_STR(
      TORCH_VERSION_PATCH);
}

int32_t dt_cuda_is_available(void) {
  return dt::guard<int32_t>(0, [] { return at::detail::getCUDAHooks().hasCUDA() ? 1 : 0; });
}

int32_t dt_cuda_device_count(void) {
  return dt::guard<int32_t>(0, [] {
    return at::detail::getCUDAHooks().hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  });
}

// The device name comes from the CUDA driver's stable C API, so the shim needs
// no CUDA headers and builds the same against CPU and CUDA libtorch.
const char* dt_cuda_device_name(int32_t index) {
  static thread_local char name[256];
  if (dt_cuda_device_count() <= index || index < 0) return nullptr;
  void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) lib = dlopen("libcuda.so.1", RTLD_LAZY);
  if (!lib) return nullptr;
  using InitFn = int (*)(unsigned);
  using GetFn = int (*)(int*, int);
  using NameFn = int (*)(char*, int, int);
  auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
  auto get = reinterpret_cast<GetFn>(dlsym(lib, "cuDeviceGet"));
  auto get_name = reinterpret_cast<NameFn>(dlsym(lib, "cuDeviceGetName"));
  int dev = 0;
  if (!init || !get || !get_name || init(0) != 0 || get(&dev, index) != 0 ||
      get_name(name, sizeof(name), dev) != 0)
    return nullptr;
  return name;
}

void dt_memory_stats(int32_t cuda_device, int64_t* out) {
  out[0] = dt::live_handles.load();
  out[1] = dt::live_bytes.load();
  out[2] = out[3] = out[4] = 0;
  if (cuda_device < 0 || cuda_device >= dt_cuda_device_count()) return;
  dt::guard<int32_t>(0, [&] {
    auto s = at::accelerator::getDeviceStats(static_cast<c10::DeviceIndex>(cuda_device));
    out[2] = s.allocated_bytes[0].current;
    out[3] = s.reserved_bytes[0].current;
    out[4] = s.allocated_bytes[0].peak;
    return 0;
  });
}

int32_t dt_cuda_empty_cache(void) {
  return dt::guard<int32_t>(-1, [] {
    if (dt_cuda_device_count() > 0) at::accelerator::emptyCache();
    return 0;
  });
}

int32_t dt_cuda_synchronize(int32_t device) {
  return dt::guard<int32_t>(-1, [&] {
    at::detail::getCUDAHooks().deviceSynchronize(static_cast<c10::DeviceIndex>(device));
    return 0;
  });
}

int32_t dt_manual_seed(uint64_t seed) {
  return dt::guard<int32_t>(-1, [&] {
    at::manual_seed(seed);
    return 0;
  });
}

void dt_set_num_threads(int32_t n) {
  dt::guard<int32_t>(-1, [&] {
    at::set_num_threads(n);
    return 0;
  });
}

int32_t dt_get_num_threads(void) { return at::get_num_threads(); }

int32_t dt_autocast_set(int32_t device_type, int32_t enabled, int32_t dtype) {
  return dt::guard<int32_t>(-1, [&] {
    auto dev = static_cast<at::DeviceType>(device_type);
    at::autocast::set_autocast_enabled(dev, enabled != 0);
    if (dtype >= 0) at::autocast::set_autocast_dtype(dev, static_cast<at::ScalarType>(dtype));
    if (!enabled) at::autocast::clear_cache();
    return 0;
  });
}

int32_t dt_autocast_is_enabled(int32_t device_type) {
  return dt::guard<int32_t>(-1, [&] {
    return at::autocast::is_autocast_enabled(static_cast<at::DeviceType>(device_type)) ? 1 : 0;
  });
}

int32_t dt_autocast_dtype(int32_t device_type) {
  return dt::guard<int32_t>(-1, [&] {
    return static_cast<int32_t>(
        at::autocast::get_autocast_dtype(static_cast<at::DeviceType>(device_type)));
  });
}
}
