// The op table: one small function per libtorch call, registered under PyTorch's names.
// Nothing here decides anything; the TypeScript layer (src/torch/) gives these meaning.
#include "common.h"
#include <cerrno>
#include <cmath>
#include <cstring>
#include <unistd.h>

namespace ns {

using torch::Tensor;
#define T(i) argTensor(info, i)
#define OT(i) argOptTensor(info, i)
#define D(i) argDouble(info, i)
#define I(i) argInt(info, i)
#define B(i) argBool(info, i)
#define IS(i) argInts(info, i)
#define W(expr) return wrap(info.Env(), (expr));
#define INPLACE(expr) { (expr); return info[0]; }

static torch::TensorOptions opts(const Napi::CallbackInfo& info, size_t i) {
  return torch::TensorOptions().dtype(argDtype(info, i)).device(argDevice(info, i + 1));
}

// ---- creation -------------------------------------------------------------------------
FN(zeros) { GUARD(W(torch::zeros(IS(0), opts(info, 1)))) }
FN(ones) { GUARD(W(torch::ones(IS(0), opts(info, 1)))) }
FN(empty) { GUARD(W(torch::empty(IS(0), opts(info, 1)))) }
FN(full) { GUARD(W(torch::full(IS(0), D(1), opts(info, 2)))) }
FN(rand) { GUARD(W(torch::rand(IS(0), opts(info, 1)))) }
FN(randn) { GUARD(W(torch::randn(IS(0), opts(info, 1)))) }
FN(arange) { GUARD(W(torch::arange(D(0), D(1), D(2), opts(info, 3)))) }
FN(randperm) { GUARD(W(torch::randperm(I(0), torch::TensorOptions().dtype(torch::kInt64)))) }

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

FN(item) { GUARD(return Napi::Number::New(info.Env(), T(0).item().toDouble());) }

// ---- properties -----------------------------------------------------------------------
FN(shape) {
  GUARD({
    auto s = T(0).sizes();
    Napi::Array a = Napi::Array::New(info.Env(), s.size());
    for (size_t k = 0; k < s.size(); k++) a.Set(k, Napi::Number::New(info.Env(), s[k]));
    return a;
  })
}
FN(dtype) { GUARD(return Napi::String::New(info.Env(), dtypeName(T(0).scalar_type()));) }
FN(device) { GUARD(return Napi::String::New(info.Env(), T(0).device().str());) }
FN(numel) { GUARD(return Napi::Number::New(info.Env(), T(0).numel());) }
FN(requiresGrad) { GUARD(return Napi::Boolean::New(info.Env(), T(0).requires_grad());) }
FN(isLeaf) { GUARD(return Napi::Boolean::New(info.Env(), T(0).is_leaf());) }
FN(gradFnName) {
  GUARD({
    auto fn = T(0).grad_fn();
    if (!fn) return info.Env().Null();
    return Napi::String::New(info.Env(), fn->name());
  })
}
FN(sameStorage) { GUARD(return Napi::Boolean::New(info.Env(), T(0).is_same(T(1)));) }

// ---- elementwise ----------------------------------------------------------------------
#define UNARY(name, expr) FN(name) { GUARD({ Tensor& x = T(0); W(expr) }) }
UNARY(neg, x.neg())
UNARY(abs, x.abs())
UNARY(sqrt, x.sqrt())
UNARY(exp, x.exp())
UNARY(log, x.log())
UNARY(relu, torch::relu(x))
UNARY(sigmoid, torch::sigmoid(x))
UNARY(tanh, torch::tanh(x))
UNARY(square, x.square())
UNARY(reciprocal, x.reciprocal())
UNARY(isfinite, torch::isfinite(x))
UNARY(isnan, torch::isnan(x))
UNARY(isinf, torch::isinf(x))
UNARY(logicalNot, torch::logical_not(x))
UNARY(detach, x.detach())
UNARY(alias, x.alias())  // same memory, its own autograd node: the probes' per-module gradient tap
UNARY(clone, x.clone())
UNARY(contiguous, x.contiguous())
UNARY(any, x.any())
UNARY(all, x.all())
FN(relu_) { GUARD(INPLACE(T(0).relu_())) }
FN(zero_) { GUARD(INPLACE(T(0).zero_())) }

#define BINARY(name, expr) FN(name) { GUARD({ Tensor& a = T(0); Tensor& b = T(1); W(expr) }) }
BINARY(add, a.add(b))
BINARY(sub, a.sub(b))
BINARY(mul, a.mul(b))
BINARY(div, a.div(b))
BINARY(pow, a.pow(b))
BINARY(eq, a.eq(b))
BINARY(ne, a.ne(b))
BINARY(gt, a.gt(b))
BINARY(lt, a.lt(b))
BINARY(ge, a.ge(b))
BINARY(le, a.le(b))
BINARY(maximum, torch::maximum(a, b))
BINARY(minimum, torch::minimum(a, b))
BINARY(logicalAnd, torch::logical_and(a, b))
BINARY(logicalOr, torch::logical_or(a, b))
BINARY(matmul, torch::matmul(a, b))
FN(mul_) { GUARD(INPLACE(T(0).mul_(T(1)))) }
FN(div_) { GUARD(INPLACE(T(0).div_(T(1)))) }
FN(copy_) { GUARD(INPLACE(T(0).copy_(T(1)))) }

// Integral JS numbers become integer Scalars so int64 tensors (num_batches_tracked) stay int64.
static c10::Scalar argScalar(const Napi::CallbackInfo& info, size_t i) {
  double d = argDouble(info, i);
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return c10::Scalar(static_cast<int64_t>(d));
  return c10::Scalar(d);
}
#define SCALAR(name, expr) FN(name) { GUARD({ Tensor& a = T(0); c10::Scalar s = argScalar(info, 1); W(expr) }) }
SCALAR(addScalar, a.add(s))
SCALAR(subScalar, a.sub(s))
SCALAR(mulScalar, a.mul(s))
SCALAR(divScalar, a.div(s))
SCALAR(powScalar, a.pow(s))
SCALAR(rsubScalar, torch::rsub(a, s))
SCALAR(eqScalar, a.eq(s))
SCALAR(gtScalar, a.gt(s))
SCALAR(ltScalar, a.lt(s))
SCALAR(geScalar, a.ge(s))
SCALAR(leScalar, a.le(s))
FN(fill_) { GUARD(INPLACE(T(0).fill_(argScalar(info, 1)))) }
FN(mulScalar_) { GUARD(INPLACE(T(0).mul_(argScalar(info, 1)))) }
FN(addScalar_) { GUARD(INPLACE(T(0).add_(argScalar(info, 1)))) }
FN(divScalar_) { GUARD(INPLACE(T(0).div_(argScalar(info, 1)))) }

FN(add_) { GUARD(INPLACE(T(0).add_(T(1), D(2)))) }  // a += alpha * b, SGD's update
FN(where) { GUARD(W(torch::where(T(0), T(1), T(2)))) }
FN(clamp) {
  GUARD({
    c10::optional<c10::Scalar> lo, hi;
    if (info[1].IsNumber()) lo = D(1);
    if (info[2].IsNumber()) hi = D(2);
    W(T(0).clamp(lo, hi))
  })
}
FN(uniform_) { GUARD(INPLACE(T(0).uniform_(D(1), D(2)))) }
FN(normal_) { GUARD(INPLACE(T(0).normal_(D(1), D(2)))) }
FN(equal) { GUARD(return Napi::Boolean::New(info.Env(), torch::equal(T(0), T(1)));) }

// ---- reductions (empty dims = over all elements) --------------------------------------
FN(sum) { GUARD({ auto d = IS(1); W(d.empty() ? T(0).sum() : T(0).sum(d, B(2))) }) }
FN(mean) { GUARD({ auto d = IS(1); W(d.empty() ? T(0).mean() : T(0).mean(d, B(2))) }) }
FN(var) { GUARD({ auto d = IS(1); W(d.empty() ? T(0).var(B(2)) : T(0).var(d, B(2), B(3))) }) }
FN(amax) { GUARD({ auto d = IS(1); W(d.empty() ? T(0).max() : T(0).amax(d, B(2))) }) }
FN(amin) { GUARD({ auto d = IS(1); W(d.empty() ? T(0).min() : T(0).amin(d, B(2))) }) }
FN(argmax) { GUARD(W(info[1].IsNumber() ? T(0).argmax(I(1), B(2)) : T(0).argmax())) }
FN(norm) {
  GUARD({
    auto d = IS(2);
    W(d.empty() ? torch::norm(T(0), D(1)) : torch::norm(T(0), D(1), d, B(3)))
  })
}

// ---- shape ----------------------------------------------------------------------------
FN(reshape) { GUARD(W(T(0).reshape(IS(1)))) }
FN(view) { GUARD(W(T(0).view(IS(1)))) }
FN(flatten) { GUARD(W(T(0).flatten(I(1), I(2)))) }
FN(permute) { GUARD(W(T(0).permute(IS(1)))) }
FN(transpose) { GUARD(W(T(0).transpose(I(1), I(2)))) }
FN(squeeze) { GUARD(W(T(0).squeeze(I(1)))) }
FN(unsqueeze) { GUARD(W(T(0).unsqueeze(I(1)))) }
FN(expand) { GUARD(W(T(0).expand(IS(1)))) }
FN(narrow) { GUARD(W(T(0).narrow(I(1), I(2), I(3)))) }
FN(indexSelect) { GUARD(W(T(0).index_select(I(1), T(2)))) }
FN(select) { GUARD(W(T(0).select(I(1), I(2)))) }
FN(to) { GUARD(W(T(0).to(argDtype(info, 1)))) }
FN(toDevice) { GUARD(W(T(0).to(argDevice(info, 1)))) }
static std::vector<Tensor> tensorList(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throwJs(info.Env(), "expected an array of tensors");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<Tensor> v;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value e = a.Get(k);
    if (!NTensor::Is(e)) throwJs(info.Env(), "expected an array of tensors");
    v.push_back(NTensor::Unwrap(e.As<Napi::Object>())->get(info.Env()));
  }
  return v;
}
FN(cat) { GUARD(W(torch::cat(tensorList(info, 0), I(1)))) }
FN(stack) { GUARD(W(torch::stack(tensorList(info, 0), I(1)))) }

