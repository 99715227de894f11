// Data-parallel entries over PyTorch's own c10d: TCPStore rendezvous, process groups
// (Gloo on CPU, NCCL in a CUDA build), collectives with timeouts, and DDP's c10d::Reducer.
//
// The c10d headers ship with the torch wheel; gloo's own headers do not (Debian's
// libgloo-dev has them). CMake/ffi build.ts define DT_HAVE_GLOO only where they are found,
// DT_HAVE_NCCL only where nccl.h is; without them the matching backend fails with a message
// naming what to install, and everything else in the shim still builds.
#include <torch/csrc/autograd/variable.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef DT_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef DT_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <stdexcept>

#include "internal.h"

namespace {

using ms = std::chrono::milliseconds;

constexpr const char* kNoGloo =
    "this libdsva_torch was built without Gloo (gloo's headers were not found): install them "
    "with `apt-get install libgloo-dev` (scripts/setup.sh does), then rebuild with "
    "`deno task build`";
constexpr const char* kNoNccl =
    "this libdsva_torch was built without NCCL (nccl.h was not found at build time: a CUDA "
    "libtorch with the nvidia-nccl package's headers is needed)";

struct StoreBox {
  c10::intrusive_ptr<c10d::Store> store;
};

struct GroupBox {
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  ms timeout;
  int backend;  // 0 gloo, 1 nccl
};

struct ReducerBox {
  std::unique_ptr<c10d::Reducer> reducer;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;  // keeps the group alive as long as the reducer
};

template <typename T>
dt_handle to_handle(T* p) {
  return static_cast<dt_handle>(reinterpret_cast<uintptr_t>(p));
}
template <typename T>
T* from_handle(dt_handle h, const char* what) {
  if (h == 0) throw std::invalid_argument(std::string("null ") + what + " handle");
  return reinterpret_cast<T*>(static_cast<uintptr_t>(h));
}

std::vector<at::Tensor> tensors_of(const dt_handle* hs, int32_t n) {
  std::vector<at::Tensor> ts;
  ts.reserve(n);
  for (int32_t i = 0; i < n; i++) ts.push_back(dt::unwrap(hs[i]));
  return ts;
}

// Waits for a collective with the call's timeout; a peer that died or hung surfaces here as
// gloo's "Connection closed by peer" / a timeout, which the guard turns into the error slot.
void wait(const c10::intrusive_ptr<c10d::Work>& work, ms timeout, const char* what) {
  try {
    if (!work->wait(timeout)) throw std::runtime_error("not completed");
  } catch (const c10::Error& e) {
    throw std::runtime_error(std::string(what) + ": communication failed: " +
                             e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(what) + ": communication failed: " + e.what());
  }
}

ms timeout_of(const GroupBox* g, int64_t timeout_ms) {
  return timeout_ms > 0 ? ms(timeout_ms) : g->timeout;
}

}  // namespace

