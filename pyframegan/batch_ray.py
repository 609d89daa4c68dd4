"""`pyframegan batch --ray`: the videos of a batch as tasks of Ray actors.

One actor per GPU (``num_gpus=1``) when the model runs on CUDA, or per ``--cpus-per-video`` CPUs
otherwise, loads the model once and interpolates one video per call; the driver (the `batch`
command) hands each actor its next video as the last one ends, and keeps the manifest. An actor
whose process dies (killed, out of memory, its node lost) is restarted and the video it was
writing is retried, ``retries`` times; the partial file of the dead process is removed by the
retry. A video that fails with an error (a corrupt input) is not retried.

The workers read the inputs and write the outputs themselves: inputs, outputs and the model must
be on storage that every node reaches at the same path, and every node needs pyframegan (and Ray)
installed as on the driver.
"""
from __future__ import annotations

import logging
import signal
import socket
import threading
from pathlib import Path
from typing import Callable

import ray
import torch

from pyframegan.errors import first_line
from pyframegan.files import remove_stale_temporaries


class VideoWorker:
    """The model, loaded once; :meth:`interpolate` runs one video through interpolate_video."""

    def __init__(self, model: str | None, device: str, fp16: bool, threads: int):
        from pyframegan.engine import Interpolator

        if device == "cpu":
            torch.set_num_threads(threads)
        self.engine = Interpolator(model, device, torch.float16 if fp16 else torch.float32)

    def interpolate(self, src: str, dst: str, video_kwargs: dict) -> dict:
        from pyframegan.video import interpolate_video

        for path, what in ((Path(src), "the input"), (Path(dst).parent, "the output folder")):
            if not path.exists():
                raise FileNotFoundError(f"{path}: {what} is not there on node {socket.gethostname()}; inputs "
                                        "and OUTDIR must be on storage that every node reaches at the same path")
        return interpolate_video(src, dst, self.engine, progress=False, **video_kwargs)


def connect(mode: str) -> None:
    """ray.init: "local" starts a Ray instance here, "auto" joins the cluster of RAY_ADDRESS or of
    this node. The SIGTERM handler is kept (ray.init replaces it), so SIGTERM still ends the
    batch as Ctrl-C does."""
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        ray.init(address=mode, logging_level=logging.ERROR, include_dashboard=False)
    except ConnectionError as exc:
        raise RuntimeError(f"--ray auto: no Ray cluster to join ({exc}); start one (ray start --head), set "
                           "RAY_ADDRESS, or use --ray local") from None
    finally:
        if sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, sigterm)


def run_on_ray(items: list, video_kwargs: dict, report: Callable, *, mode: str, model=None, device=None,
               fp16: bool = False, retries: int = 3, cpus_per_video: int = 1) -> None:
    """Each item (see pyframegan.batch.Item) on the cluster; ``report(item, stats, error)`` in
    this thread as each ends. Uses the Ray of this process if it is initialised (and leaves it
    so), else connects (``mode``) and shuts down at the end. ``retries`` and ``cpus_per_video`` are
    checked by run_batch."""
    if model is not None:
        model = str(Path(model).absolute())
    started_here = not ray.is_initialized()
    if started_here:
        connect(mode)
    actors: list = []
    waiting = list(reversed(items))
    running: dict = {}  # ObjectRef -> (item, actor)
    try:
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
        cuda = torch.device(device).type == "cuda" if device else gpus > 0
        if cuda and gpus == 0:
            raise ValueError(f"--device {device}: the Ray cluster has no GPU")
        if fp16 and not cuda:
            raise ValueError("--fp16 needs CUDA: the videos would run on the CPU")
        count = min(len(items), cpus // cpus_per_video, gpus if cuda else len(items))
        if count < 1:
            raise ValueError(f"the Ray cluster has {cpus} CPUs, fewer than --cpus-per-video {cpus_per_video}")
        options = dict(num_cpus=cpus_per_video, num_gpus=1 if cuda else 0,
                       max_restarts=-1, max_task_retries=retries)  # a dead worker restarts; its video is retried
        worker = ray.remote(VideoWorker).options(**options)
        actors = [worker.remote(model, "cuda" if cuda else "cpu", fp16, cpus_per_video) for _ in range(count)]

        def give(actor) -> None:
            item = waiting.pop()
            running[actor.interpolate.remote(str(item.src), str(item.dst), video_kwargs)] = (item, actor)

        for actor in actors:
            if waiting:
                give(actor)
        while running:
            [ref], _ = ray.wait(list(running), num_returns=1)
            item, actor = running.pop(ref)
            try:
                stats = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:  # the video's own error, e.g. a corrupt input
                report(item, None, exc.cause if isinstance(exc.cause, BaseException) else exc)
            except ray.exceptions.RayError as exc:  # the worker died (retried up to `retries` times), or never started
                report(item, None, RuntimeError(f"the Ray worker failed ({type(exc).__name__}: {first_line(exc)}); "
                                                f"a worker that dies is retried up to {retries} times"))
            else:
                report(item, stats, None)
            if waiting:
                give(actor)
    finally:
        for actor in actors:  # on an interrupt the running videos stop now
            ray.kill(actor)
        if started_here:
            ray.shutdown()
        for item, _ in running.values():  # their partial files, where their processes are gone already
            remove_stale_temporaries(item.dst)  # (any other is removed by the next run to the same output)
