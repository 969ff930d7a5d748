// Module entry: registers the tensor handle, the op table, the probe kernels and the locator's watch.
#include "common.h"
#include <malloc.h>
#include <cstdlib>

// libtorch's CPU allocator is posix_memalign. Inside Node, glibc serves every large tensor
// with a fresh mmap and returns it on free, so each step page-faults its activations in again
// (measured: 1,177 faults and ~3 ms for one 4.8 MB add, vs 0.4 ms in Python, whose glibc
// raises its mmap threshold dynamically). Keeping large blocks in the heap fixes that.
// These settings are process-wide: they hold for every malloc in the process, not only
// libtorch's. NANSCOPE_MALLOC_TUNING=0 leaves glibc's defaults (a library host that tunes
// malloc itself, or measures memory, may want that).
static bool g_mallocTuned = false;
static bool g_allocatorInstalled = false;

static bool envOff(const char* name) {
  const char* env = std::getenv(name);
  return env && std::string(env) == "0";
}

static void tuneMalloc() {
  if (envOff("NANSCOPE_MALLOC_TUNING")) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum: blocks up to 32 MiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // and are not handed back to the OS between steps
  mallopt(M_TOP_PAD, 64 << 20);
  g_mallocTuned = true;
}

// Which process-wide changes loading the addon made (see README, "Process-wide effects").
FN(processEffects) {
  GUARD({
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("mallocTuning", g_mallocTuned);
    o.Set("cpuAllocator", g_allocatorInstalled);
    return o;
  })
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  // The caching allocator replaces libtorch's CPU allocator for every tensor in the process
  // (PyTorch code in the same process included). NANSCOPE_CPU_ALLOCATOR=0 keeps libtorch's.
  if (!envOff("NANSCOPE_CPU_ALLOCATOR")) g_allocatorInstalled = ns::InstallAllocator();
  exports.Set("processEffects", Napi::Function::New(env, processEffects, "processEffects"));
  ns::NTensor::Init(env, exports);
  ns::InitOps(env, exports);
  ns::InitProbe(env, exports);
  ns::InitWatch(env, exports);
  ns::InitAllocator(env, exports);
  return exports;
}

NODE_API_MODULE(nanscope_native, Init)
