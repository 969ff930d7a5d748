// The locator's full watch, armed only while it re-executes a bad step (the every-step probes
// never pay for it):
//   forward:  a RecordFunction global callback sees every aten op's outputs as it ends, in
//             real execution order, and keeps the first one holding NaN/Inf (views are not
//             producers: a transposed NaN weight is not where the NaN came from; nor are
//             allocations, whose memory is garbage until written), confirmed when the
//             top-level op around it returns a non-finite value, with the op
//             stack it ran in and the module scope the TypeScript side set (watchScope). The
//             op named is the one autograd records for it (whose end created the output's
//             node: aten::convolution rather than the mkldnn kernel below it, aten::addmm
//             inside aten::linear); when nothing records a node, the innermost op;
//   backward: a post-hook on every autograd node of the loss's graph sees each node's inputs
//             (gradients arriving) and outputs (gradients it produced) in execution order,
//             and keeps the first node where a non-finite value shows.
// Nodes are tied back to the forward op (and module) that created them by sequence number,
// as the profiler does. Everything here only records; meaning lives in src/diagnose/.
#include "common.h"
#include <ATen/record_function.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>
#include <cmath>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace ns {

using torch::autograd::Node;
using torch::autograd::variable_list;

struct Bad {
  bool seen = false;
  int64_t index = -1;      // ops (forward) or nodes (backward) finished before this one
  std::string name;        // aten op, or autograd node
  std::string stack;       // enclosing aten ops, outermost first, " > "-joined, down to the innermost
  size_t open = 0;         // forward: enclosing ops not yet ended (the named op may be one of them)
  bool confirmed = false;  // forward: the top-level op around it returned a non-finite value
  std::string forwardOp;   // backward: the aten op that created the node
  int64_t scope = -1;      // module scope (TypeScript's layer index) the op ran in
  bool inputsBad = false;  // backward: the gradient arriving was already non-finite
  int64_t output = -1;     // which output held the first non-finite value
  double nan = 0, posInf = 0, negInf = 0;
  torch::Tensor variable;  // backward, AccumulateGrad: the parameter whose gradient it was
};

static std::mutex g_mu;
static at::CallbackHandle g_handle = 0;
static int64_t g_scope = -1;
static int64_t g_ops = 0;
static Bad g_fwd;
struct Origin { std::string op; int64_t scope; };
static std::unordered_map<uint64_t, Origin> g_bySeq;  // autograd sequence number -> forward op
static thread_local std::vector<const char*> t_stack;
static bool g_bwdArmed = false;
static int64_t g_nodes = 0;
static Bad g_bwd;

// Counts NaN / +Inf / -Inf in a floating tensor; false when it is all finite.
static bool countBad(const torch::Tensor& t, Bad& b) {
  if (!t.defined() || !at::isFloatingType(t.scalar_type()) || t.numel() == 0) return false;
  Stats s = statsOf(t);
  if (s[kNaN] + s[kPosInf] + s[kNegInf] == 0) return false;
  b.nan = s[kNaN];
  b.posInf = s[kPosInf];
  b.negInf = s[kNegInf];
  return true;
}

static std::unique_ptr<at::ObserverContext> onStart(const at::RecordFunction& fn) {
  t_stack.push_back(fn.name());
  return nullptr;
}

// Whether output k of the op is an alias of an input it does not write (its schema says
// `Tensor(a)`, not `Tensor(a!)`): a view (t, view, transpose, as_strided ...), which shows a
// value but did not produce it. Asked of the schema because views below the autograd layer
// carry no view metadata.
static bool returnsView(const at::RecordFunction& fn, size_t k) {
  auto name = fn.operator_name();
  if (!name) return false;
  auto op = c10::Dispatcher::singleton().findSchema(*name);
  if (!op) return false;
  const auto& rets = op->schema().returns();
  if (k >= rets.size()) return false;
  const c10::AliasInfo* a = rets[k].alias_info();
  return a != nullptr && !a->isWrite();
}

