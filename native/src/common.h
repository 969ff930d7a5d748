// Shared plumbing for the addon: the JS-visible tensor handle, argument decoding, and the
// error guard. Every entry point runs inside GUARD so no C++ exception ever crosses N-API:
// libtorch's message becomes a JS Error instead of an abort.
#pragma once
#include <napi.h>
#include <torch/torch.h>
#include <array>
#include <cmath>
#include <string>
#include <vector>

namespace ns {

// One JS Tensor object owns exactly one torch::Tensor reference (one refcount). dispose()
// drops it at once; the GC finalizer is only a safety net for tensors nobody disposed.
class NTensor : public Napi::ObjectWrap<NTensor> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, torch::Tensor t);
  static bool Is(const Napi::Value& v);
  explicit NTensor(const Napi::CallbackInfo& info);
  torch::Tensor& get(Napi::Env env);
  static Napi::FunctionReference ctor;
  static int64_t live;  // handles currently owning a tensor (for leak tests)
  ~NTensor() override;

 private:
  torch::Tensor t_;
  bool alive_ = false;
  int64_t bytes_ = 0;  // storage bytes reported to V8 as external memory while alive
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value IsDisposed(const Napi::CallbackInfo& info);
};

// Argument readers: one per JS shape the ops take.
torch::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i);
c10::optional<torch::Tensor> argOptTensor(const Napi::CallbackInfo& info, size_t i);
double argDouble(const Napi::CallbackInfo& info, size_t i);
int64_t argInt(const Napi::CallbackInfo& info, size_t i);
bool argBool(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> argInts(const Napi::CallbackInfo& info, size_t i);
std::string argString(const Napi::CallbackInfo& info, size_t i);
torch::ScalarType argDtype(const Napi::CallbackInfo& info, size_t i);
torch::Device argDevice(const Napi::CallbackInfo& info, size_t i);
const char* dtypeName(torch::ScalarType s);

Napi::Value wrap(Napi::Env env, const torch::Tensor& t);

[[noreturn]] void throwJs(Napi::Env env, const std::string& msg);

// One pass over a tensor's memory (probe.cc); layout shared with src/torch/stats.ts (STAT_FIELDS).
enum Stat { kNumel, kSum, kSumSq, kMaxAbs, kMin, kMax, kNaN, kPosInf, kNegInf, kZeros, kSat, kCount };
using Stats = std::array<double, kCount>;
// The saturation band: finite elements <= lo or >= hi are counted in kSat (a sigmoid's outputs
// pinned near 0 or 1, a tanh's near -1 or 1). The default band (-inf, inf) counts nothing, so
// callers that do not ask pay one compare per element inside the same vectorised pass.
struct Band { float lo = -INFINITY, hi = INFINITY; };
Stats statsOf(const torch::Tensor& t, Band band = {});

void InitOps(Napi::Env env, Napi::Object exports);
void InitWatch(Napi::Env env, Napi::Object exports);
void InitProbe(Napi::Env env, Napi::Object exports);
void InitAllocator(Napi::Env env, Napi::Object exports);
bool InstallAllocator();

}  // namespace ns

// Wraps an entry point body: libtorch errors (c10::Error) keep their message without the
// C++ backtrace; anything else keeps what().
#define GUARD(...)                                                                      \
  try {                                                                                 \
    __VA_ARGS__                                                                          \
  } catch (const Napi::Error&) {                                                        \
    throw;                                                                              \
  } catch (const c10::Error& e) {                                                       \
    throw Napi::Error::New(info.Env(), std::string(e.what_without_backtrace()));        \
  } catch (const std::exception& e) {                                                   \
    throw Napi::Error::New(info.Env(), std::string(e.what()));                          \
  }

#define FN(name) static Napi::Value name(const Napi::CallbackInfo& info)
#define REG(name) exports.Set(#name, Napi::Function::New(env, name, #name))
