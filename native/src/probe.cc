// Probe kernels: everything nanscope measures about a tensor comes from one pass over its
// memory (stats), so watching every layer on every step costs one native call per tensor.
// Gradient probes are autograd hooks that reduce in C++ while backward runs and keep only
// ten numbers; the gradient tensors themselves are never retained.
#include "common.h"
#include <ATen/Parallel.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NS_X86 1
#endif
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>

namespace ns {

// Layout shared with src/torch/stats.ts (STAT_FIELDS): the Stat enum in common.h.


// Exact path: one branchy pass that classifies every element (used when the fast path saw a
// non-finite value or an overflow).
static Stats statsFloatExact(const float* p, int64_t n, Band band) {
  const int64_t grain = 1 << 15;
  const int64_t chunks = (n + grain - 1) / grain;
  std::vector<Stats> part(std::max<int64_t>(chunks, 1));
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      double sum = 0, sq = 0, nan = 0, pinf = 0, ninf = 0, zeros = 0, sat = 0;
      float mx = -std::numeric_limits<float>::infinity(), mn = std::numeric_limits<float>::infinity(), ma = 0;
      const int64_t e = std::min(n, (c + 1) * grain);
      for (int64_t i = c * grain; i < e; i++) {
        const float v = p[i];
        if (std::isfinite(v)) {
          sum += v;
          sq += static_cast<double>(v) * v;
          mx = v > mx ? v : mx;
          mn = v < mn ? v : mn;
          const float a = std::fabs(v);
          ma = a > ma ? a : ma;
          zeros += (v == 0.0f);
          sat += (v <= band.lo) | (v >= band.hi);
        } else if (std::isnan(v)) {
          nan++;
        } else if (v > 0) {
          pinf++;
        } else {
          ninf++;
        }
      }
      part[c] = {0, sum, sq, ma, mn, mx, nan, pinf, ninf, zeros, sat};
    }
  });
  Stats s{static_cast<double>(n), 0, 0, 0, INFINITY, -INFINITY, 0, 0, 0, 0, 0};
  for (int64_t c = 0; c < chunks; c++) {
    s[kSat] += part[c][kSat];
    s[kSum] += part[c][kSum];
    s[kSumSq] += part[c][kSumSq];
    s[kMaxAbs] = std::max(s[kMaxAbs], part[c][kMaxAbs]);
    s[kMin] = std::min(s[kMin], part[c][kMin]);
    s[kMax] = std::max(s[kMax], part[c][kMax]);
    s[kNaN] += part[c][kNaN];
    s[kPosInf] += part[c][kPosInf];
    s[kNegInf] += part[c][kNegInf];
    s[kZeros] += part[c][kZeros];
  }
  return s;
}

// One block, branch-free. Two builds of the same arithmetic, picked once at load time:
//  - blockStatsAvx2: AVX2 intrinsics with two independent accumulators per reduction. One
//    accumulator made the pass latency-bound: each vector waited on the previous vector's
//    add/fma into the same register (3-4 cycles), ~7 floats/ns against ~18 for a plain sum.
//    Two chains in flight double it in a standalone loop (1.2M floats, 1 thread, hot: 7.1 -> 13.8
//    floats/ns); through the addon, npm run bench:stats shows ~1.3x hot and no change cold. The
//    counts (zeros, outside the band) go in int32 lanes: exact, and off the float adders.
//    (An earlier try in GCC vector types, b7242fe, measured no gain and was reverted. With
//    the banded compares, two count registers each spilled to the stack here: one each fits.)
//  - blockStatsPortable: omp simd reductions, for CPUs without AVX2.
// Banded=false is the default band (-inf, inf), which most taps use (every gradient, every
// ReLU or linear output): sat is 0 for finite data, so its compares are dropped; the other
// reductions are the same code in both, so they give the same bits.
struct BlockStats { float sum, sq, zeros, sat, mn, mx; };

