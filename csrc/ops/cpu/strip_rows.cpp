// The CPU row paths of preprocess_strips for packed RGB strips and float32 outputs (the training
// case). The per-pixel loop over strip_pixel (strip_math.h) is correct for every layout but does
// not vectorise: each pixel deinterleaves 3 bytes and, when resizing, recomputes its bilinear
// taps and blends 12 bytes. Here a whole output row is done at once, with the same math:
//   crop:   32 pixels at a time, deinterleaved with AVX2 byte shuffles (mirrored rows by reversed
//           shuffles), converted with u8_to_unit's multiply and subtract;
//   resize: separable. vertical_lerp once per source column of the row, deinterleaved into one
//           float plane per channel (32 columns at a time; when upscaling, from source rows
//           converted once and kept for the next output row), then horizontal_lerp 8 pixels at a
//           time, the 3 channels together, with taps and their lane permutations worked out once
//           per strip (they depend only on its crop offset and flip).
// Large outputs are written with streaming stores (see stream_outputs). Rows are shared out in
// small chunks to whichever thread is free (parallel_rows in for_each_pixel.h).
// Each AVX2 path has a scalar twin for short rows and for CPUs without AVX2; a row whose width is
// not a multiple of the SIMD step ends with one step that overlaps the previous one (it rewrites
// the same values). Results are bit-identical to strip_pixel: the same operations in the same
// order (separate multiplies and adds, no FMA); tests/test_ops.py checks it.
#include "strip_rows.h"

#include "pyframegan/for_each_pixel.h"

#include <algorithm>
#include <climits>
#include <utility>
#include <vector>

#include "simd.h"

namespace pyframegan::cpu {

// Outputs at least this large are written with streaming stores: they are far larger than the
// caches, so they would be evicted before anyone reads them anyway.
constexpr int64_t kStreamMinBytes = int64_t{8} << 20;

// Whether to stream the outputs: non-temporal stores write whole 64-byte lines straight to memory.
// Cached stores first read each line they write into (read-for-ownership), so they move twice the
// bytes, and they evict the strips being read. Needs every output row 32-byte aligned (S % 8 == 0
// and aligned tensors) for the aligned 8-float stores.
static bool stream_outputs(const float* inp, const float* tgt, int64_t rows, int S) {
  const auto aligned = [](const float* p) { return reinterpret_cast<uintptr_t>(p) % 32 == 0; };
  const int64_t bytes = rows * 3 * S * static_cast<int64_t>(sizeof(float));
  return have_avx2() && bytes >= kStreamMinBytes && S % 8 == 0 && aligned(inp) && aligned(tgt);
}

// Makes this thread's streaming stores visible to other threads (they are weakly ordered).
static void end_streaming() {
#ifdef PFG_CPU_X86
  _mm_sfence();
#endif
}

// ---- crop -----------------------------------------------------------------------------------

// Output pixels [0, width) of a crop row, one at a time.
static void crop_row_scalar(const StripRow& r, int width, float* out, int64_t plane) {
  for (int x = 0; x < width; ++x) {
    const uint8_t* px = r.r0 + 3 * static_cast<int64_t>(r.x0 + r.dx * x);
    for (int c = 0; c < 3; ++c) out[c * plane + x] = u8_to_unit(px[c]);
  }
}

#ifdef PFG_CPU_X86
// Shuffle masks gathering channel c of 16 packed RGB pixels (48 bytes in three 16-byte vectors)
// into one 16-byte vector: bytes[mirrored][c][v] picks the bytes that vector v contributes. Each
// mask is repeated in both 16-byte lanes of a 32-byte vector (AVX2 shuffles bytes within lanes).
struct DeinterleaveMasks {
  alignas(32) int8_t bytes[2][3][3][32];
  DeinterleaveMasks() {
    for (int mirrored = 0; mirrored < 2; ++mirrored)
      for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 3; ++v)
          for (int j = 0; j < 32; ++j) {
            const int byte = 3 * (mirrored ? 15 - j % 16 : j % 16) + c;
            bytes[mirrored][c][v][j] = byte / 16 == v ? static_cast<int8_t>(byte % 16) : static_cast<int8_t>(-128);
          }
  }
};

static const DeinterleaveMasks kMasks;

