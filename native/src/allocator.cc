// A caching CPU allocator for tensor memory, installed in place of libtorch's default
// (posix_memalign). A training step allocates the same large activation and gradient
// buffers every step; inside Node, glibc hands such blocks back to the OS and every step
// page-faults them in again (measured: ~1,177 faults and ~3 ms per 4.8 MB tensor, where the
// compute takes 0.2 ms). Freed large blocks are kept in exact-size free lists and reused, as
// PyTorch's CUDA caching allocator does on the GPU. Small blocks go to malloc directly.
//
// The footprint rule: the cache may not lift the process far above what is live. Exact-size
// lists alone hold, for every size, as many blocks as were ever live at once, so the process
// peaks at the sum of each size's peak rather than at the peak of what is live (measured at
// d2l's AlexNet 224 b128, 1 thread: 1724 MB against PyTorch's 1414 for the same steps). So a
// miss first unmaps the most recently cached blocks until live + cached + the new block fits
// within the live peak so far plus 1/SLACK of it (default 4: 25%; at least 128 MB), and only then maps a new
// block. Measured there: peak 1344 MB (PyTorch 1414), ~35 misses a step where the unbounded
// cache had none, each step ~5% slower than with the unbounded cache (slack 16: 1183 MB, ~8%).
// Large blocks are mapped with MADV_HUGEPAGE, as c10's own CPU allocator can (THP_MEM_ALLOC_
// ENABLE): a re-mapped 143 MB activation faults in 2 MB pages, not 4 KB ones (13x fewer faults).
// NANSCOPE_CPU_CACHE_MB bounds the cache (default 4096; 0 disables caching),
// NANSCOPE_CPU_CACHE_SLACK sets SLACK, NANSCOPE_CPU_HUGEPAGES=0 leaves out the advice.
#include "common.h"
#include <c10/core/CPUAllocator.h>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <list>
#include <mutex>
#include <sys/mman.h>
#include <unordered_map>

namespace ns {

namespace {

constexpr size_t kAlign = 64;
constexpr size_t kMinCached = 256 << 10;  // below this glibc's heap is fast enough
// The slack is never under this: a small net's whole cache fits in it, and a quarter of a small
// live peak made LeNet's steps evict and fault (measured: 15-30% more CPU per step at b256).
constexpr size_t kMinSlack = size_t(128) << 20;

// Data pointer == context for every block, as raw_allocate (used by oneDNN) requires; the
// size of each large block lives in a side table so the deleter can file it by size.
class CachingCPUAllocator final : public c10::Allocator {
 public:
  CachingCPUAllocator() {
    const char* env = std::getenv("NANSCOPE_CPU_CACHE_MB");
    limit_ = (env ? static_cast<size_t>(std::atoll(env)) : 4096) << 20;
    const char* sl = std::getenv("NANSCOPE_CPU_CACHE_SLACK");
    slack_ = sl ? std::max<size_t>(1, static_cast<size_t>(std::atoll(sl))) : 4;
  }