#ifdef NS_X86
template <bool Banded>
__attribute__((target("avx2,fma")))
static BlockStats blockStatsAvx2(const float* __restrict q, int64_t n, float lo, float hi) {
  const __m256 zero = _mm256_setzero_ps(), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  __m256 s0 = zero, s1 = zero, q0 = zero, q1 = zero;
  __m256 mn0 = _mm256_set1_ps(INFINITY), mn1 = mn0, mx0 = _mm256_set1_ps(-INFINITY), mx1 = mx0;
  // Counts: a true compare is -1, so subtracting it counts. One register each: an integer
  // subtract has a 1-cycle latency, so it never waits, and 16 ymm registers hold everything.
  __m256i z = _mm256_setzero_si256(), t = z;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(q + i), b = _mm256_loadu_ps(q + i + 8);
    s0 = _mm256_add_ps(s0, a);
    s1 = _mm256_add_ps(s1, b);
    q0 = _mm256_fmadd_ps(a, a, q0);
    q1 = _mm256_fmadd_ps(b, b, q1);
    z = _mm256_sub_epi32(z, _mm256_castps_si256(_mm256_cmp_ps(a, zero, _CMP_EQ_OQ)));
    z = _mm256_sub_epi32(z, _mm256_castps_si256(_mm256_cmp_ps(b, zero, _CMP_EQ_OQ)));
    if constexpr (Banded) {
      t = _mm256_sub_epi32(t, _mm256_castps_si256(_mm256_or_ps(_mm256_cmp_ps(a, vlo, _CMP_LE_OQ), _mm256_cmp_ps(a, vhi, _CMP_GE_OQ))));
      t = _mm256_sub_epi32(t, _mm256_castps_si256(_mm256_or_ps(_mm256_cmp_ps(b, vlo, _CMP_LE_OQ), _mm256_cmp_ps(b, vhi, _CMP_GE_OQ))));
    }
    mn0 = _mm256_min_ps(mn0, a);
    mn1 = _mm256_min_ps(mn1, b);
    mx0 = _mm256_max_ps(mx0, a);
    mx1 = _mm256_max_ps(mx1, b);
  }
  alignas(32) float S[8], Q[8], MN[8], MX[8];
  alignas(32) int32_t Z[8], T[8];
  _mm256_store_ps(S, _mm256_add_ps(s0, s1));
  _mm256_store_ps(Q, _mm256_add_ps(q0, q1));
  _mm256_store_ps(MN, _mm256_min_ps(mn0, mn1));
  _mm256_store_ps(MX, _mm256_max_ps(mx0, mx1));
  _mm256_store_si256(reinterpret_cast<__m256i*>(Z), z);
  _mm256_store_si256(reinterpret_cast<__m256i*>(T), t);
  BlockStats r{0, 0, 0, 0, INFINITY, -INFINITY};
  for (int j = 0; j < 8; j++) {
    r.sum += S[j];
    r.sq += Q[j];
    r.zeros += static_cast<float>(Z[j]);
    r.sat += static_cast<float>(T[j]);
    r.mn = std::min(r.mn, MN[j]);
    r.mx = std::max(r.mx, MX[j]);
  }
  for (; i < n; i++) {
    const float v = q[i];
    r.sum += v;
    r.sq += v * v;
    r.zeros += (v == 0.0f) ? 1.0f : 0.0f;
    if constexpr (Banded) r.sat += (v <= lo || v >= hi) ? 1.0f : 0.0f;
    r.mn = std::min(r.mn, v);
    r.mx = std::max(r.mx, v);
  }
  return r;
}
#endif