// Channels 0, 1, 2 of the 32 packed RGB pixels (96 bytes) at src, in pixel order or (mirrored)
// reversed. Lane 0 of each vector deinterleaves output pixels 0-15, lane 1 pixels 16-31: the first
// 48 source bytes, or the last 48 when mirrored.
PFG_AVX2 static inline void deinterleave32(const uint8_t* src, bool mirrored, __m256i out[3]) {
  const uint8_t* lane0 = src + (mirrored ? 48 : 0);
  const uint8_t* lane1 = src + (mirrored ? 0 : 48);
  __m256i in[3];
  for (int v = 0; v < 3; ++v)
    in[v] = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lane0 + 16 * v))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(lane1 + 16 * v)), 1);
  for (int c = 0; c < 3; ++c) {
    const auto* m = reinterpret_cast<const __m256i*>(kMasks.bytes[mirrored][c]);
    out[c] = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(in[0], _mm256_load_si256(m)),
                                             _mm256_shuffle_epi8(in[1], _mm256_load_si256(m + 1))),
                             _mm256_shuffle_epi8(in[2], _mm256_load_si256(m + 2)));
  }
}

// Bytes 8e..8e+7 of v (e < 4) as 8 floats.
PFG_AVX2 static inline __m256 eighth(__m256i v, int e) {
  const __m128i half = e < 2 ? _mm256_castsi256_si128(v) : _mm256_extracti128_si256(v, 1);
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(e % 2 ? _mm_srli_si128(half, 8) : half));
}

// u8_to_unit of 8 floats.
PFG_AVX2 static inline __m256 to_unit8(__m256 v) {
  return _mm256_sub_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.0f / 127.5f)), _mm256_set1_ps(1.0f));
}

// 8 output floats to p: streamed (p 32-byte aligned), or cached.
template <bool kStream>
PFG_AVX2 static inline void store8(float* p, __m256 v) {
  if constexpr (kStream)
    _mm256_stream_ps(p, v);
  else
    _mm256_storeu_ps(p, v);
}

// Output pixels [x, x + 32) of a crop row.
template <bool kStream>
PFG_AVX2 static inline void crop32(const StripRow& r, int x, float* out, int64_t plane) {
  const bool mirrored = r.dx < 0;
  const int leftmost = mirrored ? r.x0 - x - 31 : r.x0 + x;  // source pixel of the 32 furthest left
  __m256i v[3];
  deinterleave32(r.r0 + 3 * static_cast<int64_t>(leftmost), mirrored, v);
  for (int c = 0; c < 3; ++c)
    for (int e = 0; e < 4; ++e) store8<kStream>(out + c * plane + x + 8 * e, to_unit8(eighth(v[c], e)));
}

// A crop row of width >= 32, 32 pixels at a time. (r by value: in registers, where the compiler
// would otherwise reload it after every store, which it must assume may overwrite it.)
PFG_AVX2 static void crop_row_avx2(const StripRow r, int width, float* out, int64_t plane, bool stream) {
  int x = 0;
  if (stream)
    for (; x + 32 <= width; x += 32) crop32<true>(r, x, out, plane);
  for (; x + 32 <= width; x += 32) crop32<false>(r, x, out, plane);
  if (x < width) crop32<false>(r, width - 32, out, plane);  // the last 32, overlapping: unaligned
}
#endif

static void crop_row(const StripRow& r, int width, float* out, int64_t plane, bool stream) {
#ifdef PFG_CPU_X86
  if (have_avx2() && width >= 32) return crop_row_avx2(r, width, out, plane, stream);
#endif
  crop_row_scalar(r, width, out, plane);
}

// ---- resize ---------------------------------------------------------------------------------

// How the AVX2 horizontal pass fetches the 8 left (or right) taps of a chunk of 8 output pixels
// from a plane of blended columns. kWindows4: the taps of each 4 pixels lie within 4 columns (any
// upscale, as pix2pix's 286 jitter): two 4-column loads and an in-lane permutation (vpermilps; a
// lane-crossing permutation costs 3 micro-ops on Zen 1). kWindow16: all 8 within 16 columns (tiles
// shrunk up to 2x): two 8-column loads, two permutations and a blend. Otherwise a gather.
enum class Fetch { kWindows4, kWindow16, kGather };