// ---- neural-network ops ---------------------------------------------------------------
FN(linear) { GUARD(W(torch::nn::functional::linear(T(0), T(1), OT(2).value_or(Tensor())))) }
FN(conv2d) { GUARD(W(torch::conv2d(T(0), T(1), OT(2).value_or(Tensor()), IS(3), IS(4), IS(5), I(6)))) }
FN(maxPool2d) { GUARD(W(torch::max_pool2d(T(0), IS(1), IS(2), IS(3), IS(4), B(5)))) }
FN(avgPool2d) { GUARD(W(torch::avg_pool2d(T(0), IS(1), IS(2), IS(3), B(4), B(5)))) }
FN(adaptiveAvgPool2d) { GUARD(W(torch::adaptive_avg_pool2d(T(0), IS(1)))) }
FN(dropout) { GUARD(W(torch::dropout(T(0), D(1), B(2)))) }
FN(logSoftmax) { GUARD(W(torch::log_softmax(T(0), I(1)))) }
FN(softmax) { GUARD(W(torch::softmax(T(0), I(1)))) }
static int64_t reduction(const Napi::CallbackInfo& info, size_t i) {
  std::string r = argString(info, i);
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throwJs(info.Env(), "unknown reduction '" + r + "' (mean, sum, none)");
}
FN(crossEntropy) { GUARD(W(torch::cross_entropy_loss(T(0), T(1), {}, reduction(info, 2)))) }
FN(nllLoss) { GUARD(W(torch::nll_loss(T(0), T(1), {}, reduction(info, 2)))) }
FN(mseLoss) { GUARD(W(torch::mse_loss(T(0), T(1), reduction(info, 2)))) }
// batch_norm(x, weight?, bias?, running_mean?, running_var?, training, momentum, eps):
// running stats are updated in place when training, exactly as F.batch_norm does.
FN(batchNorm) {
  GUARD(W(torch::batch_norm(T(0), OT(1), OT(2), OT(3), OT(4), B(5), D(6), D(7), false)))
}
FN(upsampleBilinear) { GUARD(W(torch::upsample_bilinear2d(T(0), IS(1), B(2)))) }