template <bool Banded>
static BlockStats blockStatsPortable(const float* __restrict q, int64_t n, float lo, float hi) {
  float sum = 0, sq = 0, zeros = 0, sat = 0, mn = INFINITY, mx = -INFINITY;
#pragma omp simd reduction(+ : sum, sq, zeros, sat) reduction(min : mn) reduction(max : mx)
  for (int64_t i = 0; i < n; i++) {
    const float v = q[i];
    sum += v;
    sq += v * v;
    zeros += (v == 0.0f) ? 1.0f : 0.0f;
    if constexpr (Banded) sat += (v <= lo || v >= hi) ? 1.0f : 0.0f;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  return {sum, sq, zeros, sat, mn, mx};
}

static BlockStats blockStats(const float* q, int64_t n, bool banded, float lo, float hi) {
#ifdef NS_X86
  // NANSCOPE_STATS_PORTABLE=1 picks the portable build on any CPU (test/torch.test.ts compares the two).
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && !std::getenv("NANSCOPE_STATS_PORTABLE");
  if (avx2) return banded ? blockStatsAvx2<true>(q, n, lo, hi) : blockStatsAvx2<false>(q, n, lo, hi);
#endif
  return banded ? blockStatsPortable<true>(q, n, lo, hi) : blockStatsPortable<false>(q, n, lo, hi);
}

// Fast path: blocks of 4096 in float, accumulated in double. NaN or Inf anywhere poisons the
// sum, so a finite result proves the tensor finite; otherwise (or if the float sum of squares
// overflowed) the exact pass runs.
static Stats statsFloat(const float* p, int64_t n, Band band) {
  const int64_t grain = 1 << 16;
  const int64_t chunks = (n + grain - 1) / grain;
  struct Part { double sum, sq, zeros, sat; float mn, mx; };
  const bool noBand = std::isinf(band.lo) && band.lo < 0 && std::isinf(band.hi) && band.hi > 0;
  std::vector<Part> part(std::max<int64_t>(chunks, 1));
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      Part r{0, 0, 0, 0, INFINITY, -INFINITY};
      const int64_t e = std::min(n, (c + 1) * grain);
      for (int64_t b = c * grain; b < e; b += 4096) {
        const int64_t m = std::min(e, b + 4096) - b;
        const BlockStats k = blockStats(p + b, m, !noBand, band.lo, band.hi);
        r.sum += k.sum;
        r.sat += k.sat;
        r.sq += k.sq;
        r.zeros += k.zeros;
        r.mn = std::min(r.mn, k.mn);
        r.mx = std::max(r.mx, k.mx);
      }
      part[c] = r;
    }
  });
  Stats s{static_cast<double>(n), 0, 0, 0, INFINITY, -INFINITY, 0, 0, 0, 0, 0};
  for (int64_t c = 0; c < chunks; c++) {
    s[kSat] += part[c].sat;
    s[kSum] += part[c].sum;
    s[kSumSq] += part[c].sq;
    s[kZeros] += part[c].zeros;
    s[kMin] = std::min<double>(s[kMin], part[c].mn);
    s[kMax] = std::max<double>(s[kMax], part[c].mx);
  }
  if (!std::isfinite(s[kSum]) || !std::isfinite(s[kSumSq]) || !std::isfinite(s[kMin]) || !std::isfinite(s[kMax])) {
    if (n > 0) return statsFloatExact(p, n, band);
  }
  s[kMaxAbs] = n > 0 ? std::max(std::fabs(s[kMin]), std::fabs(s[kMax])) : 0;
  return s;
}

// Any other dtype or device: the same numbers through ordinary tensor ops.
static Stats statsGeneric(const torch::Tensor& t0, Band band) {
  torch::NoGradGuard ng;
  torch::Tensor t = t0.to(torch::kFloat64);
  torch::Tensor fin = torch::isfinite(t);
  torch::Tensor v = torch::where(fin, t, torch::zeros({}, t.options()));
  double n = static_cast<double>(t.numel());
  double nf = fin.sum().item<double>();
  Stats s{n, v.sum().item<double>(), v.square().sum().item<double>(), n ? v.abs().max().item<double>() : 0,
          nf ? torch::where(fin, t, torch::full({}, INFINITY, t.options())).min().item<double>() : INFINITY,
          nf ? torch::where(fin, t, torch::full({}, -INFINITY, t.options())).max().item<double>() : -INFINITY,
          torch::isnan(t).sum().item<double>(), (t == INFINITY).sum().item<double>(),
          (t == -INFINITY).sum().item<double>(), (fin & (t == 0)).sum().item<double>(),
          (fin & ((t <= band.lo) | (t >= band.hi))).sum().item<double>()};
  return s;
}

Stats statsOf(const torch::Tensor& t, Band band) {
  if (t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous())
    return statsFloat(t.data_ptr<float>(), t.numel(), band);
  if (t.device().is_cpu() && t.scalar_type() == torch::kFloat32) {
    torch::Tensor c = t.contiguous();
    return statsFloat(c.data_ptr<float>(), c.numel(), band);
  }
  return statsGeneric(t, band);
}