// Horizontal bilinear taps of one strip's crop row (the same for all its rows and tiles).
struct Taps {
  int lo = 0;                 // first source column used
  int columns = 0;            // source columns used: [lo, lo + columns)
  std::vector<int> i0, i1;    // per output x: the two tap columns, counted from lo
  std::vector<float> w0, w1;  // their weights (w0 = 1 - w1, as horizontal_lerp computes it)
  // The AVX2 path: chunks of 8 output pixels at x = 0, 8, ..., the last at S - 8 (overlapping its
  // predecessor when S % 8 != 0). For each side (0: left taps i0, 1: right taps i1): the first
  // column of the window of each half (kWindows4) or of the whole chunk (base[side][0]), and the
  // taps' lanes: their columns in the window (kWindow16: mod 8, with the sign bit set for the upper
  // 8, which selects them in the blend).
  struct Chunk {
    int x;
    int base[2][2];
    alignas(32) int lanes[2][8];
  };
  Fetch fetch = Fetch::kWindows4;
  std::vector<Chunk> chunks;

  void build(const StripParams& p, const StripRow& r) {
    const int S = p.size;
    i0.resize(S), i1.resize(S), w0.resize(S), w1.resize(S);
    const int first = r.dx > 0 ? r.x0 : r.x0 - (S - 1), last = first + S - 1;  // resized-tile columns
    lo = lerp_index(first, p.scale_x, p.tile_w).i0;
    columns = lerp_index(last, p.scale_x, p.tile_w).i1 - lo + 1;
    for (int x = 0; x < S; ++x) {
      const Lerp l = lerp_index(r.x0 + r.dx * x, p.scale_x, p.tile_w);
      i0[x] = l.i0 - lo, i1[x] = l.i1 - lo, w0[x] = 1.0f - l.w1, w1[x] = l.w1;
    }
    build_chunks(S);
  }

 private:
  // Columns spanned by the taps tap[x], ..., tap[x + n - 1]: (first, count).
  static std::pair<int, int> span(const std::vector<int>& tap, int x, int n) {
    const auto [lo_it, hi_it] = std::minmax_element(tap.begin() + x, tap.begin() + x + n);
    return {*lo_it, *hi_it - *lo_it + 1};
  }

  void build_chunks(int S) {
    chunks.clear();
    for (int x = 0; x + 8 <= S; x += 8) chunks.push_back({x});
    if (S % 8 != 0 && S > 8) chunks.push_back({S - 8});
    int span4 = 0, span8 = 0;  // the widest window of 4 taps, of 8
    for (const Chunk& ch : chunks)
      for (const std::vector<int>* tap : {&i0, &i1}) {
        span4 = std::max({span4, span(*tap, ch.x, 4).second, span(*tap, ch.x + 4, 4).second});
        span8 = std::max(span8, span(*tap, ch.x, 8).second);
      }
    fetch = span4 <= 4 ? Fetch::kWindows4 : span8 <= 16 ? Fetch::kWindow16 : Fetch::kGather;
    const int group = fetch == Fetch::kWindows4 ? 4 : 8;  // taps sharing a window
    for (Chunk& ch : chunks)
      for (int side = 0; side < 2; ++side) {
        const std::vector<int>& tap = side ? i1 : i0;
        for (int half = 0; half < 2; ++half)  // with windows of 8, both halves share the one window
          ch.base[side][half] = span(tap, group == 4 ? ch.x + 4 * half : ch.x, group).first;
        for (int j = 0; j < 8; ++j) {
          const int offset = tap[ch.x + j] - ch.base[side][group == 4 ? j / 4 : 0];
          ch.lanes[side][j] = fetch == Fetch::kWindow16 ? (offset & 7) | (offset >= 8 ? INT_MIN : 0) : offset;
        }
      }
  }
};

// Blended source columns of one row, one plane per channel: v[c][j] = vertical_lerp at column lo + j.
struct Columns {
  std::vector<float> v;
  int stride = 0;  // floats per plane (columns + 16 slack floats: a kWindow16 fetch loads 16 at a time)
  float* plane(int c) { return v.data() + static_cast<size_t>(c) * stride; }
  const float* plane(int c) const { return v.data() + static_cast<size_t>(c) * stride; }
  void resize(int columns) {
    stride = columns + 16;
    v.assign(3 * static_cast<size_t>(stride), 0.0f);
  }
};

