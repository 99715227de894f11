// Autograd entries: backward, grad access, grad mode, torch::autograd::grad.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "internal.h"

extern "C" {

const char* dt_tensor_grad_fn(dt_handle h) {
  static thread_local std::string name;
  return dt::guard<const char*>(nullptr, [&]() -> const char* {
    const auto& fn = dt::unwrap(h).grad_fn();
    name = fn ? fn->name() : "";
    return name.c_str();
  });
}


int32_t dt_backward(dt_handle h, dt_handle grad, int32_t retain_graph, int32_t create_graph) {
  return dt::guard<int32_t>(-1, [&]() {
    at::Tensor g = grad ? dt::unwrap(grad) : at::Tensor();
    std::optional<bool> retain;
    if (retain_graph >= 0) retain = retain_graph != 0;
    dt::unwrap(h).backward(g, retain, create_graph != 0);
    return 0;
  });
}

dt_handle dt_tensor_grad(dt_handle h) {
  return dt::guard<dt_handle>(0, [&]() { return dt::wrap(dt::unwrap(h).grad()); });
}

double dt_tensor_grad_id(dt_handle h) {
  return dt::guard<double>(0, [&]() -> double {
    const at::Tensor& g = dt::unwrap(h).grad();
    return g.defined() ? static_cast<double>(reinterpret_cast<uintptr_t>(g.unsafeGetTensorImpl()))
                       : 0;
  });
}

int32_t dt_tensor_set_grad(dt_handle h, dt_handle grad) {
  return dt::guard<int32_t>(-1, [&]() {
    dt::unwrap(h).mutable_grad() = grad ? dt::unwrap(grad) : at::Tensor();
    return 0;
  });
}

int32_t dt_grad_set_enabled(int32_t enabled) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(enabled != 0);
  return prev;
}

int32_t dt_grad_is_enabled(void) { return at::GradMode::is_enabled(); }

int32_t dt_autograd_grad(const dt_handle* outputs, int32_t n_out, const dt_handle* grad_outputs,
                         const dt_handle* inputs, int32_t n_in, int32_t retain_graph,
                         int32_t create_graph, int32_t allow_unused, dt_handle* results) {
  return dt::guard<int32_t>(-1, [&]() -> int32_t {
    std::vector<at::Tensor> outs, gouts, ins;
    for (int32_t i = 0; i < n_out; i++) {
      outs.push_back(dt::unwrap(outputs[i]));
      gouts.push_back(grad_outputs && grad_outputs[i] ? dt::unwrap(grad_outputs[i])
                                                      : at::Tensor());
    }
    for (int32_t i = 0; i < n_in; i++) ins.push_back(dt::unwrap(inputs[i]));
    std::optional<bool> retain;
    if (retain_graph >= 0) retain = retain_graph != 0;
    auto grads = torch::autograd::grad(outs, ins, gouts, retain, create_graph != 0,
                                       allow_unused != 0);
    for (int32_t i = 0; i < n_in; i++) results[i] = dt::wrap(grads[i]);
    return n_in;
  });
}
}
