// Reads a TorchScript archive (torch.jit.save; OpenAI distributes CLIP this way) with
// libtorch's own torch::jit::load and hands back its parameters and buffers by name, so a
// model built in Deno can take the weights without Python.
#include <torch/csrc/jit/serialization/import.h>

#include "internal.h"

extern "C" {

dt_handle dt_jit_state_dict_load(const char* path) {
  return dt::guard<dt_handle>(0, [&]() -> dt_handle {
    torch::jit::Module m = torch::jit::load(std::string(path), at::Device(at::kCPU));
    auto sd = std::make_unique<dt::StateDict>();
    for (const auto& p : m.named_parameters(/*recurse=*/true)) {
      sd->keys.push_back(p.name);
      sd->values.push_back(p.value.detach());
    }
    for (const auto& b : m.named_buffers(/*recurse=*/true)) {
      sd->keys.push_back(b.name);
      sd->values.push_back(b.value.detach());
    }
    TORCH_CHECK(!sd->keys.empty(), path, " is a TorchScript archive with no parameters or buffers");
    return static_cast<dt_handle>(reinterpret_cast<uintptr_t>(sd.release()));
  });
}
}
