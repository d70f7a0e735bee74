// The time loops of biocredit.model._FusedRecurrence in C++ (see biocredit/kernel.py).
//
// Matrix products go through ATen (at::addmm_out, at::mm_out: the same BLAS calls, in the same form, as the Python
// step); everything elementwise of one step is one hand-written pass over the step's contiguous (batch, N) block:
// forward, the leak term and the activation (ReLU; tanh is ATen's call unless asked otherwise, see tanh_of);
// backward, f'(a_t) from h_t, its product with the incoming gradient, the leak term, MDGL's partial rows and the
// factor α of dL/d drive_t. Sums of products use FMA where ATen's vectorised kernels do, so that the results round
// exactly as the Python step's. The loops are single-threaded: same inputs, same bits.
//
// Built on first use by torch.utils.cpp_extension.load (is_python_module=False); the ops live under
// torch.ops.biocredit_kernel.

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

namespace {

constexpr int64_t kRetanh = 0;
constexpr int64_t kTanh = 1;
constexpr int64_t kRelu = 2;

// torch.sign: +1, -1, or the input itself (0, -0, NaN)
template <typename T>
inline T sign_of(T h) {
  return h > T(0) ? T(1) : (h < T(0) ? T(-1) : h);
}

// torch.clamp(min=0): NaN passes through
template <typename T>
inline T clamp_min0(T a) {
  return a < T(0) ? T(0) : a;
}

// ---- tanh --------------------------------------------------------------------------------------------------------
// tanh(x) = sign(x)·e/(e + 2) with e = expm1(2|x|), |x| capped where tanh rounds to 1. expm1(z) = 2^n·expm1(r) +
// (2^n - 1) with z = n·ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2, FMA), expm1(r) by its Taylor series to r^8
// (float) or r^14 (double; truncation below 2^-53 relative). Branch-free, so the loops around it vectorise; within
// 3 ulp of the exact tanh (2.5 float, 3.0 double on a dense grid of [-25, 25], against long double), where ATen's
// tanh is within 1, so with it the rates differ from the Python step's in the last bits: used only when asked
// (BIOCREDIT_KERNEL_TANH=own, see biocredit/kernel.py).
template <typename T>
struct TanhConstants;
template <>
struct TanhConstants<float> {
  static constexpr float log2e = 1.44269504088896341f;
  static constexpr float ln2_hi = 0.693145751953125f;  // few significant bits: n·ln2_hi is exact
  static constexpr float ln2_lo = 1.428606765330187045e-06f;
  static constexpr float cap = 10.0f;  // tanh(10) rounds to 1 in float
};
template <>
struct TanhConstants<double> {
  static constexpr double log2e = 1.44269504088896340736;
  static constexpr double ln2_hi = 6.93147180369123816490e-01;
  static constexpr double ln2_lo = 1.90821492927058770002e-10;
  static constexpr double cap = 20.0;  // tanh(20) rounds to 1 in double
};

inline float pow2_of(float n) {  // 2^n for an integral n in [0, 29]
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float r;
  std::memcpy(&r, &bits, sizeof r);
  return r;
}

inline double pow2_of(double n) {  // 2^n for an integral n in [0, 58]
  const uint64_t bits = static_cast<uint64_t>(static_cast<int64_t>(n) + 1023) << 52;
  double r;
  std::memcpy(&r, &bits, sizeof r);
  return r;
}

inline float expm1_reduced(float r) {
  float p = 1.0f / 40320;
  p = std::fma(p, r, 1.0f / 5040);
  p = std::fma(p, r, 1.0f / 720);
  p = std::fma(p, r, 1.0f / 120);
  p = std::fma(p, r, 1.0f / 24);
  p = std::fma(p, r, 1.0f / 6);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  return p * r;
}

inline double expm1_reduced(double r) {
  double p = 1.0 / 87178291200.0;  // 1/14!
  p = std::fma(p, r, 1.0 / 6227020800.0);
  p = std::fma(p, r, 1.0 / 479001600.0);
  p = std::fma(p, r, 1.0 / 39916800.0);
  p = std::fma(p, r, 1.0 / 3628800.0);
  p = std::fma(p, r, 1.0 / 362880.0);
  p = std::fma(p, r, 1.0 / 40320.0);
  p = std::fma(p, r, 1.0 / 5040.0);
  p = std::fma(p, r, 1.0 / 720.0);
  p = std::fma(p, r, 1.0 / 120.0);
  p = std::fma(p, r, 1.0 / 24.0);
  p = std::fma(p, r, 1.0 / 6.0);
  p = std::fma(p, r, 0.5);
  p = std::fma(p, r, 1.0);
  return p * r;
}

template <typename T>
inline T tanh_of(T x) {
  using C = TanhConstants<T>;
  const T ax = std::fabs(x);
  const T z = 2 * (ax > C::cap ? C::cap : ax);  // written so that NaN stays NaN (and no branch is left)
  const T n = static_cast<T>(static_cast<int32_t>(std::fma(z, C::log2e, T(0.5))));  // round(z/ln2): z >= 0
  T r = std::fma(-n, C::ln2_hi, z);
  r = std::fma(-n, C::ln2_lo, r);
  const T s = pow2_of(n);
  const T e = std::fma(s, expm1_reduced(r), s - T(1));
  return std::copysign(e / (e + T(2)), x);
}

// f'(a) written with h = f(a), as model.ACTIVATION_GRADS forms it
template <typename T, int64_t ACT>
inline T gain_of(T h) {
  if constexpr (ACT == kRetanh) {
    return std::fma(-h, h, T(1)) * sign_of(h);
  } else if constexpr (ACT == kTanh) {
    return std::fma(-h, h, T(1));
  } else {
    return sign_of(h);
  }
}

// Views of step t of a contiguous (T, batch, N) tensor, made by moving the storage offset of a few views made
// once, instead of a new view (a dispatched select) per step and use
class StepViews {
 public:
  StepViews(const at::Tensor& all, int count) : block_(all.size(1) * all.size(2)), base_(all.storage_offset()) {
    for (int i = 0; i < count; ++i) views_.push_back(all.select(0, 0));
  }
  // the i-th view, moved to step t (a view stays valid until it is moved again)
  at::Tensor& at_step(int i, int64_t t) {
    views_[i].unsafeGetTensorImpl()->set_storage_offset(base_ + t * block_);
    return views_[i];
  }