// vertical_lerp of columns [0, n) of two packed rows, deinterleaved into the planes.
static void vertical_scalar(const uint8_t* r0, const uint8_t* r1, float wy, int n, Columns& out) {
  for (int j = 0; j < n; ++j)
    for (int c = 0; c < 3; ++c) out.plane(c)[j] = vertical_lerp(r0, r1, 3 * j + c, wy);
}

// Output pixels [0, width) of a resized row, all 3 channels, one at a time.
static void horizontal_scalar(const Taps& t, const Columns& v, int width, float* out, int64_t plane) {
  for (int c = 0; c < 3; ++c)
    for (int x = 0; x < width; ++x)
      out[c * plane + x] = u8_to_unit(horizontal_lerp(v.plane(c)[t.i0[x]], v.plane(c)[t.i1[x]], t.w1[x]));
}

#ifdef PFG_CPU_X86
// vertical_lerp of the 32 columns [j, j + 32) (w0 = 1 - wy, w1 = wy).
PFG_AVX2 static inline void vertical32(const uint8_t* r0, const uint8_t* r1, __m256 w0, __m256 w1, int j,
                                       float* const planes[3]) {
  __m256i a[3], b[3];
  deinterleave32(r0 + 3 * j, false, a);
  deinterleave32(r1 + 3 * j, false, b);
  for (int c = 0; c < 3; ++c)
    for (int e = 0; e < 4; ++e)
      _mm256_storeu_ps(planes[c] + j + 8 * e,
                       _mm256_add_ps(_mm256_mul_ps(w0, eighth(a[c], e)), _mm256_mul_ps(w1, eighth(b[c], e))));
}

// vertical_scalar for n >= 32 columns, 32 at a time, straight from the packed rows.
PFG_AVX2 static void vertical_avx2(const uint8_t* r0, const uint8_t* r1, float wy, int n, Columns& out) {
  const __m256 w0 = _mm256_set1_ps(1.0f - wy), w1 = _mm256_set1_ps(wy);
  float* const planes[3] = {out.plane(0), out.plane(1), out.plane(2)};  // in registers, as r above
  int j = 0;
  for (; j + 32 <= n; j += 32) vertical32(r0, r1, w0, w1, j, planes);
  if (j < n) vertical32(r0, r1, w0, w1, n - 32, planes);  // the last 32, overlapping
}

// The 32 columns [j, j + 32) of the packed row src, as floats, into the planes.
PFG_AVX2 static inline void convert32(const uint8_t* src, int j, float* const planes[3]) {
  __m256i v[3];
  deinterleave32(src + 3 * j, false, v);
  for (int c = 0; c < 3; ++c)
    for (int e = 0; e < 4; ++e) _mm256_storeu_ps(planes[c] + j + 8 * e, eighth(v[c], e));
}

// Columns [0, n >= 32) of the packed row src, as floats, into the planes of out.
PFG_AVX2 static void convert_row_avx2(const uint8_t* src, int n, Columns& out) {
  float* const planes[3] = {out.plane(0), out.plane(1), out.plane(2)};  // in registers, as r above
  int j = 0;
  for (; j + 32 <= n; j += 32) convert32(src, j, planes);
  if (j < n) convert32(src, n - 32, planes);  // the last 32, overlapping
}

// vertical_lerp of columns [0, n) from the converted rows a (upper) and b (lower), 8 at a time: up
// to 7 columns past n, in the planes' slack, are blended too (harmless).
PFG_AVX2 static void blend_rows_avx2(const Columns& a, const Columns& b, float wy, int n, Columns& out) {
  const __m256 w0 = _mm256_set1_ps(1.0f - wy), w1 = _mm256_set1_ps(wy);
  for (int c = 0; c < 3; ++c) {
    const float *pa = a.plane(c), *pb = b.plane(c);
    float* po = out.plane(c);
    for (int j = 0; j < n; j += 8)
      _mm256_storeu_ps(po + j, _mm256_add_ps(_mm256_mul_ps(w0, _mm256_loadu_ps(pa + j)),
                                             _mm256_mul_ps(w1, _mm256_loadu_ps(pb + j))));
  }
}
#endif