// ---- one reduction per memory, per step ------------------------------------------------
// The taps meet the same memory more than once: on a plain stack the gradient at layer i's
// input tap is the very tensor that arrives at layer i-1's output; a container's output is
// its last child's output; Flatten's output is a view of its input. Stats depend only on the
// elements, so a tensor covering the same bytes as one reduced before (contiguous float32, same
// data pointer and length, same band), whose memory has not been written since (its version
// counter, shared by views and bumped by every in-place op, is unchanged), gets the stored
// numbers. Entries hold weak references: nothing is kept alive, and a freed tensor (whose
// address could be reused) can no longer be locked, so it never matches.
namespace {
using WeakImpl = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
struct Seen { WeakImpl impl; const void* data; int64_t numel; uint32_t version; float lo, hi; Stats s; };
// Room for every gradient of a large model: SGD's update sizes (statsMany) re-read the gradients
// paramStats reduced a moment before; the scan is a pointer compare per entry.
constexpr size_t kSeen = 256;
std::vector<Seen> g_seen;
size_t g_seenNext = 0;
std::mutex g_seenMu;  // forward taps run on the JS thread, gradient taps on autograd's

bool reusable(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous() && !t.is_inference() && t.numel() > 0;
}
}  // namespace

Stats tapStatsOf(const torch::Tensor& t, Band band) {
  if (!reusable(t)) return statsOf(t, band);
  const void* data = t.data_ptr();
  const uint32_t version = t.unsafeGetTensorImpl()->version_counter().current_version();
  {
    std::lock_guard<std::mutex> lock(g_seenMu);
    for (const Seen& e : g_seen) {
      if (e.data != data || e.numel != t.numel() || e.lo != band.lo || e.hi != band.hi || e.version != version) continue;
      c10::intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> held = e.impl.lock();
      if (!held.defined()) continue;  // freed: the address may now hold something else
      // Alive, so its memory is still at e.data; unchanged since if its counter did not move.
      if (held->data() == data && held->version_counter().current_version() == e.version) return e.s;
    }
  }
  Stats s = statsOf(t, band);
  std::lock_guard<std::mutex> lock(g_seenMu);
  Seen e{WeakImpl(t.getIntrusivePtr()), data, t.numel(), version, band.lo, band.hi, s};
  if (g_seen.size() < kSeen) g_seen.push_back(std::move(e));
  else g_seen[g_seenNext] = std::move(e);
  g_seenNext = (g_seenNext + 1) % kSeen;
  return s;
}

static void putStats(Napi::Float64Array& out, size_t at, const Stats& s) {
  for (int k = 0; k < kCount; k++) out[at + static_cast<size_t>(k)] = s[k];
}

// tapStats(t[, lo, hi]): stats() for the probes' taps, reusing a reduction of the same memory.
FN(tapStats) {
  GUARD({
    Band band;
    if (info.Length() >= 3) band = {static_cast<float>(argDouble(info, 1)), static_cast<float>(argDouble(info, 2))};
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), kCount);
    putStats(out, 0, tapStatsOf(argTensor(info, 0), band));
    return out;
  })
}

// statsMany([t...]): stats() of each tensor, in one call (the optimizer's update sizes; plain SGD's
// directions are the gradients paramStats just reduced, found in the tap memory).
FN(statsMany) {
  GUARD({
    if (!info[0].IsArray()) throwJs(info.Env(), "statsMany: expected an array of tensors");
    Napi::Array ts = info[0].As<Napi::Array>();
    const uint32_t n = ts.Length();
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(n) * kCount);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v = ts[i];
      if (!NTensor::Is(v)) throwJs(info.Env(), "statsMany: expected an array of tensors");
      putStats(out, static_cast<size_t>(i) * kCount, tapStatsOf(NTensor::Unwrap(v.As<Napi::Object>())->get(info.Env()), Band{}));
    }
    return out;
  })
}

