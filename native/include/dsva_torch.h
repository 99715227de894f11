/* C ABI of the DSVA libtorch shim. Everything crossing the boundary is a plain
 * integer, double or pointer; tensors are opaque handles (dt_handle, 0 = none).
 *
 * A handle is the address of a heap box carried in a double: exact below 2^53,
 * which covers x86-64 and arm64 user space. JavaScript then keeps handles as
 * plain numbers, which Deno's FFI passes and returns without allocating a BigInt.
 *
 * Error convention: an entry that fails returns 0 (handles) or -1 (counts) and
 * leaves libtorch's message (without C++ backtrace) in a thread-local slot read
 * with dt_last_error(). Entries meant for Deno's `nonblocking: true` take an
 * error buffer instead, because they run on a pool thread. */
#ifndef DSVA_TORCH_H
#define DSVA_TORCH_H
#include <stdint.h>

typedef double dt_handle;

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors and warnings ---- */
const char* dt_last_error(void);
/* Address of the count of warnings waiting in the queue (read it without a call). */
const int64_t* dt_warning_count_ptr(void);
/* Drains the warning queue; messages separated by '\x1e'. Valid until the next call. */
const char* dt_take_warnings(void);

/* ---- tensors ---- */
dt_handle dt_tensor_from_buffer(const void* data, int64_t nbytes, int32_t dtype,
                               const int64_t* shape, int32_t ndim, int32_t device_type,
                               int32_t device_index, int32_t requires_grad);
/* Copies the tensor (moved to CPU, made contiguous) into dst; nbytes must match. */
int32_t dt_tensor_copy_out(dt_handle t, void* dst, int64_t nbytes);
/* out: [dtype, device_type, device_index, requires_grad, is_leaf, numel, ndim,
 *       shape..., strides...]; returns ndim or -1. cap = length of out. */
int32_t dt_tensor_meta(dt_handle t, int64_t* out, int32_t cap);
void dt_tensor_free(dt_handle t);
void dt_tensor_free_many(const dt_handle* ts, int32_t n);
dt_handle dt_tensor_share(dt_handle t); /* second handle to the same tensor */
/* The name of the autograd node that made t ("MulBackward0"), "" for none, NULL on error;
 * valid until the next call on this thread. */
const char* dt_tensor_grad_fn(dt_handle t);
int32_t dt_tensor_set_requires_grad(dt_handle t, int32_t flag);

/* ---- generic operator calls through the dispatcher ---- */
/* Looks up "aten::add" + "Tensor"; returns an op handle (0 on error), never freed. */
dt_handle dt_op_find(const char* name, const char* overload);
/* The schema text of an op, valid until the next call on this thread. */
const char* dt_op_schema(dt_handle op);
/* Every registered schema, '\n' separated, valid until the next call. */
const char* dt_op_all_schemas(void);
/* Encoded arguments -> results in outs (8-byte slots) with kinds[i] (see ops.cpp).
 * Returns the number of slots written, or -1. */
int32_t dt_op_call(dt_handle op, const uint8_t* args, int32_t nargs, uint64_t* outs,
                   uint8_t* kinds, int32_t max_outs);
/* Fast path for ops with one Tensor return: the handle, or 0 (error, or an
 * undefined result when dt_last_error() is NULL). */
dt_handle dt_op_call1(dt_handle op, const uint8_t* args, int32_t nargs);
/* Same as dt_op_call for `nonblocking: true`: runs with the caller's grad mode
 * and writes any error into err (NUL-terminated, at most err_len bytes). */
int32_t dt_op_call_nb(dt_handle op, const uint8_t* args, int32_t nargs, uint64_t* outs,
                      uint8_t* kinds, int32_t max_outs, int32_t grad_enabled, char* err,
                      int32_t err_len);

/* ---- autograd ---- */
int32_t dt_backward(dt_handle t, dt_handle grad, int32_t retain_graph, int32_t create_graph);
dt_handle dt_tensor_grad(dt_handle t);                  /* 0 when undefined */
/* Identity (TensorImpl address) of the grad, 0 when undefined: lets callers
 * reuse a wrapper while libtorch keeps accumulating into the same tensor. */
double dt_tensor_grad_id(dt_handle t);
int32_t dt_tensor_set_grad(dt_handle t, dt_handle grad); /* grad 0 = undefined */
int32_t dt_grad_set_enabled(int32_t enabled);          /* returns the previous mode */
int32_t dt_grad_is_enabled(void);
/* torch::autograd::grad. grad_outputs may hold 0 entries (ones). retain_graph < 0
 * means "same as create_graph". results[i] = 0 for unused inputs. */
