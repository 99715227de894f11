/** The C ABI of `native/include/dsva_torch.h`, as a `Deno.dlopen` symbol table. */

const h = "f64" as const; // tensor and op handles: addresses carried in doubles (see the C header)
const p = "pointer" as const;
const i32 = "i32" as const;

export const symbols = {
  dt_last_error: { parameters: [], result: p },
  dt_warning_count_ptr: { parameters: [], result: p },
  dt_take_warnings: { parameters: [], result: p },

  dt_tensor_from_buffer: {
    parameters: ["buffer", "i64", i32, "buffer", i32, i32, i32, i32],
    result: h,
  },
  dt_tensor_copy_out: { parameters: [h, "buffer", "i64"], result: i32 },
  dt_tensor_meta: { parameters: [h, p, i32], result: i32 },
  dt_tensor_free: { parameters: [h], result: "void" },
  dt_tensor_free_many: { parameters: [p, i32], result: "void" },
  dt_tensor_share: { parameters: [h], result: h },
  dt_tensor_grad_fn: { parameters: [h], result: p },
  dt_tensor_set_requires_grad: { parameters: [h, i32], result: i32 },

  dt_op_find: { parameters: ["buffer", "buffer"], result: h },
  dt_op_schema: { parameters: [h], result: p },
  dt_op_all_schemas: { parameters: [], result: p },
  dt_op_call: { parameters: [h, p, i32, p, p, i32], result: i32 },
  dt_op_call1: { parameters: [h, p, i32], result: h },
  dt_op_call_nb: {
    parameters: [h, "buffer", i32, "buffer", "buffer", i32, i32, "buffer", i32],
    result: i32,
    nonblocking: true,
  },

  dt_backward: { parameters: [h, h, i32, i32], result: i32 },
  dt_tensor_grad: { parameters: [h], result: h },
  dt_tensor_grad_id: { parameters: [h], result: "f64" },
  dt_tensor_set_grad: { parameters: [h, h], result: i32 },
  dt_grad_set_enabled: { parameters: [i32], result: i32 },
  dt_grad_is_enabled: { parameters: [], result: i32 },
  dt_autograd_grad: {
    parameters: ["buffer", i32, "buffer", "buffer", i32, i32, i32, i32, "buffer"],
    result: i32,
  },

  dt_state_dict_load: { parameters: ["buffer"], result: h },
  dt_state_dict_size: { parameters: [h], result: i32 },
  dt_state_dict_key: { parameters: [h, i32], result: p },
  dt_state_dict_value: { parameters: [h, i32], result: h },
  dt_state_dict_free: { parameters: [h], result: "void" },
  dt_jit_state_dict_load: { parameters: ["buffer"], result: h },

  dt_version: { parameters: [], result: p },
  dt_cuda_is_available: { parameters: [], result: i32 },
  dt_cuda_device_count: { parameters: [], result: i32 },
  dt_cuda_device_name: { parameters: [i32], result: p },
  dt_memory_stats: { parameters: [i32, "buffer"], result: "void" },
  dt_cuda_empty_cache: { parameters: [], result: i32 },
  dt_cuda_synchronize: { parameters: [i32], result: i32 },
  dt_manual_seed: { parameters: ["u64"], result: i32 },
  dt_set_num_threads: { parameters: [i32], result: "void" },
  dt_get_num_threads: { parameters: [], result: i32 },
  dt_autocast_set: { parameters: [i32, i32, i32], result: i32 },
  dt_autocast_is_enabled: { parameters: [i32], result: i32 },
  dt_autocast_dtype: { parameters: [i32], result: i32 },

  // distributed (c10d): collectives block the calling thread until done or timed out
  dt_dist_backend_available: { parameters: [i32], result: i32 },
  dt_dist_store_tcp: { parameters: ["buffer", i32, i32, i32, "i64"], result: h },
  dt_dist_store_port: { parameters: [h], result: i32 },
  dt_dist_store_free: { parameters: [h], result: "void" },
  dt_dist_group_new: { parameters: [h, i32, i32, i32, "i64"], result: h },
  dt_dist_group_free: { parameters: [h], result: i32 },
  dt_dist_all_reduce: { parameters: [h, "buffer", i32, i32, "i64"], result: i32 },
  dt_dist_broadcast: { parameters: [h, "buffer", i32, i32, "i64"], result: i32 },
  dt_dist_all_gather: { parameters: [h, h, "buffer", "i64"], result: i32 },
  dt_dist_barrier: { parameters: [h, "i64"], result: i32 },
  dt_ddp_reducer_new: { parameters: [h, "buffer", i32, "i64", "i64", i32], result: h },
  dt_ddp_prepare: { parameters: [h, "buffer", i32], result: i32 },
  dt_ddp_buckets: { parameters: [h, "buffer", i32], result: i32 },
  dt_ddp_reducer_free: { parameters: [h], result: i32 },
} as const satisfies Deno.ForeignLibraryInterface;

export type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
