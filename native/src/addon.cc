// Module entry: registers the tensor handle, the op table and the probe kernels.
#include "common.h"
#include <malloc.h>
#include <cstdlib>

// libtorch's CPU allocator is posix_memalign. Inside Node, glibc serves every large tensor
// with a fresh mmap and returns it on free, so each step page-faults its activations in again
// (measured: 1,177 faults and ~3 ms for one 4.8 MB add, vs 0.4 ms in Python, whose glibc
// raises its mmap threshold dynamically). Keeping large blocks in the heap fixes that.
// NANSCOPE_MALLOC_TUNING=0 leaves glibc's defaults.
static void tuneMalloc() {
  const char* env = std::getenv("NANSCOPE_MALLOC_TUNING");
  if (env && std::string(env) == "0") return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum: blocks up to 32 MiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // and are not handed back to the OS between steps
  mallopt(M_TOP_PAD, 64 << 20);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  ns::InstallAllocator();
  ns::NTensor::Init(env, exports);
  ns::InitOps(env, exports);
  ns::InitProbe(env, exports);
  ns::InitAllocator(env, exports);
  return exports;
}

NODE_API_MODULE(nanscope_native, Init)