// paramStats([p...]): for each parameter, stats(p) then stats(p.grad) (NaN when it has none),
// in one call: the probes read every parameter after backward.
FN(paramStats) {
  GUARD({
    if (!info[0].IsArray()) throwJs(info.Env(), "paramStats: expected an array of tensors");
    Napi::Array ps = info[0].As<Napi::Array>();
    const uint32_t n = ps.Length();
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), static_cast<size_t>(n) * 2 * kCount);
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value v = ps[i];
      if (!NTensor::Is(v)) throwJs(info.Env(), "paramStats: expected an array of tensors");
      const torch::Tensor& p = NTensor::Unwrap(v.As<Napi::Object>())->get(info.Env());
      const size_t at = static_cast<size_t>(i) * 2 * kCount;
      putStats(out, at, statsOf(p));
      const torch::Tensor& g = p.grad();
      if (g.defined()) putStats(out, at + kCount, tapStatsOf(g, Band{}));  // remembered: the update sizes read it again
      else for (int k = 0; k < kCount; k++) out[at + kCount + static_cast<size_t>(k)] = NAN;
    }
    return out;
  })
}

// stats(t[, lo, hi]): the one-pass numbers; with lo/hi, kSat counts elements outside (lo, hi).
FN(stats) {
  GUARD({
    Band band;
    if (info.Length() >= 3) band = {static_cast<float>(argDouble(info, 1)), static_cast<float>(argDouble(info, 2))};
    Stats s = statsOf(argTensor(info, 0), band);
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), kCount);
    for (int k = 0; k < kCount; k++) out[static_cast<size_t>(k)] = s[k];
    return out;
  })
}

// ---- BatchNorm batch statistics --------------------------------------------------------
// The BN probe (src/diagnose/bn-stats.ts) needs, per channel, the mean and biased variance of
// the whole batch and of its two halves (images [0, h) and [h, 2h), h = floor(N / 2)). As
// tensor ops that is a dozen passes and two full-size temporaries per BN layer, more than BN's
// own forward; here it is one read of the input. Sums run in double on data shifted by the
// channel's first element (the shifted-data algorithm), so E[d^2] - E[d]^2 does not cancel when
// the mean is large against the spread.
__attribute__((target_clones("avx2", "default")))
static void planeSums(const float* __restrict p, int64_t n, double k, double& s, double& q) {
  // Eight independent lanes per sum, so the additions do not wait on one another.
  double sa[8] = {0, 0, 0, 0, 0, 0, 0, 0}, qa[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
#pragma omp simd
    for (int j = 0; j < 8; j++) {
      const double d = static_cast<double>(p[i + j]) - k;
      sa[j] += d;
      qa[j] += d * d;
    }
  }
  double S = 0, Q = 0;
  for (; i < n; i++) {
    const double d = static_cast<double>(p[i]) - k;
    S += d;
    Q += d * d;
  }
  for (int j = 0; j < 8; j++) { S += sa[j]; Q += qa[j]; }
  s += S;
  q += Q;
}

// bnMoments(x, runMean, runVar): for a contiguous float32 CPU tensor x, [N, C] or [N, C, H, W],
// per channel [mean, var, mean_a, var_a, mean_b, var_b, runMean, runVar] (the whole batch, then
// the halves, variances biased, halves NaN when N < 2; then the running buffers' values, any
// shape with C elements, read here so the caller needs no second crossing). Anything else:
// null (the caller computes with tensor ops).
FN(bnMoments) {
  GUARD({
    const torch::Tensor& x = argTensor(info, 0);
    if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32 || !x.is_contiguous() || (x.dim() != 2 && x.dim() != 4) ||
        x.size(0) < 1 || x.numel() == 0)
      return info.Env().Null();
    const int64_t N = x.size(0), C = x.size(1), HW = x.dim() == 4 ? x.size(2) * x.size(3) : 1, h = N / 2;
    torch::Tensor run[2];
    for (int k = 0; k < 2; k++) {
      const torch::Tensor& b = argTensor(info, 1 + k);
      if (b.numel() != C) return info.Env().Null();
      torch::NoGradGuard ng;
      run[k] = b.detach().reshape({-1}).to(torch::kCPU, torch::kDouble).contiguous();
    }
    const float* p = x.data_ptr<float>();
    std::vector<double> out(static_cast<size_t>(C) * 8);
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
      // Image-major, so one thread reads memory front to back (a channel's planes sit C planes apart).
      const int64_t nc = c1 - c0;
      std::vector<double> shift(nc), s(3 * nc, 0.0), q(3 * nc, 0.0);  // per channel: images [0, h), [h, 2h), the odd one left
      for (int64_t c = c0; c < c1; c++) {
        const float first = p[c * HW];
        shift[c - c0] = std::isfinite(first) ? first : 0.0;
      }
      for (int64_t n = 0; n < N; n++) {
        const int g = n < h ? 0 : n < 2 * h ? 1 : 2;
        for (int64_t c = c0; c < c1; c++) planeSums(p + (n * C + c) * HW, HW, shift[c - c0], s[3 * (c - c0) + g], q[3 * (c - c0) + g]);
      }
      auto put = [](double* at, double k, double S, double Q, double cnt) {
        const double m = S / cnt, v = Q / cnt - m * m;
        at[0] = k + m;
        at[1] = v < 0 ? 0 : v;  // rounding can dip below 0; NaN (a NaN input) stays NaN
      };
      for (int64_t c = c0; c < c1; c++) {
        const double k = shift[c - c0];
        const double* S = &s[3 * (c - c0)];
        const double* Q = &q[3 * (c - c0)];
        double* o = out.data() + c * 8;
        put(o, k, S[0] + S[1] + S[2], Q[0] + Q[1] + Q[2], static_cast<double>(N * HW));
        if (h > 0) {
          put(o + 2, k, S[0], Q[0], static_cast<double>(h * HW));
          put(o + 4, k, S[1], Q[1], static_cast<double>(h * HW));
        } else {
          o[2] = o[3] = o[4] = o[5] = NAN;
        }
        o[6] = run[0].data_ptr<double>()[c];
        o[7] = run[1].data_ptr<double>()[c];
      }
    });
    Napi::Float64Array r = Napi::Float64Array::New(info.Env(), out.size());
    std::memcpy(r.Data(), out.data(), out.size() * sizeof(double));
    return r;
  })
}

