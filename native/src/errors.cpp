// Thread-local error slot and the warning queue that replaces glog's stderr output.
#include <mutex>
#include <vector>

#include "internal.h"

namespace dt {

static thread_local std::string tl_error;
static thread_local bool tl_has_error = false;

void set_error(const char* msg) {
  tl_error = msg ? msg : "unknown error";
  tl_has_error = true;
}
void clear_error() { tl_has_error = false; }

static std::mutex warn_mutex;
static std::vector<std::string> warn_queue;
static int64_t warn_count = 0;

// Queues libtorch warnings for TypeScript to print (once each) or collect.
class QueueingHandler : public c10::WarningHandler {
 public:
  void process(const c10::Warning& w) override {
    std::lock_guard<std::mutex> lock(warn_mutex);
    if (warn_queue.size() < 1000) warn_queue.push_back(w.msg());
    warn_count = static_cast<int64_t>(warn_queue.size());
  }
};

static QueueingHandler handler;

// The handler slot is thread-local in recent libtorch, so every thread that
// enters the shim (Deno's nonblocking pool included) installs it once.
void install_warning_handler() {
  static thread_local bool installed = false;
  if (!installed) {
    c10::WarningUtils::set_warning_handler(&handler);
    installed = true;
  }
}

}  // namespace dt

extern "C" {

const char* dt_last_error(void) { return dt::tl_has_error ? dt::tl_error.c_str() : nullptr; }

const int64_t* dt_warning_count_ptr(void) {
  dt::install_warning_handler();
  return &dt::warn_count;
}

const char* dt_take_warnings(void) {
  static thread_local std::string joined;
  std::lock_guard<std::mutex> lock(dt::warn_mutex);
  joined.clear();
  for (size_t i = 0; i < dt::warn_queue.size(); i++) {
    if (i) joined.push_back('\x1e');
    joined += dt::warn_queue[i];
  }
  dt::warn_queue.clear();
  dt::warn_count = 0;
  return joined.c_str();
}
}