extern "C" {

int32_t dt_dist_backend_available(int32_t backend) {
#ifdef DT_HAVE_GLOO
  if (backend == 0) return 1;
#endif
#ifdef DT_HAVE_NCCL
  if (backend == 1) return 1;
#endif
  (void)backend;
  return 0;
}

dt_handle dt_dist_store_tcp(const char* host, int32_t port, int32_t world_size, int32_t is_server,
                            int64_t timeout_ms) {
  return dt::guard<dt_handle>(0, [&]() {
    if (port < 0 || port > 65535) {
      throw std::invalid_argument("store port " + std::to_string(port) + " is not in 0..65535");
    }
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<uint16_t>(port);
    opts.isServer = is_server != 0;
    if (world_size > 0) opts.numWorkers = static_cast<size_t>(world_size);
    opts.waitWorkers = world_size > 0;  // clients count themselves in; the server waits
    opts.timeout = ms(timeout_ms);
    opts.multiTenant = true;
    // The classic socket server, not libuv's: deno exports uv_* functions of its own (for
    // Node-API modules), which the dynamic linker binds libtorch's libuv calls to, and the
    // libuv store daemon then crashes in uv_listen.
    opts.useLibUV = false;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
    // Keys of this group live under a prefix, as torch.distributed's default group's do, so
    // they cannot clash with those of torchrun's agent when its store is shared.
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("dsva_default_pg", tcp);
    return to_handle(new StoreBox{prefixed});
  });
}

/* The port a server store actually listens on (useful with port 0). */
int32_t dt_dist_store_port(dt_handle s) {
  return dt::guard<int32_t>(-1, [&]() -> int32_t {
    auto* box = from_handle<StoreBox>(s, "store");
    auto* prefix = dynamic_cast<c10d::PrefixStore*>(box->store.get());
    auto* tcp = dynamic_cast<c10d::TCPStore*>(prefix ? prefix->getUnderlyingStore().get()
                                                     : box->store.get());
    if (!tcp) throw std::invalid_argument("not a TCP store");
    return tcp->getPort();
  });
}

void dt_dist_store_free(dt_handle s) {
  dt::guard<int32_t>(0, [&]() {
    delete from_handle<StoreBox>(s, "store");
    return 0;
  });
}

dt_handle dt_dist_group_new(dt_handle s, int32_t rank, int32_t size, int32_t backend,
                            int64_t timeout_ms) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    // Before anything else, so that a build without the backend says what to install.
    if (backend == 0 && !dt_dist_backend_available(0)) throw std::runtime_error(kNoGloo);
    if (backend == 1 && !dt_dist_backend_available(1)) throw std::runtime_error(kNoNccl);
    auto* store = from_handle<StoreBox>(s, "store");
    if (size < 1 || rank < 0 || rank >= size) {
      throw std::invalid_argument("rank " + std::to_string(rank) + " is not in 0.." +
                                  std::to_string(size - 1) + " (world size " +
                                  std::to_string(size) + ")");
    }
    auto timeout = ms(timeout_ms);
    auto pg = c10::make_intrusive<c10d::ProcessGroup>(store->store, rank, size);
    if (backend == 0) {
#ifdef DT_HAVE_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(store->store, rank, size, opts);
      pg->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
      pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
#endif
    } else if (backend == 1) {
#ifdef DT_HAVE_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store->store, rank, size, opts);
      pg->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
      pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
#endif
    } else {
      throw std::invalid_argument("unknown backend code " + std::to_string(backend));
    }
    return to_handle(new GroupBox{pg, timeout, backend});
  });
}

int32_t dt_dist_group_free(dt_handle g) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<GroupBox>(g, "process group");
    // Tell the backend to stop its threads and close its connections before the last
    // reference goes (Gloo's destructor waits for queued work otherwise).
    try {
      box->pg->shutdown();
    } catch (...) {
    }
    delete box;
    return 0;
  });
}

/* op: 0 sum, 1 mean (sum, then divided by the world size: Gloo has no AVG), 2 max, 3 min. */
int32_t dt_dist_all_reduce(dt_handle g, const dt_handle* ts, int32_t n, int32_t op,
                           int64_t timeout_ms) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<GroupBox>(g, "process group");
    auto tensors = tensors_of(ts, n);
    c10d::AllreduceOptions opts;
    switch (op) {
      case 0:
      case 1:
        opts.reduceOp = c10d::ReduceOp::SUM;
        break;
      case 2:
        opts.reduceOp = c10d::ReduceOp::MAX;
        break;
      case 3:
        opts.reduceOp = c10d::ReduceOp::MIN;
        break;
      default:
        throw std::invalid_argument("unknown reduce op code " + std::to_string(op));
    }
    opts.timeout = timeout_of(box, timeout_ms);
    at::NoGradGuard no_grad;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      wait(box->pg->allreduce(one, opts), opts.timeout, "all_reduce");
      if (op == 1) t.div_(box->pg->getSize());
    }
    return 0;
  });
}

