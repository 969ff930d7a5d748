// The op table: one small function per libtorch call, registered under PyTorch's names.
// Nothing here decides anything; the TypeScript layer (src/torch/) gives these meaning.
// The list of ops is ops.def (also the source of src/torch/ops.generated.ts); this file holds
// the argument readers it names, the bodies of its CUSTOM entries, and the registration.
#include "common.h"
#include <cerrno>
#include <cmath>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <unistd.h>
#include <utility>

namespace ns {

using torch::Tensor;
#define T(i) argTensor(info, i)
#define I(i) argInt(info, i)
#define B(i) argBool(info, i)
#define IS(i) argInts(info, i)
#define W(expr) return wrap(info.Env(), (expr));

// ---- argument kinds: the parameter types ops.def's entries declare ---------------------
// Each kind is a distinct C++ type, so the type alone picks its reader (Read<Kind> below).
using Tn = torch::Tensor&;                     // a live tensor handle (the handle keeps owning it)
using OptTn = c10::optional<torch::Tensor>;    // a tensor, or null/undefined
using Tns = std::vector<torch::Tensor>;        // an array of tensors
using Dbl = double;
using Int = int64_t;                           // a whole number (1.5 is refused)
using Flag = bool;
using Ints = std::vector<int64_t>;
using Scalar = c10::Scalar;                    // integral numbers become integer Scalars
using OptScalar = c10::optional<c10::Scalar>;  // a number, or anything else for none
using OptInt = c10::optional<int64_t>;         // an integer, or anything else for none
using Dtype = torch::ScalarType;
using Dev = torch::Device;
using Reduction = at::Reduction::Reduction;

template <class K> struct Read;
template <> struct Read<Tn> { static Tn get(const Napi::CallbackInfo& info, size_t i) { return argTensor(info, i); } };
template <> struct Read<OptTn> { static OptTn get(const Napi::CallbackInfo& info, size_t i) { return argOptTensor(info, i); } };
template <> struct Read<Dbl> { static Dbl get(const Napi::CallbackInfo& info, size_t i) { return argDouble(info, i); } };
template <> struct Read<Int> { static Int get(const Napi::CallbackInfo& info, size_t i) { return argInt(info, i); } };
template <> struct Read<Flag> { static Flag get(const Napi::CallbackInfo& info, size_t i) { return argBool(info, i); } };
template <> struct Read<Ints> { static Ints get(const Napi::CallbackInfo& info, size_t i) { return argInts(info, i); } };
template <> struct Read<Dtype> { static Dtype get(const Napi::CallbackInfo& info, size_t i) { return argDtype(info, i); } };
template <> struct Read<Dev> { static Dev get(const Napi::CallbackInfo& info, size_t i) { return argDevice(info, i); } };
template <> struct Read<Scalar> {
  // Integral JS numbers become integer Scalars so int64 tensors (num_batches_tracked) stay int64.
  static Scalar get(const Napi::CallbackInfo& info, size_t i) {
    double d = argDouble(info, i);
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return c10::Scalar(static_cast<int64_t>(d));
    return c10::Scalar(d);
  }
};
template <> struct Read<OptScalar> {
  static OptScalar get(const Napi::CallbackInfo& info, size_t i) {
    if (info[i].IsNumber()) return c10::Scalar(argDouble(info, i));
    return c10::nullopt;
  }
};
template <> struct Read<OptInt> {
  static OptInt get(const Napi::CallbackInfo& info, size_t i) {
    if (info[i].IsNumber()) return argInt(info, i);
    return c10::nullopt;
  }
};
template <> struct Read<Tns> {
  static Tns get(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsArray()) throwJs(info.Env(), "expected an array of tensors");
    Napi::Array a = info[i].As<Napi::Array>();
    Tns v;
    for (uint32_t k = 0; k < a.Length(); k++) {
      Napi::Value e = a.Get(k);
      if (!NTensor::Is(e)) throwJs(info.Env(), "expected an array of tensors");
      v.push_back(NTensor::Unwrap(e.As<Napi::Object>())->get(info.Env()));
    }
    return v;
  }
};
template <> struct Read<Reduction> {
  static Reduction get(const Napi::CallbackInfo& info, size_t i) {
    std::string r = argString(info, i);
    if (r == "mean") return at::Reduction::Mean;
    if (r == "sum") return at::Reduction::Sum;
    if (r == "none") return at::Reduction::None;
    throwJs(info.Env(), "unknown reduction '" + r + "' (mean, sum, none)");
  }
};