// ---- autograd -------------------------------------------------------------------------
FN(setRequiresGrad) { GUARD({ T(0).requires_grad_(B(1)); return info.Env().Undefined(); }) }
FN(backward) {
  GUARD({
    auto g = OT(1);
    T(0).backward(g.value_or(Tensor()), B(2));
    return info.Env().Undefined();
  })
}
FN(grad) {
  GUARD({
    const Tensor& g = T(0).grad();
    if (!g.defined()) return info.Env().Null();
    W(g)
  })
}
// Whether g is p's current gradient (the same tensor, not a copy): lets a cached .grad handle
// be reused without allocating a new one per read.
FN(isGradOf) {
  GUARD({
    const Tensor& pg = T(1).grad();
    return Napi::Boolean::New(info.Env(), pg.defined() && pg.unsafeGetTensorImpl() == T(0).unsafeGetTensorImpl());
  })
}
FN(setGrad) {
  GUARD({
    auto g = OT(1);
    T(0).mutable_grad() = g.has_value() ? *g : Tensor();
    return info.Env().Undefined();
  })
}
FN(retainGrad) { GUARD({ T(0).retain_grad(); return info.Env().Undefined(); }) }
FN(isGradEnabled) { GUARD(return Napi::Boolean::New(info.Env(), torch::GradMode::is_enabled());) }
FN(setGradEnabled) {
  GUARD({
    bool prev = torch::GradMode::is_enabled();
    torch::GradMode::set_enabled(B(0));
    return Napi::Boolean::New(info.Env(), prev);
  })
}

