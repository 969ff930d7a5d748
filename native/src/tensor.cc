// The tensor handle and the argument readers shared by every op.
#include "common.h"
#include <cmath>

namespace ns {

Napi::FunctionReference NTensor::ctor;
int64_t NTensor::live = 0;

Napi::Object NTensor::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function f = DefineClass(env, "NativeTensor", {
      InstanceMethod("dispose", &NTensor::Dispose),
      InstanceMethod("isDisposed", &NTensor::IsDisposed),
  });
  ctor = Napi::Persistent(f);
  ctor.SuppressDestruct();
  exports.Set("NativeTensor", f);
  return exports;
}

NTensor::NTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NTensor>(info) {}

// V8 is told how much native memory each handle keeps alive (its storage), so a handle that
// nobody disposed weighs what it holds and the GC, the safety net, collects it in time.
// The raw C call: it cannot throw, which a destructor (run by the GC) needs.
static void adjustExternal(napi_env env, int64_t delta) {
  int64_t ignored;
  if (delta != 0) napi_adjust_external_memory(env, delta, &ignored);
}

static int64_t storageBytes(const torch::Tensor& t) {
  return t.defined() && t.has_storage() ? static_cast<int64_t>(t.storage().nbytes()) : 0;
}

NTensor::~NTensor() {
  if (alive_) live--;
  adjustExternal(Env(), -bytes_);
}

Napi::Object NTensor::Wrap(Napi::Env env, torch::Tensor t) {
  Napi::Object o = ctor.New({});
  NTensor* n = Unwrap(o);
  n->t_ = std::move(t);
  n->alive_ = true;
  n->bytes_ = storageBytes(n->t_);
  adjustExternal(env, n->bytes_);
  live++;
  return o;
}

bool NTensor::Is(const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor.Value());
}

torch::Tensor& NTensor::get(Napi::Env env) {
  if (!alive_) throwJs(env, "tensor used after dispose()");
  return t_;
}

Napi::Value NTensor::Dispose(const Napi::CallbackInfo& info) {
  if (alive_) {
    t_ = torch::Tensor();
    alive_ = false;
    live--;
    adjustExternal(info.Env(), -bytes_);
    bytes_ = 0;
  }
  return info.Env().Undefined();
}

Napi::Value NTensor::IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !alive_);
}

void throwJs(Napi::Env env, const std::string& msg) { throw Napi::Error::New(env, msg); }

static void need(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || info[i].IsUndefined())
    throwJs(info.Env(), std::string("argument ") + std::to_string(i) + ": expected " + what);
}

torch::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i) {
  need(info, i, "a tensor");
  if (!NTensor::Is(info[i])) throwJs(info.Env(), "argument " + std::to_string(i) + ": expected a tensor");
  return NTensor::Unwrap(info[i].As<Napi::Object>())->get(info.Env());
}

c10::optional<torch::Tensor> argOptTensor(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return c10::nullopt;
  return argTensor(info, i);
}

double argDouble(const Napi::CallbackInfo& info, size_t i) {
  need(info, i, "a number");
  if (!info[i].IsNumber()) throwJs(info.Env(), "argument " + std::to_string(i) + ": expected a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// One rule for every integer argument, alone or in an array: a whole number in int64's range
// (1.5 is refused, not truncated; NaN and Inf are refused).
static int64_t toInt(Napi::Env env, double d, size_t i) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != std::trunc(d))
    throwJs(env, "argument " + std::to_string(i) + ": expected an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

int64_t argInt(const Napi::CallbackInfo& info, size_t i) { return toInt(info.Env(), argDouble(info, i), i); }

bool argBool(const Napi::CallbackInfo& info, size_t i) {
  need(info, i, "a boolean");
  if (!info[i].IsBoolean()) throwJs(info.Env(), "argument " + std::to_string(i) + ": expected a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> argInts(const Napi::CallbackInfo& info, size_t i) {
  need(info, i, "an array of integers");
  if (!info[i].IsArray()) throwJs(info.Env(), "argument " + std::to_string(i) + ": expected an array of integers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) throwJs(info.Env(), "argument " + std::to_string(i) + ": expected an array of integers");
    out[k] = toInt(info.Env(), v.As<Napi::Number>().DoubleValue(), i);
  }
  return out;
}

std::string argString(const Napi::CallbackInfo& info, size_t i) {
  need(info, i, "a string");
  if (!info[i].IsString()) throwJs(info.Env(), "argument " + std::to_string(i) + ": expected a string");
  return info[i].As<Napi::String>().Utf8Value();
}

torch::ScalarType argDtype(const Napi::CallbackInfo& info, size_t i) {
  std::string s = argString(info, i);
  if (s == "float32") return torch::kFloat32;
  if (s == "float64") return torch::kFloat64;
  if (s == "int64") return torch::kInt64;
  if (s == "int32") return torch::kInt32;
  if (s == "uint8") return torch::kUInt8;
  if (s == "bool") return torch::kBool;
  throwJs(info.Env(), "unknown dtype '" + s + "' (float32, float64, int64, int32, uint8, bool)");
}

const char* dtypeName(torch::ScalarType s) {
  switch (s) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(s);
  }
}

torch::Device argDevice(const Napi::CallbackInfo& info, size_t i) {
  return torch::Device(argString(info, i));
}

Napi::Value wrap(Napi::Env env, const torch::Tensor& t) { return NTensor::Wrap(env, t); }

}  // namespace ns