// Source rows converted by convert_row_avx2, the two last used: consecutive output rows of an
// upscaled tile mostly share their source rows, so each is deinterleaved and converted about once
// instead of twice. Holds columns [lo, lo + columns) of one strip: clear() when the taps change.
class ConvertedRows {
 public:
  void clear(int columns) {
    for (int i = 0; i < 2; ++i) key_[i] = nullptr, rows_[i].resize(columns);
  }
  // src's columns [0, n) (src already offset by lo). The slot not returned last is refilled: the
  // row returned just before stays valid.
  const Columns& get(const uint8_t* src, int n) {
    for (int i = 0; i < 2; ++i)
      if (key_[i] == src) return rows_[last_ = i];
    last_ ^= 1;
    key_[last_] = src;
#ifdef PFG_CPU_X86
    convert_row_avx2(src, n, rows_[last_]);
#endif
    return rows_[last_];
  }

 private:
  const uint8_t* key_[2] = {nullptr, nullptr};
  Columns rows_[2];
  int last_ = 0;
};

#ifdef PFG_CPU_X86
// The 8 floats of plane v that lanes (as Taps encodes them for kFetch) pick from the window(s) at base.
template <Fetch kFetch>
PFG_AVX2 static inline __m256 fetch8(const float* v, const int base[2], __m256i lanes) {
  if constexpr (kFetch == Fetch::kWindows4) {
    const __m256 windows = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(v + base[0])),
                                                _mm_loadu_ps(v + base[1]), 1);
    return _mm256_permutevar_ps(windows, lanes);
  } else if constexpr (kFetch == Fetch::kWindow16) {  // permutevar8x32 reads the lanes' low 3 bits,
    const __m256 lower = _mm256_permutevar8x32_ps(_mm256_loadu_ps(v + base[0]), lanes);  // blendv the sign
    const __m256 upper = _mm256_permutevar8x32_ps(_mm256_loadu_ps(v + base[0] + 8), lanes);
    return _mm256_blendv_ps(lower, upper, _mm256_castsi256_ps(lanes));
  } else {
    return _mm256_i32gather_ps(v + base[0], lanes, 4);
  }
}

// Output pixels [x, x + 8) of a resized row, x = ch.x, all 3 channels, from the planes of v.
template <Fetch kFetch, bool kStream>
PFG_AVX2 static inline void horizontal8(const Taps& t, const Taps::Chunk& ch, const float* const planes[3],
                                        float* out, int64_t plane) {
  // All of ch first, into registers: the stores below make the compiler reload what is left in memory.
  const int x = ch.x, left_base[2] = {ch.base[0][0], ch.base[0][1]}, right_base[2] = {ch.base[1][0], ch.base[1][1]};
  const __m256i left = _mm256_load_si256(reinterpret_cast<const __m256i*>(ch.lanes[0]));
  const __m256i right = _mm256_load_si256(reinterpret_cast<const __m256i*>(ch.lanes[1]));
  const __m256 w0 = _mm256_loadu_ps(t.w0.data() + x), w1 = _mm256_loadu_ps(t.w1.data() + x);
  for (int c = 0; c < 3; ++c) {  // horizontal_lerp, then u8_to_unit
    const __m256 blend = _mm256_add_ps(_mm256_mul_ps(w0, fetch8<kFetch>(planes[c], left_base, left)),
                                       _mm256_mul_ps(w1, fetch8<kFetch>(planes[c], right_base, right)));
    store8<kStream>(out + c * plane + x, to_unit8(blend));
  }
}

// horizontal_scalar for width >= 8, 8 pixels at a time.
template <Fetch kFetch>
PFG_AVX2 static void horizontal_avx2(const Taps& t, const Columns& v, int width, float* out, int64_t plane,
                                     bool stream) {
  const float* const planes[3] = {v.plane(0), v.plane(1), v.plane(2)};  // in registers, as in crop_row_avx2
  const size_t aligned = static_cast<size_t>(width / 8);  // chunks at multiples of 8; then the overlapping one
  size_t k = 0;
  if (stream)
    for (; k < aligned; ++k) horizontal8<kFetch, true>(t, t.chunks[k], planes, out, plane);
  for (; k < t.chunks.size(); ++k) horizontal8<kFetch, false>(t, t.chunks[k], planes, out, plane);
}
#endif

// rows: converted source rows to reuse, or nullptr when output rows rarely share source rows (a
// tile shrunk vertically: converting them apart costs more than it saves, measured 15.4 -> 16.3 ms).
static void vertical_pass(const uint8_t* r0, const uint8_t* r1, float wy, int n, ConvertedRows* rows,
                          Columns& out) {
#ifdef PFG_CPU_X86
  if (have_avx2() && n >= 32 && rows) {
    const Columns& a = rows->get(r0, n);
    return blend_rows_avx2(a, rows->get(r1, n), wy, n, out);
  }
  if (have_avx2() && n >= 32) return vertical_avx2(r0, r1, wy, n, out);
#endif
  vertical_scalar(r0, r1, wy, n, out);
}