// Ops whose outputs are uninitialised memory by contract: garbage, not a result.
static bool allocates(const char* name) {
  static const std::unordered_set<std::string> kAlloc = {"aten::empty", "aten::empty_like", "aten::empty_strided",
      "aten::new_empty", "aten::new_empty_strided", "aten::resize_", "aten::resize_as_", "aten::set_"};
  return kAlloc.count(name) > 0;
}

static void onEnd(const at::RecordFunction& fn, at::ObserverContext*) {
  at::DisableRecordFunctionGuard off;  // our own checks are not ops of the model
  if (!t_stack.empty()) t_stack.pop_back();
  std::lock_guard<std::mutex> lock(g_mu);
  const int64_t index = g_ops++;
  const size_t depth = t_stack.size();
  if (g_fwd.seen && g_fwd.confirmed) return;
  // An enclosing op of the candidate ends: it is the named op if it created the node.
  const bool enclosing = g_fwd.seen && g_fwd.open > 0 && depth == g_fwd.open - 1;
  if (enclosing) g_fwd.open--;
  bool anyBad = false;
  int64_t k = 0;
  size_t slot = 0;
  for (const c10::IValue& v : fn.outputs()) {
    const bool view = returnsView(fn, slot++);
    std::vector<torch::Tensor> ts;
    if (v.isTensor()) ts.push_back(v.toTensor());
    else if (v.isTensorList()) for (const auto& t : v.toTensorList()) ts.push_back(t);
    for (const torch::Tensor& t : ts) {
      const bool created = t.defined() && t.grad_fn() &&
                           g_bySeq.emplace(t.grad_fn()->sequence_nr(), Origin{fn.name(), g_scope}).second;
      Bad b;
      const bool bad = countBad(t, b);
      anyBad = anyBad || bad;
      if (bad && !g_fwd.seen && !view && !allocates(fn.name())) {
        g_fwd = b;
        g_fwd.seen = true;
        g_fwd.index = index;
        g_fwd.name = fn.name();
        g_fwd.scope = g_scope;
        g_fwd.output = k;
        g_fwd.open = created ? 0 : depth;
        std::string s;
        for (const char* n : t_stack) s += std::string(n) + " > ";
        g_fwd.stack = s + fn.name();
      } else if (bad && enclosing && created) {
        g_fwd.name = fn.name();
        g_fwd.open = 0;
      }
      k++;
    }
  }
  // A top-level op (one the model's code called) ended: the candidate stands if what it
  // returned holds the non-finite value; if not, it was transient (a masked or overwritten
  // intermediate) and the watch goes on.
  if (depth == 0 && g_fwd.seen) {
    if (anyBad) g_fwd.confirmed = true;
    else g_fwd = Bad();
  }
}

FN(watchForward) {
  GUARD({
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_handle) at::removeCallback(g_handle);
    g_handle = 0;
    if (argBool(info, 0)) {
      g_ops = 0;
      g_fwd = Bad();
      g_bySeq.clear();
      g_scope = -1;
      t_stack.clear();
      g_handle = at::addGlobalCallback(
          at::RecordFunctionCallback(onStart, onEnd).needsOutputs(true).scopes({at::RecordScope::FUNCTION}));
    }
    return info.Env().Undefined();
  })
}

FN(watchScope) {
  GUARD({
    std::lock_guard<std::mutex> lock(g_mu);
    g_scope = argInt(info, 0);
    return info.Env().Undefined();
  })
}