  c10::DataPtr allocate(size_t n) const override {
    void* p = const_cast<CachingCPUAllocator*>(this)->alloc(n);
    return {p, p, &freeAny, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &freeAny; }

  void* alloc(size_t n) {
    if (n == 0) return nullptr;
    if (n < kMinCached || limit_ == 0) return aligned(kAlign, n);
    size_t size = (n + 4095) & ~size_t(4095);
    std::vector<std::pair<size_t, void*>> evicted;
    {
      std::lock_guard<std::mutex> g(m_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        auto node = it->second.back();  // the most recently freed block of this size
        it->second.pop_back();
        void* p = node->second;
        lru_.erase(node);
        cached_ -= size;
        hits_++;
        track(p, size);
        return p;
      }
      misses_++;
      // Room for the cache: whatever keeps the footprint (live + cached + this block) within
      // the live peak so far plus a slack of 1/SLACK of it (evict() says which blocks go).
      size_t allowed = std::max(peakLive_, live_bytes_ + size);
      allowed += std::max(allowed / slack_, kMinSlack);
      size_t footprint = live_bytes_ + cached_ + size;
      if (footprint > allowed) evicted = evict(footprint - allowed);
    }
    for (auto [sz, q] : evicted) unmap(q, sz);  // outside the lock: munmap takes a while
    void* p = nullptr;
    try {
      p = map(size);
    } catch (const std::bad_alloc&) {
      release();  // out of memory: drop the cache and try once more
      p = map(size);
    }
    std::lock_guard<std::mutex> g(m_);
    track(p, size);
    return p;
  }

  void dealloc(void* p) {
    if (!p) return;
    size_t size = 0;
    {
      std::lock_guard<std::mutex> g(m_);
      auto it = live_.find(p);
      if (it != live_.end()) {
        size = it->second;
        live_.erase(it);
        live_bytes_ -= size;
        if (cached_ + size <= limit_) {
          lru_.emplace_back(size, p);
          free_[size].push_back(std::prev(lru_.end()));
          cached_ += size;
          return;
        }
      }
    }
    if (size) unmap(p, size);
    else std::free(p);  // a small block, from malloc
  }

  void release() {
    Lru all;
    {
      std::lock_guard<std::mutex> g(m_);
      all.swap(lru_);
      free_.clear();
      cached_ = 0;
    }
    for (auto [size, p] : all) unmap(p, size);
  }

  static void* aligned(size_t a, size_t n) {
    void* p = nullptr;
    if (posix_memalign(&p, a, n) != 0) throw std::bad_alloc();
    return p;
  }
  // Large blocks are mapped and unmapped directly, not through glibc: an evicted block goes back
  // to the OS at once, where glibc's heap would keep it (and fragment: measured, the peak crept
  // up ~60 MB a step at AlexNet 224).
  static void* map(size_t n) {
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    if (hugePages() && n >= (4u << 20)) madvise(p, n, MADV_HUGEPAGE);
    return p;
  }
  static void unmap(void* p, size_t n) { munmap(p, n); }
  static bool hugePages() {
    static const bool on = [] { const char* e = std::getenv("NANSCOPE_CPU_HUGEPAGES"); return !(e && std::string(e) == "0"); }();
    return on;
  }
  static void freeAny(void* p);

  using Lru = std::list<std::pair<size_t, void*>>;  // cached blocks, in the order they were freed
  std::mutex m_;
  Lru lru_;
  std::unordered_map<size_t, std::vector<Lru::iterator>> free_;
  std::unordered_map<void*, size_t> live_;
  size_t cached_ = 0, limit_ = 0, slack_ = 4, live_bytes_ = 0, peakLive_ = 0;
  double hits_ = 0, misses_ = 0, evictions_ = 0;

 private:
  void track(void* p, size_t size) {  // holds m_
    live_[p] = size;
    live_bytes_ += size;
    peakLive_ = std::max(peakLive_, live_bytes_);
  }
  // Takes the most recently freed blocks off the cache until `need` bytes are gone (or the
  // cache is empty); the caller unmaps them. Most recent first: a training step asks for the
  // same blocks in the same order every step, a loop that least-recent eviction serves worst
  // (each block is evicted just before its turn comes round). Measured, AlexNet b128, 1 thread:
  // page faults per step 12k -> 6k at 96, 13k -> 5k at 224, the same peak. Holds m_.
  std::vector<std::pair<size_t, void*>> evict(size_t need) {
    std::vector<std::pair<size_t, void*>> out;
    size_t got = 0;
    while (got < need && !lru_.empty()) {
      auto victim = std::prev(lru_.end());
      auto [size, p] = *victim;
      auto& v = free_[size];
      for (size_t i = 0; i < v.size(); i++) {
        if (v[i] == victim) { v.erase(v.begin() + static_cast<std::ptrdiff_t>(i)); break; }
      }
      lru_.erase(victim);
      cached_ -= size;
      got += size;
      evictions_++;
      out.emplace_back(size, p);
    }
    return out;
  }
};

CachingCPUAllocator* g_alloc = nullptr;

void CachingCPUAllocator::freeAny(void* p) { g_alloc->dealloc(p); }

}  // namespace

bool InstallAllocator() {
  // Never freed: tensors may outlive the addon's module object until process exit.
  g_alloc = new CachingCPUAllocator();
  c10::SetCPUAllocator(g_alloc, /*priority=*/100);
  return c10::GetCPUAllocator() == g_alloc;
}

FN(cpuCacheStats) {
  GUARD({
    Napi::Object o = Napi::Object::New(info.Env());
    if (!g_alloc) {  // NANSCOPE_CPU_ALLOCATOR=0: libtorch's own allocator, nothing cached
      for (const char* k : {"cachedBytes", "limitBytes", "hits", "misses", "evictions"}) o.Set(k, 0.0);
      return o;
    }
    std::lock_guard<std::mutex> g(g_alloc->m_);
    o.Set("cachedBytes", static_cast<double>(g_alloc->cached_));
    o.Set("limitBytes", static_cast<double>(g_alloc->limit_));
    o.Set("hits", g_alloc->hits_);
    o.Set("misses", g_alloc->misses_);
    o.Set("evictions", g_alloc->evictions_);
    return o;
  })
}

FN(emptyCpuCache) { GUARD({ if (g_alloc) g_alloc->release(); return info.Env().Undefined(); }) }

void InitAllocator(Napi::Env env, Napi::Object exports) {
  REG(cpuCacheStats);
  REG(emptyCpuCache);
}

}  // namespace ns