int32_t dt_dist_broadcast(dt_handle g, const dt_handle* ts, int32_t n, int32_t root,
                          int64_t timeout_ms) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<GroupBox>(g, "process group");
    if (root < 0 || root >= box->pg->getSize()) {
      throw std::invalid_argument("broadcast root " + std::to_string(root) + " is not a rank");
    }
    auto tensors = tensors_of(ts, n);
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = timeout_of(box, timeout_ms);
    at::NoGradGuard no_grad;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      wait(box->pg->broadcast(one, opts), opts.timeout, "broadcast");
    }
    return 0;
  });
}

/* Gathers t from every rank into out[0..world_size). Ranks may differ in dim 0 (uneven
 * shards): the sizes are exchanged first, each rank pads to the largest, and the results are
 * cut back. Every other dim and the dtype must agree. */
int32_t dt_dist_all_gather(dt_handle g, dt_handle t, dt_handle* out, int64_t timeout_ms) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<GroupBox>(g, "process group");
    const at::Tensor& x = dt::unwrap(t);
    const int world = box->pg->getSize();
    const auto timeout = timeout_of(box, timeout_ms);
    c10d::AllgatherOptions opts;
    opts.timeout = timeout;
    at::NoGradGuard no_grad;

    // [ndim, dtype, sizes...] per rank, padded to 9 dims.
    constexpr int kMaxDims = 8;
    if (x.dim() > kMaxDims) throw std::invalid_argument("all_gather supports at most 8 dims");
    auto desc = at::full({kMaxDims + 2}, -1, at::kLong);
    desc[0] = x.dim();
    desc[1] = static_cast<int64_t>(x.scalar_type());
    for (int64_t d = 0; d < x.dim(); d++) desc[d + 2] = x.size(d);
    desc = desc.to(x.device());
    std::vector<std::vector<at::Tensor>> descs(1);
    for (int r = 0; r < world; r++) descs[0].push_back(at::empty_like(desc));
    std::vector<at::Tensor> desc_in{desc};
    wait(box->pg->allgather(descs, desc_in, opts), timeout, "all_gather (sizes)");

    const int me = box->pg->getRank();
    int64_t longest = 0;
    std::vector<int64_t> rows(world);
    for (int r = 0; r < world; r++) {
      auto d = descs[0][r].cpu();
      auto* p = d.data_ptr<int64_t>();
      bool same = p[0] == x.dim() && p[1] == static_cast<int64_t>(x.scalar_type());
      for (int64_t k = 1; same && k < x.dim(); k++) same = p[k + 2] == x.size(k);
      if (!same || (x.dim() == 0 && p[0] != 0)) {
        throw std::invalid_argument("all_gather: rank " + std::to_string(r) +
                                    "'s tensor differs from rank " + std::to_string(me) +
                                    "'s in dtype or in a dim other than 0");
      }
      rows[r] = x.dim() == 0 ? 1 : p[2];
      longest = std::max(longest, rows[r]);
    }

    at::Tensor padded = x.dim() == 0 ? x.reshape({1}).contiguous() : x.contiguous();
    if (padded.size(0) < longest) {
      auto shape = padded.sizes().vec();
      shape[0] = longest - padded.size(0);
      padded = at::cat({padded, at::zeros(shape, padded.options())});
    }
    std::vector<std::vector<at::Tensor>> outs(1);
    for (int r = 0; r < world; r++) outs[0].push_back(at::empty_like(padded));
    std::vector<at::Tensor> in{padded};
    wait(box->pg->allgather(outs, in, opts), timeout, "all_gather");
    for (int r = 0; r < world; r++) {
      at::Tensor got = outs[0][r].narrow(0, 0, rows[r]);
      if (x.dim() == 0) got = got.reshape({});
      out[r] = dt::wrap(got.contiguous());
    }
    return world;
  });
}