int32_t dt_autograd_grad(const dt_handle* outputs, int32_t n_out, const dt_handle* grad_outputs,
                         const dt_handle* inputs, int32_t n_in, int32_t retain_graph,
                         int32_t create_graph, int32_t allow_unused, dt_handle* results);

/* ---- PyTorch state dicts (torch.save zip format, e.g. pytorch_model.bin) ---- */
dt_handle dt_state_dict_load(const char* path); /* opaque dict, 0 on error */
int32_t dt_state_dict_size(dt_handle d);
const char* dt_state_dict_key(dt_handle d, int32_t i); /* dotted key, valid until free */
dt_handle dt_state_dict_value(dt_handle d, int32_t i); /* new tensor handle */
void dt_state_dict_free(dt_handle d);
/* A TorchScript archive (torch.jit.save, e.g. OpenAI's ViT-B-32.pt) read by torch::jit::load
 * onto the CPU: its named parameters then buffers, as a dict for the dt_state_dict_* calls. */
dt_handle dt_jit_state_dict_load(const char* path); /* 0 on error */

/* ---- runtime ---- */
const char* dt_version(void); /* libtorch version the shim was built against */
int32_t dt_cuda_is_available(void);
int32_t dt_cuda_device_count(void);
const char* dt_cuda_device_name(int32_t index); /* NULL when unknown */
/* out: [live_handles, live_bytes, cuda_allocated, cuda_reserved, cuda_peak_allocated] */
void dt_memory_stats(int32_t cuda_device, int64_t* out);
int32_t dt_cuda_empty_cache(void);
int32_t dt_cuda_synchronize(int32_t device);
int32_t dt_manual_seed(uint64_t seed);
void dt_set_num_threads(int32_t n);
int32_t dt_get_num_threads(void);
int32_t dt_autocast_set(int32_t device_type, int32_t enabled, int32_t dtype);
int32_t dt_autocast_is_enabled(int32_t device_type);
int32_t dt_autocast_dtype(int32_t device_type); /* c10::ScalarType code */

/* ---- distributed (c10d; see src/distributed.cpp). Timeouts in ms; 0 = the group's. ---- */
int32_t dt_dist_backend_available(int32_t backend); /* backend: 0 gloo, 1 nccl */
/* A TCPStore client, or the server when is_server (which waits for world_size clients). */
dt_handle dt_dist_store_tcp(const char* host, int32_t port, int32_t world_size, int32_t is_server,
                            int64_t timeout_ms);
int32_t dt_dist_store_port(dt_handle store);
void dt_dist_store_free(dt_handle store);
dt_handle dt_dist_group_new(dt_handle store, int32_t rank, int32_t size, int32_t backend,
                            int64_t timeout_ms);
int32_t dt_dist_group_free(dt_handle group);
/* In place on each tensor; op: 0 sum, 1 mean, 2 max, 3 min. */
int32_t dt_dist_all_reduce(dt_handle group, const dt_handle* ts, int32_t n, int32_t op,
                           int64_t timeout_ms);
int32_t dt_dist_broadcast(dt_handle group, const dt_handle* ts, int32_t n, int32_t root,
                          int64_t timeout_ms);
/* out[r] = rank r's tensor (dim 0 may differ between ranks); returns the world size. */
int32_t dt_dist_all_gather(dt_handle group, dt_handle t, dt_handle* out, int64_t timeout_ms);
int32_t dt_dist_barrier(dt_handle group, int64_t timeout_ms);
/* DDP's c10d::Reducer over params (bucket sizes in bytes, as torch's DDP). */
dt_handle dt_ddp_reducer_new(dt_handle group, const dt_handle* params, int32_t n,
                             int64_t bucket_bytes, int64_t first_bucket_bytes,
                             int32_t find_unused);
/* Before a forward whose backward is to be reduced; returns 1 when buckets were rebuilt. */
int32_t dt_ddp_prepare(dt_handle reducer, const dt_handle* outputs, int32_t n);
int32_t dt_ddp_buckets(dt_handle reducer, int64_t* sizes, int32_t cap);
int32_t dt_ddp_reducer_free(dt_handle reducer);

#ifdef __cplusplus
}
#endif
#endif