static Napi::Value badObject(Napi::Env env, const Bad& b, int64_t total, const char* totalName, bool forwardPass) {
  Napi::Object o = Napi::Object::New(env);
  o.Set(totalName, Napi::Number::New(env, static_cast<double>(total)));
  if (!b.seen || (forwardPass && !b.confirmed)) {
    o.Set("bad", env.Null());
    return o;
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("index", Napi::Number::New(env, static_cast<double>(b.index)));
  r.Set("name", Napi::String::New(env, b.name));
  r.Set("stack", Napi::String::New(env, b.stack));
  r.Set("forwardOp", b.forwardOp.empty() ? env.Null() : Napi::String::New(env, b.forwardOp));
  r.Set("scope", Napi::Number::New(env, static_cast<double>(b.scope)));
  r.Set("inputsBad", Napi::Boolean::New(env, b.inputsBad));
  r.Set("output", Napi::Number::New(env, static_cast<double>(b.output)));
  r.Set("nan", Napi::Number::New(env, b.nan));
  r.Set("posInf", Napi::Number::New(env, b.posInf));
  r.Set("negInf", Napi::Number::New(env, b.negInf));
  r.Set("variable", b.variable.defined() ? wrap(env, b.variable) : env.Null());
  o.Set("bad", r);
  return o;
}

FN(watchForwardResult) {
  GUARD({
    std::lock_guard<std::mutex> lock(g_mu);
    return badObject(info.Env(), g_fwd, g_ops, "ops", true);
  })
}

struct WatchPostHook : torch::autograd::FunctionPostHook {
  Node* node;  // the node this hook lives on (so it outlives the hook)
  std::string name;
  uint64_t seq;
  WatchPostHook(Node* n) : node(n), name(n->name()), seq(n->sequence_nr()) {}
  variable_list operator()(const variable_list& outputs, const variable_list& inputs) override {
    at::DisableRecordFunctionGuard off;
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_bwdArmed) return outputs;
    const int64_t index = g_nodes++;
    if (g_bwd.seen) return outputs;
    Bad b;
    bool inBad = false;
    for (const auto& g : inputs) inBad = countBad(g, b) || inBad;
    int64_t k = 0, badOut = -1;
    Bad ob;
    for (const auto& g : outputs) {
      if (badOut < 0 && countBad(g, ob)) badOut = k;
      k++;
    }
    // An accumulator has no outputs: what it produced is the parameter's .grad (a hook on a
    // leaf runs inside it, after the gradient arrived finite).
    auto* acc = dynamic_cast<torch::autograd::AccumulateGrad*>(node);
    if (acc && badOut < 0 && countBad(acc->variable.grad(), ob)) badOut = 0;
    if (!inBad && badOut < 0) return outputs;
    const Bad& c = badOut >= 0 ? ob : b;
    g_bwd = c;
    g_bwd.seen = true;
    g_bwd.index = index;
    g_bwd.name = name;
    g_bwd.inputsBad = inBad;
    g_bwd.output = badOut;
    if (acc) g_bwd.variable = acc->variable;
    auto it = g_bySeq.find(seq);
    if (it != g_bySeq.end()) {
      g_bwd.forwardOp = it->second.op;
      g_bwd.scope = it->second.scope;
    }
    return outputs;
  }
};

// Hooks every node of t's graph (post-hooks live on the nodes and go with the graph).
FN(watchBackward) {
  GUARD({
    torch::Tensor& t = argTensor(info, 0);
    std::lock_guard<std::mutex> lock(g_mu);
    g_nodes = 0;
    g_bwd = Bad();
    g_bwdArmed = true;
    std::shared_ptr<Node> root = t.grad_fn();
    if (!root) return info.Env().Undefined();
    std::vector<Node*> todo{root.get()};
    std::unordered_set<Node*> seen{root.get()};
    while (!todo.empty()) {
      Node* n = todo.back();
      todo.pop_back();
      n->add_post_hook(std::make_unique<WatchPostHook>(n));
      for (const auto& e : n->next_edges())
        if (e.function && seen.insert(e.function.get()).second) todo.push_back(e.function.get());
    }
    return info.Env().Undefined();
  })
}

// The backward result; disarms the node hooks and forgets the forward's op map.
FN(watchBackwardResult) {
  GUARD({
    std::lock_guard<std::mutex> lock(g_mu);
    g_bwdArmed = false;
    Napi::Value r = badObject(info.Env(), g_bwd, g_nodes, "nodes", false);
    g_bwd.variable = torch::Tensor();
    g_bySeq.clear();
    return r;
  })
}

void InitWatch(Napi::Env env, Napi::Object exports) {
  REG(watchForward); REG(watchScope); REG(watchForwardResult); REG(watchBackward); REG(watchBackwardResult);
}

}  // namespace ns