int32_t dt_dist_barrier(dt_handle g, int64_t timeout_ms) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<GroupBox>(g, "process group");
    c10d::BarrierOptions opts;
    opts.timeout = timeout_of(box, timeout_ms);
    if (box->backend == 1) opts.device = c10::Device(c10::kCUDA, 0);
    wait(box->pg->barrier(opts), opts.timeout, "barrier");
    return 0;
  });
}

/* ---- DDP: c10d::Reducer, the engine behind torch.nn.parallel.DistributedDataParallel ---- */

/* Buckets the parameters as torch's DDP does (first bucket first_bucket_bytes, the rest
 * bucket_bytes, in reverse parameter order) and hooks the reducer into their gradient
 * accumulators: each bucket is all-reduced as soon as its gradients are ready, during
 * backward, and the averaged gradients are in .grad when backward returns. */
dt_handle dt_ddp_reducer_new(dt_handle g, const dt_handle* params, int32_t n, int64_t bucket_bytes,
                             int64_t first_bucket_bytes, int32_t find_unused) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    auto* box = from_handle<GroupBox>(g, "process group");
    auto ps = tensors_of(params, n);
    if (ps.empty()) throw std::invalid_argument("DistributedDataParallel: no parameters");
    for (int32_t i = 0; i < n; i++) {
      if (!ps[i].requires_grad()) {
        throw std::invalid_argument("DistributedDataParallel: parameter " + std::to_string(i) +
                                    " does not require grad");
      }
    }
    std::vector<bool> sparse(ps.size(), false);
    auto [indices, limits] = c10d::compute_bucket_assignment_by_size(
        ps, {static_cast<size_t>(first_bucket_bytes), static_cast<size_t>(bucket_bytes)},
        sparse);
    std::reverse(indices.begin(), indices.end());
    std::reverse(limits.begin(), limits.end());
    std::unordered_map<size_t, std::string> names;
    for (size_t i = 0; i < ps.size(); i++) names[i] = "param" + std::to_string(i);
    auto reducer = std::make_unique<c10d::Reducer>(
        ps, std::move(indices), box->pg, sparse, bucket_bytes, find_unused != 0,
        /*gradient_as_bucket_view=*/false, names, first_bucket_bytes,
        /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false,
        std::vector<int64_t>(limits.begin(), limits.end()));
    return to_handle(new ReducerBox{std::move(reducer), box->pg});
  });
}

/* Call before each forward whose backward should be reduced (as DDP's forward does): the
 * buckets are rebuilt once in the order gradients arrived, then the reducer arms its hooks. */
int32_t dt_ddp_prepare(dt_handle r, const dt_handle* outputs, int32_t n) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<ReducerBox>(r, "reducer");
    int32_t rebuilt = box->reducer->rebuild_buckets() ? 1 : 0;
    box->reducer->prepare_for_forward();
    box->reducer->prepare_for_backward(tensors_of(outputs, n));
    return rebuilt;
  });
}

/* Number of gradient buckets and, in sizes (up to cap), each bucket's parameter count. */
int32_t dt_ddp_buckets(dt_handle r, int64_t* sizes, int32_t cap) {
  return dt::guard<int32_t>(-1, [&]() {
    auto* box = from_handle<ReducerBox>(r, "reducer");
    auto buckets = box->reducer->get_grad_buckets(/*return_zero_tensors=*/true);
    for (size_t i = 0; i < buckets.size() && static_cast<int32_t>(i) < cap; i++) {
      sizes[i] = static_cast<int64_t>(buckets[i].getParameters().size());
    }
    return static_cast<int32_t>(buckets.size());
  });
}

int32_t dt_ddp_reducer_free(dt_handle r) {
  return dt::guard<int32_t>(-1, [&]() {
    delete from_handle<ReducerBox>(r, "reducer");
    return 0;
  });
}

}  // extern "C"