// ---- magnitude histograms -------------------------------------------------------------
// |x| binned by float32 exponent, two octaves per bin: bin b < 128 holds exponent fields
// 2b and 2b+1, i.e. |x| in [2^(2b-127), 2^(2b-125)) (bin 0 also holds the subnormals); bin
// 128 counts exact zeros, bin 129 NaN and +-Inf. Reading the exponent bits needs no log, so
// this costs a few times a plain sum; it spans float32's whole range, so an activation on
// its way to Inf and a gradient fading to 1e-30 land in their own bins. Layout shared with
// src/torch/stats.ts (HIST_BINS).
constexpr int kHistBins = 130;
using Hist = std::array<double, kHistBins>;

static void histFloat(const float* p, int64_t n, Hist& out) {
  out.fill(0);
  const int64_t grain = 1 << 16;
  const int64_t chunks = (n + grain - 1) / grain;
  std::vector<Hist> part(std::max<int64_t>(chunks, 1));
  at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) {
      // Four interleaved tables so runs of equal bins do not serialise on one counter.
      uint32_t h[4][kHistBins] = {};
      const int64_t b = c * grain, e = std::min(n, b + grain);
      int64_t i = b;
      auto bin = [](float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        const uint32_t ex = (bits >> 23) & 0xff, mant = bits & 0x7fffff;
        return ex == 255 ? 129u : ((ex | mant) == 0 ? 128u : ex >> 1);
      };
      for (; i + 4 <= e; i += 4) {
        h[0][bin(p[i])]++;
        h[1][bin(p[i + 1])]++;
        h[2][bin(p[i + 2])]++;
        h[3][bin(p[i + 3])]++;
      }
      for (; i < e; i++) h[0][bin(p[i])]++;
      for (int k = 0; k < kHistBins; k++) part[c][k] = double(h[0][k]) + h[1][k] + h[2][k] + h[3][k];
    }
  });
  for (int64_t c = 0; c < chunks; c++)
    for (int k = 0; k < kHistBins; k++) out[k] += part[c][k];
}

static Hist histOf(const torch::Tensor& t) {
  Hist h;
  torch::NoGradGuard ng;
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  histFloat(c.data_ptr<float>(), c.numel(), h);
  return h;
}

static Napi::Float64Array histArray(Napi::Env env, const Hist& h) {
  Napi::Float64Array out = Napi::Float64Array::New(env, kHistBins);
  for (int k = 0; k < kHistBins; k++) out[static_cast<size_t>(k)] = h[k];
  return out;
}

FN(histogram) { GUARD(return histArray(info.Env(), histOf(argTensor(info, 0)));) }