// ---- return kinds: what an entry's call becomes in JS ----------------------------------
// Each checks at compile time that the call returns what ops.def says (which is also what the
// generated TypeScript promises).
namespace ret {
template <class V, class Want> constexpr bool is = std::is_same_v<std::decay_t<V>, Want>;
struct Tensor {  // a new handle owning one more reference
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&& v) {
    static_assert(is<V, torch::Tensor>, "ops.def: Tensor entry does not return a tensor");
    return wrap(info.Env(), v);
  }
};
struct TensorOrNull {  // an undefined tensor becomes null
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&& v) {
    static_assert(is<V, torch::Tensor>, "ops.def: TensorOrNull entry does not return a tensor");
    if (!v.defined()) return info.Env().Null();
    return wrap(info.Env(), v);
  }
};
struct Self {  // in place: the JS object passed as argument 0, not a new handle
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&&) {
    static_assert(is<V, torch::Tensor>, "ops.def: Self entry does not return a tensor");
    return info[0];
  }
};
struct Bool {
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&& v) {
    static_assert(is<V, bool>, "ops.def: Bool entry does not return a bool");
    return Napi::Boolean::New(info.Env(), v);
  }
};
struct Num {
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&& v) {
    static_assert(std::is_arithmetic_v<std::decay_t<V>> && !is<V, bool>, "ops.def: Num entry does not return a number");
    return Napi::Number::New(info.Env(), static_cast<double>(v));
  }
};
struct Str {
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&& v) {
    static_assert(std::is_convertible_v<V, std::string>, "ops.def: Str entry does not return a string");
    return Napi::String::New(info.Env(), v);
  }
};
struct Dims {
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&& v) {
    static_assert(is<V, c10::IntArrayRef>, "ops.def: Dims entry does not return sizes");
    Napi::Array a = Napi::Array::New(info.Env(), v.size());
    for (size_t k = 0; k < v.size(); k++) a.Set(k, Napi::Number::New(info.Env(), v[k]));
    return a;
  }
};
struct Void {  // whatever the call returns (void, or the tensor an in-place setter hands back) is dropped
  static Napi::Value out(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }
  template <class V> static Napi::Value out(const Napi::CallbackInfo& info, V&&) { return info.Env().Undefined(); }
};
}  // namespace ret

// Reads argument k as the lambda's k-th parameter type, in order (a braced list evaluates left to
// right, so the first bad argument is the one reported), then calls it and converts the result.
template <class R, class Res, class... A, class F, size_t... K>
Napi::Value callWith(const Napi::CallbackInfo& info, const F& f, std::index_sequence<K...>) {
  std::tuple<A...> args{Read<A>::get(info, K)...};
  if constexpr (std::is_void_v<Res>) {
    std::apply(f, std::move(args));
    return R::out(info);
  } else {
    return R::out(info, std::apply(f, std::move(args)));
  }
}
template <class R, class F, class Res, class... A>
Napi::Value callOp(const Napi::CallbackInfo& info, const F& f, Res (F::*)(A...) const) {
  return callWith<R, Res, A...>(info, f, std::index_sequence_for<A...>{});
}

static torch::TensorOptions opts(Dtype dtype, Dev device) { return torch::TensorOptions().dtype(dtype).device(device); }

// ---- the list's OP and METHOD entries --------------------------------------------------
#define OP(name, R, params, ...)                                                            \
  FN(name) {                                                                               \
    auto f = [] params { return __VA_ARGS__; };                                            \
    GUARD(return callOp<ret::R>(info, f, &decltype(f)::operator());)                       \
  }
#define METHOD OP
#define CUSTOM(name, R, params)
#include "ops.def"
#undef OP
#undef METHOD
#undef CUSTOM

// ---- CUSTOM entries: bodies that are more than one call --------------------------------
// Copies a JS typed array into a new CPU tensor of the given shape (the JS memory is not kept).
FN(fromBuffer) {
  GUARD({
    if (!info[0].IsTypedArray()) throwJs(info.Env(), "fromBuffer: expected a typed array");
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    auto shape = IS(1);
    torch::ScalarType st = argDtype(info, 2);
    size_t elt = c10::elementSize(st);
    int64_t n = 1;
    for (auto s : shape) n *= s;
    if (static_cast<size_t>(n) * elt != ta.ByteLength())
      throwJs(info.Env(), "fromBuffer: " + std::to_string(ta.ByteLength()) + " bytes do not fill shape of " +
                              std::to_string(n) + " " + dtypeName(st) + " elements");
    uint8_t* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    Tensor t = torch::empty(shape, torch::TensorOptions().dtype(st));
    std::memcpy(t.data_ptr(), base, ta.ByteLength());
    W(t)
  })
}

