// Module entry: registers the tensor handle, the op table and the probe kernels.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ns::NTensor::Init(env, exports);
  ns::InitOps(env, exports);
  ns::InitProbe(env, exports);
  return exports;
}

NODE_API_MODULE(nanscope_native, Init)