// ---- gradient probes ------------------------------------------------------------------
// Slot k holds the stats of the last gradient seen by the hook registered with slot k, and
// the order in which the hooks fired (backward runs outputs-first), or -1 if it never fired.
static std::vector<Stats> g_slots;
static std::vector<double> g_order;
static double g_fired = 0;
// Histograms of the same gradients, filled only while setGradHist(true) (every Nth step).
static std::vector<Hist> g_hists;
static bool g_histOn = false;

static void ensureSlot(int64_t slot) {
  if (slot < 0 || slot > 1 << 20) throw std::runtime_error("gradProbe: bad slot");
  if (static_cast<size_t>(slot) >= g_slots.size()) {
    g_slots.resize(slot + 1);
    g_order.resize(slot + 1, -1);
    g_hists.resize(slot + 1);
  }
}

FN(gradProbe) {
  GUARD({
    torch::Tensor& t = argTensor(info, 0);
    int64_t slot = argInt(info, 1);
    const bool hist = info.Length() < 3 || argBool(info, 2);  // false: stats only, never binned
    ensureSlot(slot);
    if (!t.requires_grad()) throwJs(info.Env(), "gradProbe: tensor does not require grad");
    t.register_hook([slot, hist](const torch::Tensor& g) {
      g_slots[slot] = tapStatsOf(g, Band{});
      if (g_histOn && hist) g_hists[slot] = histOf(g);
      g_order[slot] = g_fired++;
    });
    return info.Env().Undefined();
  })
}

// Returns [stats(kCount) + order] per slot for slots 0..n-1, then clears them for the next step.
FN(readGradProbes) {
  GUARD({
    int64_t n = argInt(info, 0);
    ensureSlot(n > 0 ? n - 1 : 0);
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), n * (kCount + 1));
    for (int64_t s = 0; s < n; s++) {
      for (int k = 0; k < kCount; k++) out[static_cast<size_t>(s * (kCount + 1) + k)] = g_order[s] < 0 ? NAN : g_slots[s][k];
      out[static_cast<size_t>(s * (kCount + 1) + kCount)] = g_order[s];
      g_order[s] = -1;
    }
    g_fired = 0;
    return out;
  })
}

FN(setGradHist) { GUARD({ g_histOn = argBool(info, 0); return info.Env().Undefined(); }) }

// Histograms per slot for slots 0..n-1 (NaN where the hook did not fire). Call before
// readGradProbes, which clears the slots' fired marks.
FN(readGradHists) {
  GUARD({
    int64_t n = argInt(info, 0);
    ensureSlot(n > 0 ? n - 1 : 0);
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), n * kHistBins);
    for (int64_t s = 0; s < n; s++)
      for (int k = 0; k < kHistBins; k++) out[static_cast<size_t>(s * kHistBins + k)] = g_order[s] < 0 || !g_histOn ? NAN : g_hists[s][k];
    return out;
  })
}

// Fault injection for tests and demonstrations: the gradient arriving at t gets `value`
// written at flat index `index` (a fresh copy, so nothing else is touched).
FN(gradFault) {
  GUARD({
    torch::Tensor& t = argTensor(info, 0);
    int64_t index = argInt(info, 1);
    double value = argDouble(info, 2);
    t.register_hook([index, value](const torch::Tensor& g) {
      torch::Tensor h = g.clone();
      h.view(-1)[index] = value;
      return h;
    });
    return info.Env().Undefined();
  })
}

// Flat index of the first non-finite element, or -1.
FN(firstNonFinite) {
  GUARD({
    torch::NoGradGuard ng;
    torch::Tensor bad = torch::logical_not(torch::isfinite(argTensor(info, 0))).reshape(-1);
    if (!bad.any().item<bool>()) return Napi::Number::New(info.Env(), -1);
    return Napi::Number::New(info.Env(), static_cast<double>(bad.to(torch::kUInt8).argmax().item<int64_t>()));
  })
}

void InitProbe(Napi::Env env, Napi::Object exports) {
  REG(stats); REG(tapStats); REG(statsMany); REG(paramStats); REG(histogram); REG(gradProbe); REG(readGradProbes); REG(setGradHist); REG(readGradHists); REG(gradFault); REG(firstNonFinite); REG(bnMoments);
}

}  // namespace ns