// ---- RNG, threads, devices, bookkeeping -----------------------------------------------
FN(manualSeed) { GUARD({ torch::manual_seed(static_cast<uint64_t>(I(0))); return info.Env().Undefined(); }) }
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
FN(setNumThreads) { GUARD({ torch::set_num_threads(static_cast<int>(I(0))); return info.Env().Undefined(); }) }
FN(getNumThreads) { GUARD(return Napi::Number::New(info.Env(), torch::get_num_threads());) }
FN(cudaIsAvailable) { GUARD(return Napi::Boolean::New(info.Env(), torch::cuda::is_available());) }
FN(cudaDeviceCount) { GUARD(return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));) }
FN(cudaSynchronize) {
  GUARD({
    if (torch::cuda::is_available()) torch::cuda::synchronize();
    return info.Env().Undefined();
  })
}
FN(liveTensors) { GUARD(return Napi::Number::New(info.Env(), static_cast<double>(NTensor::live));) }
FN(version) { GUARD(return Napi::String::New(info.Env(), TORCH_VERSION);) }
FN(configShow) { GUARD(return Napi::String::New(info.Env(), at::show_config());) }

void InitOps(Napi::Env env, Napi::Object exports) {
  REG(zeros); REG(ones); REG(empty); REG(full); REG(rand); REG(randn); REG(arange); REG(randperm);
  REG(fromBuffer); REG(toBuffer); REG(writeFd); REG(readFd); REG(item);
  REG(shape); REG(dtype); REG(device); REG(numel); REG(requiresGrad); REG(isLeaf); REG(gradFnName);
  REG(sameStorage);
  REG(neg); REG(abs); REG(sqrt); REG(exp); REG(log); REG(relu); REG(sigmoid); REG(tanh); REG(square);
  REG(reciprocal); REG(isfinite); REG(isnan); REG(isinf); REG(logicalNot); REG(detach); REG(alias); REG(clone);
  REG(contiguous); REG(any); REG(all); REG(relu_); REG(zero_);
  REG(add); REG(sub); REG(mul); REG(div); REG(pow); REG(eq); REG(ne); REG(gt); REG(lt); REG(ge); REG(le);
  REG(maximum); REG(minimum); REG(logicalAnd); REG(logicalOr); REG(matmul); REG(mul_); REG(div_); REG(copy_);
  REG(addScalar); REG(subScalar); REG(mulScalar); REG(divScalar); REG(powScalar); REG(rsubScalar);
  REG(eqScalar); REG(gtScalar); REG(ltScalar); REG(geScalar); REG(leScalar); REG(fill_); REG(mulScalar_);
  REG(addScalar_); REG(divScalar_); REG(add_); REG(where); REG(clamp); REG(uniform_); REG(normal_); REG(equal);
  REG(sum); REG(mean); REG(var); REG(amax); REG(amin); REG(argmax); REG(norm);
  REG(reshape); REG(view); REG(flatten); REG(permute); REG(transpose); REG(squeeze); REG(unsqueeze);
  REG(expand); REG(narrow); REG(indexSelect); REG(select); REG(to); REG(toDevice); REG(cat); REG(stack);
  REG(linear); REG(conv2d); REG(maxPool2d); REG(avgPool2d); REG(adaptiveAvgPool2d); REG(dropout);
  REG(logSoftmax); REG(softmax); REG(crossEntropy); REG(nllLoss); REG(mseLoss); REG(batchNorm);
  REG(upsampleBilinear);
  REG(setRequiresGrad); REG(backward); REG(grad); REG(isGradOf); REG(setGrad); REG(retainGrad); REG(isGradEnabled);
  REG(setGradEnabled);
  REG(manualSeed); REG(getRngState); REG(setRngState); REG(setNumThreads); REG(getNumThreads);
  REG(cudaIsAvailable); REG(cudaDeviceCount); REG(cudaSynchronize); REG(liveTensors); REG(version);
  REG(configShow);
}

}  // namespace ns