 private:
  int64_t block_, base_;
  std::vector<at::Tensor> views_;
};

// ---- forward ----------------------------------------------------------------------------------------------------

template <typename T, int64_t ACT>
inline T activate(T a) {
  if constexpr (ACT == kRelu) {
    return clamp_min0(a);
  } else if constexpr (ACT == kTanh) {
    return tanh_of(a);
  } else {
    return clamp_min0(tanh_of(a));
  }
}

// a_t += (1-α) a_{t-1} (a_t holds α drive_t + h_{t-1} (α W)ᵀ) and h_t = f(a_t), in one pass
template <typename T, int64_t ACT>
void leak_step(T* __restrict__ a_new, const T* __restrict__ a_old, T keep, T* __restrict__ h, int64_t block) {
  for (int64_t i = 0; i < block; ++i) {
    const T v = std::fma(keep, a_old[i], a_new[i]);
    a_new[i] = v;
    h[i] = activate<T, ACT>(v);
  }
}

template <typename T>
void add_leak(T* __restrict__ a_new, const T* __restrict__ a_old, T keep, int64_t block) {
  for (int64_t i = 0; i < block; ++i) a_new[i] = std::fma(keep, a_old[i], a_new[i]);
}

template <typename T, int64_t ACT>
void activate_into(const T* a, T* h, int64_t block) {  // a and h may be the same block
  for (int64_t i = 0; i < block; ++i) h[i] = activate<T, ACT>(a[i]);
}

template <typename T, int64_t ACT, bool OWN_TANH>
void forward_loop(const at::Tensor& drive, at::Tensor a, const at::Tensor& h_init, const at::Tensor& w_t,
                  double alpha, at::Tensor& h_all) {
  const int64_t n_steps = drive.size(0);
  const int64_t block = drive.size(1) * drive.size(2);
  const bool leak = alpha != 1.0;
  const T keep = static_cast<T>(1.0 - alpha);
  at::Tensor a_next = at::empty_like(a);
  StepViews drive_at(drive, 1), h_at(h_all, 2);  // two rate views: step t and step t-1, alternating
  at::Tensor h = h_init;
  for (int64_t t = 0; t < n_steps; ++t) {
    const at::Tensor& drive_t = drive_at.at_step(0, t);
    at::Tensor& h_t = h_at.at_step(static_cast<int>(t % 2), t);
    // ATen's tanh by default, so that the rates are the Python step's bit for bit; with OWN_TANH the activation
    // joins the step's pass (the kernel's own tanh, see tanh_of)
    constexpr bool aten_tanh = ACT != kRelu && !OWN_TANH;
    constexpr int64_t fused_act = aten_tanh ? kRelu : ACT;  // with ATen's tanh, the pass only adds the leak term
    if (leak) {
      // a_t = α drive_t + h_{t-1} (α W)ᵀ, then + (1-α) a_{t-1}
      at::addmm_out(a_next, drive_t, h, w_t, /*beta=*/alpha, /*alpha=*/1.0);
      if constexpr (aten_tanh) {
        add_leak(a_next.data_ptr<T>(), a.data_ptr<T>(), keep, block);
      } else {
        leak_step<T, fused_act>(a_next.data_ptr<T>(), a.data_ptr<T>(), keep, h_t.data_ptr<T>(), block);
      }
      std::swap(a, a_next);
    } else {
      at::addmm_out(a, drive_t, h, w_t);
      if constexpr (!aten_tanh) activate_into<T, fused_act>(a.data_ptr<T>(), h_t.data_ptr<T>(), block);
    }
    if constexpr (aten_tanh) {
      at::tanh_out(h_t, a);
      if constexpr (ACT == kRetanh) activate_into<T, kRelu>(h_t.data_ptr<T>(), h_t.data_ptr<T>(), block);
    }
    h = h_t;
  }
}

at::Tensor recurrence_forward(const at::Tensor& drive, const at::Tensor& a_init, const at::Tensor& h_init,
                              const at::Tensor& w_t, double alpha, int64_t act, bool own_tanh) {
  TORCH_CHECK(drive.dim() == 3 && drive.is_contiguous(), "drive must be a contiguous (time, batch, N) tensor");
  TORCH_CHECK(a_init.is_contiguous() && h_init.is_contiguous(), "initial state must be contiguous");
  TORCH_CHECK(drive.device().is_cpu(), "the compiled recurrence runs on the CPU only");
  at::Tensor h_all = at::empty_like(drive);
  at::Tensor a = a_init.clone();
  AT_DISPATCH_FLOATING_TYPES(drive.scalar_type(), "recurrence_forward", [&] {
    switch (act) {
      case kRetanh:
        if (own_tanh) forward_loop<scalar_t, kRetanh, true>(drive, a, h_init, w_t, alpha, h_all);
        else forward_loop<scalar_t, kRetanh, false>(drive, a, h_init, w_t, alpha, h_all);
        break;
      case kTanh:
        if (own_tanh) forward_loop<scalar_t, kTanh, true>(drive, a, h_init, w_t, alpha, h_all);
        else forward_loop<scalar_t, kTanh, false>(drive, a, h_init, w_t, alpha, h_all);
        break;
      case kRelu: forward_loop<scalar_t, kRelu, false>(drive, a, h_init, w_t, alpha, h_all); break;
      default: TORCH_CHECK(false, "unknown activation code ", act);
    }
  });
  return h_all;
}

// ---- backward ---------------------------------------------------------------------------------------------------

// One backward step's elementwise pass, each case its own branch-free loop (so that it vectorises):
//   v = f'(a_t)·total_h            (exact credit; total_h = g_t + recurrent credit)
//   v = total_h + g_t·f'(a_t)      (constant gain μ: total_h is the recurrent credit alone, already times μ;
//                                   without it, just g_t·f'(a_t))
//   v += (1-α)·grad_a_{t+1}        (leak, not at the last step)
// and, for a cut MDGL step, the partial rows g_t·f'(a_t).
template <typename T, int64_t ACT, bool MU, bool TOTAL, bool NEXT, bool ROWS>
void backward_step(const T* __restrict__ g, const T* __restrict__ h, const T* __restrict__ total_h,
                   const T* __restrict__ ga_next, T keep, T* __restrict__ ga, T* __restrict__ rows, int64_t block) {
  for (int64_t i = 0; i < block; ++i) {
    const T gain = gain_of<T, ACT>(h[i]);
    T v;
    if constexpr (!MU) {
      v = total_h[i] * gain;
    } else if constexpr (TOTAL) {
      v = std::fma(g[i], gain, total_h[i]);
    } else {
      v = g[i] * gain;
    }
    if constexpr (NEXT) v = std::fma(keep, ga_next[i], v);
    ga[i] = v;
    if constexpr (ROWS) rows[i] = g[i] * gain;
  }
}

template <typename T, int64_t ACT, bool MU, bool TOTAL>
void backward_step_next(const T* g, const T* h, const T* total_h, const T* ga_next, T keep, T* ga, T* rows,
                        int64_t block) {
  if (ga_next) {
    if (rows) backward_step<T, ACT, MU, TOTAL, true, true>(g, h, total_h, ga_next, keep, ga, rows, block);
    else backward_step<T, ACT, MU, TOTAL, true, false>(g, h, total_h, ga_next, keep, ga, rows, block);
  } else {
    if (rows) backward_step<T, ACT, MU, TOTAL, false, true>(g, h, total_h, ga_next, keep, ga, rows, block);
    else backward_step<T, ACT, MU, TOTAL, false, false>(g, h, total_h, ga_next, keep, ga, rows, block);
  }
}

template <typename T>
void scale_into(const T* __restrict__ src, T scale, T* __restrict__ dst, int64_t block) {
  for (int64_t i = 0; i < block; ++i) dst[i] = scale * src[i];
}

// dL/d drive_t = α dL/da_t for every step, as _FusedRecurrence.backward forms it (there: dL/da_t for all steps,
// then one multiplication by α of the whole tensor). With a leak, dL/da_t of the current and the next step live
// in two (batch, N) buffers (the leak term and the product back through W_rec read them from cache) and only
// α dL/da_t is written out; without, α = 1 and dL/da_t is written out directly. Returns dL/da_0 as well.
template <typename T, int64_t ACT>
void backward_loop(const at::Tensor& grad_h, const at::Tensor& h_all, const at::Tensor& w_back,
                   const std::vector<bool>& cut, bool one_step, bool has_mu, double alpha, at::Tensor& grad_drive,
                   at::Tensor& grad_a_first) {
  const int64_t n_steps = h_all.size(0);
  const int64_t block = h_all.size(1) * h_all.size(2);
  const bool leak = alpha != 1.0;
  const T keep = static_cast<T>(1.0 - alpha);
  const T scale = static_cast<T>(alpha);
  const T* g_all = grad_h.data_ptr<T>();
  const T* h_ptr = h_all.data_ptr<T>();
  T* out_all = grad_drive.data_ptr<T>();
  // what reaches h_t through W_rec from step t+1 (plus, without a gain μ, the outside gradient g_t)
  at::Tensor total = at::empty({h_all.size(1), h_all.size(2)}, h_all.options());
  at::Tensor rows_buf;  // MDGL: g_t ⊙ f'(a_t) of a cut step
  if (one_step) rows_buf = at::empty_like(total);
  at::Tensor grad_a_buf[2];  // with a leak: dL/da of steps t and t+1, alternating
  if (leak) {
    grad_a_buf[0] = at::empty_like(total);
    grad_a_buf[1] = at::empty_like(total);
  }
  T* total_ptr = total.data_ptr<T>();
  StepViews out_at(grad_drive, 1), grad_h_at(grad_h, 1);
  // without μ: total_h of the last step is g_{T-1}; with μ: nothing arrives through the recurrence yet
  const T* total_h = has_mu ? nullptr : g_all + (n_steps - 1) * block;
  for (int64_t t = n_steps - 1; t >= 0; --t) {
    const T* g = g_all + t * block;
    const T* h = h_ptr + t * block;
    T* ga = leak ? grad_a_buf[t % 2].data_ptr<T>() : out_all + t * block;
    const T* ga_next = (leak && t < n_steps - 1) ? grad_a_buf[(t + 1) % 2].data_ptr<T>() : nullptr;
    T* rows = (cut[t] && one_step) ? rows_buf.data_ptr<T>() : nullptr;
    if (!has_mu) {
      backward_step_next<T, ACT, false, true>(g, h, total_h, ga_next, keep, ga, rows, block);
    } else if (total_h) {
      backward_step_next<T, ACT, true, true>(g, h, total_h, ga_next, keep, ga, rows, block);
    } else {
      backward_step_next<T, ACT, true, false>(g, h, total_h, ga_next, keep, ga, rows, block);
    }
    if (leak) scale_into(ga, scale, out_all + t * block, block);
    if (t == 0) break;
    // the rows that step t sends back to h_{t-1} through α W_rec (none: a cut step without one-step credit)
    at::Tensor sent;
    if (!cut[t]) {
      sent = leak ? grad_a_buf[t % 2] : out_at.at_step(0, t);
    } else if (one_step) {
      sent = rows_buf;
    }
    if (!has_mu) {
      if (sent.defined()) {
        at::addmm_out(total, grad_h_at.at_step(0, t - 1), sent, w_back);
        total_h = total_ptr;
      } else {
        total_h = g_all + (t - 1) * block;
      }
    } else {
      if (sent.defined()) {
        at::mm_out(total, sent, w_back);
        total_h = total_ptr;
      } else {
        total_h = nullptr;
      }
    }
  }
  grad_a_first = leak ? grad_a_buf[0] : grad_drive.select(0, 0);
}

std::tuple<at::Tensor, at::Tensor> recurrence_backward(const at::Tensor& grad_h, const at::Tensor& h_all,
                                                       const at::Tensor& w_back, c10::List<bool> cut, bool one_step,
                                                       bool has_mu, double alpha, int64_t act) {
  TORCH_CHECK(grad_h.is_contiguous() && h_all.is_contiguous(), "gradient and rates must be contiguous");
  TORCH_CHECK(grad_h.sizes() == h_all.sizes(), "gradient and rates differ in shape");
  TORCH_CHECK(static_cast<int64_t>(cut.size()) == h_all.size(0), "one cut flag per step");
  TORCH_CHECK(!(has_mu && one_step), "a credit gain is not defined together with one-step credit");
  std::vector<bool> cuts(cut.begin(), cut.end());
  at::Tensor grad_drive = at::empty_like(h_all);
  at::Tensor grad_a_first;
  AT_DISPATCH_FLOATING_TYPES(h_all.scalar_type(), "recurrence_backward", [&] {
    switch (act) {
      case kRetanh:
        backward_loop<scalar_t, kRetanh>(grad_h, h_all, w_back, cuts, one_step, has_mu, alpha, grad_drive,
                                         grad_a_first);
        break;
      case kTanh:
        backward_loop<scalar_t, kTanh>(grad_h, h_all, w_back, cuts, one_step, has_mu, alpha, grad_drive,
                                       grad_a_first);
        break;
      case kRelu:
        backward_loop<scalar_t, kRelu>(grad_h, h_all, w_back, cuts, one_step, has_mu, alpha, grad_drive,
                                       grad_a_first);
        break;
      default: TORCH_CHECK(false, "unknown activation code ", act);
    }
  });
  return {grad_drive, grad_a_first};
}

// f'(a) from h = f(a) for a tensor of any layout (the initial state's term)
at::Tensor activation_grad(const at::Tensor& h, int64_t act) {
  at::Tensor hc = h.contiguous();
  at::Tensor out = at::empty_like(hc);
  const int64_t n = hc.numel();
  AT_DISPATCH_FLOATING_TYPES(hc.scalar_type(), "activation_grad", [&] {
    const scalar_t* src = hc.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    switch (act) {
      case kRetanh: for (int64_t i = 0; i < n; ++i) dst[i] = gain_of<scalar_t, kRetanh>(src[i]); break;
      case kTanh: for (int64_t i = 0; i < n; ++i) dst[i] = gain_of<scalar_t, kTanh>(src[i]); break;
      case kRelu: for (int64_t i = 0; i < n; ++i) dst[i] = gain_of<scalar_t, kRelu>(src[i]); break;
      default: TORCH_CHECK(false, "unknown activation code ", act);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY(biocredit_kernel, m) {
  m.def("recurrence_forward(Tensor drive, Tensor a_init, Tensor h_init, Tensor w_t, float alpha, int act, "
        "bool own_tanh) -> Tensor",
        &recurrence_forward);
  m.def("recurrence_backward(Tensor grad_h, Tensor h_all, Tensor w_back, bool[] cut, bool one_step, bool has_mu, "
        "float alpha, int act) -> (Tensor, Tensor)",
        &recurrence_backward);
  m.def("activation_grad(Tensor h, int act) -> Tensor", &activation_grad);
}