// Copies a tensor's values out into a new ArrayBuffer (moving to CPU and contiguous first).
FN(toBuffer) {
  GUARD({
    Tensor t = T(0).detach().to(torch::kCPU).contiguous();
    size_t bytes = t.numel() * t.element_size();
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), bytes);
    if (bytes) std::memcpy(ab.Data(), t.data_ptr(), bytes);
    return ab;
  })
}

// Writes a tensor's bytes at fd's current position straight from tensor memory, so saving
// AlexNet's 87-230 MB of weights needs no JS-side copy (toBuffer + concatenation held two).
FN(writeFd) {
  GUARD({
    Tensor t = T(0).detach().to(torch::kCPU).contiguous();
    int fd = static_cast<int>(I(1));
    const char* p = static_cast<const char*>(t.data_ptr());
    size_t left = t.numel() * t.element_size();
    while (left > 0) {
      ssize_t k = ::write(fd, p, left);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) throwJs(info.Env(), std::string("writeFd: ") + (k < 0 ? std::strerror(errno) : "wrote nothing"));
      p += k;
      left -= static_cast<size_t>(k);
    }
    return info.Env().Undefined();
  })
}

// Reads a new CPU tensor of the given shape and dtype from fd at a byte offset (pread: the
// file position is untouched), straight into tensor memory.
FN(readFd) {
  GUARD({
    int fd = static_cast<int>(I(0));
    int64_t off = I(1);
    Tensor t = torch::empty(IS(2), torch::TensorOptions().dtype(argDtype(info, 3)));
    char* p = static_cast<char*>(t.data_ptr());
    size_t left = t.numel() * t.element_size();
    while (left > 0) {
      ssize_t k = ::pread(fd, p, left, off);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) throwJs(info.Env(), std::string("readFd: ") + std::strerror(errno));
      if (k == 0) throwJs(info.Env(), "readFd: unexpected end of file at byte " + std::to_string(off));
      p += k;
      off += k;
      left -= static_cast<size_t>(k);
    }
    W(t)
  })
}

FN(gradFnName) {
  GUARD({
    auto fn = T(0).grad_fn();
    if (!fn) return info.Env().Null();
    return Napi::String::New(info.Env(), fn->name());
  })
}

FN(setGradEnabled) {
  GUARD({
    bool prev = torch::GradMode::is_enabled();
    torch::GradMode::set_enabled(B(0));
    return Napi::Boolean::New(info.Env(), prev);
  })
}

// The default generator of a device: the CPU's, or a CUDA device's (which draws dropout masks
// for tensors on that device). Reached through the device-generic Context, so a CPU-only
// libtorch builds this unchanged and says at run time that it has no CUDA generator.
static at::Generator generatorFor(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || info[i].IsUndefined()) return at::detail::getDefaultCPUGenerator();
  torch::Device d = argDevice(info, i);
  if (d.is_cpu()) return at::detail::getDefaultCPUGenerator();
  if (d.is_cuda()) {
    if (!torch::cuda::is_available()) throwJs(info.Env(), "no CUDA generator: CUDA is not available in this libtorch build");
    return at::globalContext().defaultGenerator(d);
  }
  throwJs(info.Env(), "no default generator for device " + d.str());
}
FN(getRngState) {
  GUARD({
    auto gen = generatorFor(info, 0);
    std::lock_guard<std::mutex> lock(gen.mutex());
    W(gen.get_state())
  })
}
FN(setRngState) {
  GUARD({
    auto gen = generatorFor(info, 1);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(0));
    return info.Env().Undefined();
  })
}
FN(cudaSynchronize) {
  GUARD({
    if (torch::cuda::is_available()) torch::cuda::synchronize();
    return info.Env().Undefined();
  })
}

void InitOps(Napi::Env env, Napi::Object exports) {
#define OP(name, ...) REG(name);
#define METHOD OP
#define CUSTOM OP
#include "ops.def"
#undef OP
#undef METHOD
#undef CUSTOM
}

}  // namespace ns