static void horizontal_pass(const Taps& t, const Columns& v, int width, float* out, int64_t plane, bool stream) {
#ifdef PFG_CPU_X86
  if (have_avx2() && width >= 8) {
    switch (t.fetch) {
      case Fetch::kWindows4: return horizontal_avx2<Fetch::kWindows4>(t, v, width, out, plane, stream);
      case Fetch::kWindow16: return horizontal_avx2<Fetch::kWindow16>(t, v, width, out, plane, stream);
      case Fetch::kGather: return horizontal_avx2<Fetch::kGather>(t, v, width, out, plane, stream);
    }
  }
#endif
  horizontal_scalar(t, v, width, out, plane);
}

// Rows ahead of the one being written whose source bytes are prefetched (measured: 2-4 best).
constexpr int64_t kPrefetchRows = 2;

// Asks for the source bytes of output row r in cache ahead of use: successive rows read short runs
// of bytes (a crop's width of one tile row, or two when resizing) far apart, which the hardware
// prefetchers fetch too late (measured: crop 3.5 -> 2.6 ms, 1 thread). When resizing, `taps`
// (the current strip's) give the columns; at a strip's last rows they are approximate: harmless.
// always_inline: GCC's interprocedural analysis finds a function that only prefetches free of side
// effects and deletes the call (seen with GCC 12 -O3); inlined first, the prefetches stay.
__attribute__((always_inline)) static inline void prefetch_source(const StripRow& r, const Taps& taps, int S,
                                                                 bool resize) {
  const auto fetch = [](const uint8_t* from, int64_t bytes) {
    for (int64_t i = 0; i < bytes; i += 64) __builtin_prefetch(from + i);
  };
  if (resize) {
    fetch(r.r0 + 3 * taps.lo, 3 * taps.columns);
    if (r.r1 != r.r0) fetch(r.r1 + 3 * taps.lo, 3 * taps.columns);
  } else {
    fetch(r.r0 + 3 * static_cast<int64_t>(r.dx > 0 ? r.x0 : r.x0 - (S - 1)), 3 * S);
  }
}

template <bool kResize>
void strip_rows(const StripKernel<float, true, kResize>& kernel, int64_t rows, int64_t width) {
  if (rows <= 0 || width <= 0) return;
  const int S = static_cast<int>(width);
  const int64_t plane = static_cast<int64_t>(S) * S, rows_per_strip = static_cast<int64_t>(S) * kernel.p.n_sel;
  const bool stream = stream_outputs(kernel.inp, kernel.tgt, rows, S);
  parallel_rows(rows, row_grain(width), [&](RowQueue& queue) {
    const auto k = kernel;
    Taps taps;
    Columns columns;
    ConvertedRows converted;
    ConvertedRows* const reuse = k.p.scale_y < 1.0f ? &converted : nullptr;  // upscaled tiles
    int64_t taps_of = -1;  // the strip the taps were built for
    for (int64_t begin, end; queue.next(begin, end);)
      for (int64_t row = begin; row < end; ++row) {
        const auto r = k.row(row);
        if (row + kPrefetchRows < end) prefetch_source(k.row(row + kPrefetchRows).src, taps, S, kResize);
        if (!kResize) {
          crop_row(r.src, S, r.out, plane, stream);
          continue;
        }
        if (row / rows_per_strip != taps_of) {
          taps_of = row / rows_per_strip;
          taps.build(k.p, r.src);
          columns.resize(taps.columns);
          converted.clear(taps.columns);
        }
        vertical_pass(r.src.r0 + 3 * taps.lo, r.src.r1 + 3 * taps.lo, r.src.wy, taps.columns, reuse, columns);
        horizontal_pass(taps, columns, S, r.out, plane, stream);
      }
    if (stream) end_streaming();
  });
}

template void strip_rows<false>(const StripKernel<float, true, false>&, int64_t, int64_t);
template void strip_rows<true>(const StripKernel<float, true, true>&, int64_t, int64_t);

}  // namespace pyframegan::cpu
