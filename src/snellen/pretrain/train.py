"""``snellen pretrain``: MoCo-v2 on rendered images, with exact resume.

The reference recipe (SPEC.md): SGD with momentum 0.9 and weight decay 1e-4, lr 0.03 per
256 images, cosine schedule, temperature 0.2, queue 65,536 (capped at the dataset size for
small datasets), key-encoder momentum 0.999, MLP head, aug-plus views. The checkpoint holds
everything the next step depends on (both encoders, optimizer, scheduler, AMP scaler, the
queue and its pointer, RNG states, epoch and step, the loss history), written atomically
every ``save_every`` steps (:class:`snellen.training.state.TrainingState`; the warm-up/cosine
schedule is :mod:`snellen.training.schedule`'s); a killed run started again continues from it with nothing lost
or repeated. On GPUs: AMP (fp16 autocast + grad scaling), channels-last, and
DistributedDataParallel under ``torchrun`` (MoCo's shuffled BN across processes).
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from snellen.errors import InputError
from snellen.pretrain.augment import ViewSpec, two_views
from snellen.pretrain.data import ShardImages, data_dirs, moco_v2_transform, sample_seed
from snellen.pretrain.moco import MoCo, moco_loss
from snellen.training.schedule import warmup_cosine_factor
from snellen.training.state import TrainingState, rng_kept


@dataclass
class PretrainConfig:
    """Everything that defines a pre-training run (a resumed run must match it)."""

    data: list[str]
    arch: str = "resnet18"
    epochs: int = 200
    batch_size: int = 256
    size: int = 64
    lr: float = 0.03  # per 256 images
    momentum: float = 0.999  # key encoder
    queue: int = 65536
    temperature: float = 0.2
    weight_decay: float = 1e-4
    seed: int = 0
    amp: bool = True  # used on CUDA only
    channels_last: bool = True  # used on CUDA only
    width: int = 64  # resnet18-cifar's first-stage channels
    loader: str = "memory"  # "memory": decoded once, batched views; "stream": PIL per image
    warmup: float = 0.0  # fraction of the steps with a linear lr warm-up
    crop_min: float = 0.2  # smallest crop, as a fraction of the image area
    jitter: float = 1.0  # colour-jitter strength (1 = MoCo-v2's 0.4/0.4/0.4/0.1)
    blur: float = 0.5  # probability of a Gaussian blur
    hidden: int = 2048  # projection head's hidden units


@dataclass
class PretrainResult:
    out: str
    steps: int
    epochs: int
    final_loss: float
    images_per_s: float
    resumed_from_step: int
    device: str


def _dist() -> tuple[int, int, int]:
    """(rank, world size, local rank) under torchrun; (0, 1, 0) otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0"))


LOADERS = ("memory", "stream")


def pretrain(
    data: str | list[str],
    out: str | os.PathLike[str],
    *,
    arch: str = "resnet18",
    epochs: int = 200,
    batch_size: int = 256,
    size: int = 64,
    save_every: int = 100,
    workers: int | None = None,
    device: str | None = None,
    threads: int | None = None,
    stop_after: int | None = None,
    progress: bool = True,
    monitor: Callable[[torch.nn.Module], dict[str, float]] | None = None,
    **overrides: Any,
) -> PretrainResult:
    """Pre-train ``arch`` with MoCo-v2 on the images in ``data`` (dataset directories);
    the checkpoint at ``out`` is created, or resumed when it exists. ``threads`` sets
    torch's CPU threads (1 is often fastest on a shared machine: spinning threads starve);
    ``stop_after`` ends this session after that many steps in all (checkpoint saved), for
    time-sliced jobs. ``monitor(backbone)`` is called before the first step and after every
    epoch (e.g. an online kNN accuracy); its values are kept in the checkpoint's
    ``monitor`` list with the epoch.

    ``loader="memory"`` (default) decodes every image once into a uint8 tensor and draws
    both views of a whole batch with tensor operations (:mod:`snellen.pretrain.augment`);
    ``"stream"`` reads each image from its shard per step with PIL's aug-plus in loader
    processes, for datasets larger than memory."""
    from tqdm import tqdm

    cfg = _config(data, arch, epochs, batch_size, size, threads, overrides)
    dirs = cfg.data
    rank, world, dev = _start(device)
    use_amp = cfg.amp and dev.type == "cuda"
    channels_last = cfg.channels_last and dev.type == "cuda"

    spec = ViewSpec(size, cfg.crop_min, cfg.jitter, 0.2, cfg.blur)
    dataset = ShardImages(dirs, moco_v2_transform(size), seed=cfg.seed)
    n = len(dataset)
    pixels = decode_images(dataset).to(dev) if cfg.loader == "memory" else None
    global_batch = batch_size * world
    steps_per_epoch = n // global_batch
    if steps_per_epoch < 1:
        raise InputError(
            f"--batch-size {batch_size} x {world} process(es) is larger than the {n} images"
        )
    queue = min(cfg.queue, (n // batch_size) * batch_size)
    total_steps = steps_per_epoch * epochs
    warmup = int(cfg.warmup * total_steps)

    torch.manual_seed(cfg.seed)
    model = MoCo(arch, hidden=cfg.hidden, width=cfg.width).to(dev)
    criterion = moco_loss(queue, temperature=cfg.temperature, distributed=world > 1).to(dev)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    query: torch.nn.Module = model
    if world > 1:
        query = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None
        )
    lr = cfg.lr * global_batch / 256
    params = _trainable(model)
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=cfg.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine_factor(total_steps, warmup)
    )
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    state = TrainingState(model, optimizer, scheduler, scaler)

    path = Path(out)
    step, history, resumed = 0, [], 0
    monitored: list[dict[str, float]] = []
    if path.exists():
        ckpt = _load_state(path, cfg, dev, state, criterion)
        step, history, resumed = ckpt["step"], ckpt["history"], ckpt["step"]
        monitored = list(ckpt.get("monitor", []))

    def save() -> None:
        if rank != 0:
            return
        state.save(
            path, settings=asdict(cfg), step=step, epoch=step // steps_per_epoch, arch=arch,
            width=cfg.width, backbone=model.backbone.state_dict(),
            queue=criterion.memory_bank.bank.detach().cpu(),
            queue_ptr=criterion.memory_bank.bank_ptr.detach().cpu(), total_steps=total_steps,
            queue_size=queue, images=n, history=history, monitor=monitored,
            finished=step >= total_steps,
        )  # fmt: skip

    def watch(epoch: int) -> None:
        if rank == 0:
            _watch(monitor, model, monitored, epoch, step)

    workers = min(4, os.cpu_count() or 1) if workers is None else workers
    bar = tqdm(total=total_steps, initial=step, unit="step", desc=f"moco {arch}",
               disable=not progress or rank != 0)  # fmt: skip
    t_start, seen = time.monotonic(), 0
    end = min(total_steps, stop_after) if stop_after else total_steps
    if step == 0:
        watch(0)
    while step < end:
        epoch, skip = divmod(step, steps_per_epoch)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 1000 + epoch))
        batches = [
            (b, order[(b * world + rank) * batch_size : (b * world + rank + 1) * batch_size])
            for b in range(skip, steps_per_epoch)
        ]
        dataset.set_epoch(epoch)
        views = _epoch_views(dataset, pixels, batches, spec, cfg.seed, epoch, workers, dev)
        model.train()
        t0 = time.monotonic()
        for x0, x1 in views:
            x0, x1 = _to_device(x0, dev, channels_last), _to_device(x1, dev, channels_last)
            model.update_momentum(cfg.momentum)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=use_amp):
                q = query(x0)
                k = _keys(model, x1, world)
                loss = criterion(q.float(), k.float())
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            step += 1
            seen += len(x0) * world
            now = time.monotonic()
            rate = len(x0) * world / max(now - t0, 1e-9)  # views included: the loop's rate
            t0 = now
            history.append(
                {"step": step, "epoch": epoch, "loss": float(loss.item()),
                 "lr": optimizer.param_groups[0]["lr"], "images_per_s": round(rate, 2)}
            )  # fmt: skip
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
            if step % steps_per_epoch == 0:
                watch(step // steps_per_epoch)
            if _save_due(step, steps_per_epoch, save_every, end):
                save()
            if step >= end:
                break
    bar.close()
    save()
    elapsed = time.monotonic() - t_start
    _stop(world)
    return PretrainResult(
        str(path), step, epochs, history[-1]["loss"] if history else float("nan"),
        round(seen / elapsed, 2) if seen else 0.0, resumed, str(dev),
    )  # fmt: skip


def _watch(
    monitor: Callable[[torch.nn.Module], dict[str, float]] | None, model: MoCo,
    monitored: list[dict[str, float]], epoch: int, step: int,
) -> None:  # fmt: skip
    """Call the monitor on the backbone once per epoch (kept RNG states, so that watching
    never changes training) and append its values."""
    if monitor is None or any(m["epoch"] == epoch for m in monitored):
        return
    was_training = model.training
    with rng_kept():
        values = monitor(model.backbone)
    model.train(was_training)
    monitored.append({"epoch": epoch, "step": step, **values})


def _config(
    data: str | list[str], arch: str, epochs: int, batch_size: int, size: int,
    threads: int | None, overrides: dict[str, Any],
) -> PretrainConfig:  # fmt: skip
    """The run's settings, checked; sets torch's CPU threads when asked."""
    if threads:
        torch.set_num_threads(threads)
    cfg = PretrainConfig(data_dirs(data), arch, epochs, batch_size, size, **overrides)
    if cfg.loader not in LOADERS:
        raise InputError(f"--loader {cfg.loader}: choose one of {', '.join(LOADERS)}")
    return cfg


def _save_due(step: int, steps_per_epoch: int, save_every: int, end: int) -> bool:
    """A checkpoint every ``save_every`` steps, at every epoch's end and at the last step."""
    return step % save_every == 0 or step % steps_per_epoch == 0 or step == end


def _trainable(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def _start(device: str | None) -> tuple[int, int, torch.device]:
    """This process's rank, the world size and its device; joins the process group when
    started by torchrun."""
    rank, world, local_rank = _dist()
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    dev = torch.device(device or (f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    return rank, world, dev


def _stop(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()


def _load_state(
    path: Path, cfg: PretrainConfig, dev: torch.device, state: TrainingState, criterion: Any
) -> dict[str, Any]:
    """Restore a checkpoint's model, optimizer, schedule, scaler, RNG states and queue;
    returns the checkpoint. Other settings are an error, never a silent mix."""
    ckpt = state.resume(
        path, settings=asdict(cfg), map_location=dev,
        mismatch="{path} was trained with other settings ({diff}); "
        "resume with the same settings or choose another --out",
        hint="choose another --out, or delete it to start over",
    )  # fmt: skip
    criterion.memory_bank.bank.copy_(ckpt["queue"])
    criterion.memory_bank.bank_ptr.copy_(ckpt["queue_ptr"])
    return ckpt


def _epoch_views(
    dataset: ShardImages, pixels: torch.Tensor | None, batches: list[tuple[int, torch.Tensor]],
    spec: ViewSpec, seed: int, epoch: int, workers: int, dev: torch.device,
) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:  # fmt: skip
    """Both views of every batch of an epoch: drawn on decoded pixels, or read from the
    shards by loader processes."""
    if pixels is not None:
        return _batched_views(pixels, batches, spec, seed, epoch)
    return DataLoader(
        dataset, batch_sampler=[idx.tolist() for _, idx in batches], num_workers=workers,
        collate_fn=_collate, pin_memory=dev.type == "cuda",
    )  # fmt: skip


def _to_device(x: torch.Tensor, dev: torch.device, channels_last: bool) -> torch.Tensor:
    x = x.to(dev, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def decode_images(dataset: ShardImages) -> torch.Tensor:
    """Every image of ``dataset`` as one uint8 tensor (N, 3, H, W); images of another size
    than the first are resized to it."""
    first = np.asarray(dataset.image(0))
    h, w = first.shape[:2]
    out = torch.empty(len(dataset), 3, h, w, dtype=torch.uint8)
    for i in range(len(dataset)):
        img = dataset.image(i)
        if img.size != (w, h):
            img = img.resize((w, h))
        out[i] = torch.from_numpy(np.array(img)).permute(2, 0, 1)
    return out


def _batched_views(
    pixels: torch.Tensor,
    batches: list[tuple[int, torch.Tensor]],
    spec: ViewSpec,
    seed: int,
    epoch: int,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Both views of each batch, their randomness seeded by (seed, epoch, batch): a resumed
    run draws the very crops the uninterrupted run drew."""
    for b, idx in batches:
        g = torch.Generator().manual_seed(sample_seed(seed, epoch, b))
        yield two_views(pixels[idx.to(pixels.device)], spec, g)


def _collate(batch: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.stack([b[0] for b in batch]), torch.stack([b[1] for b in batch])


def _keys(model: MoCo, x: torch.Tensor, world: int) -> torch.Tensor:
    """Key features; across processes the batch is shuffled first so batch-norm statistics
    cannot leak which key matches which query (MoCo's shuffled BN)."""
    if world > 1:
        from lightly.models.utils import batch_shuffle_distributed, batch_unshuffle_distributed

        x, shuffle = batch_shuffle_distributed(x)
        k = model.forward_momentum(x)
        return batch_unshuffle_distributed(k, shuffle)
    return model.forward_momentum(x)


def load_backbone(path: str | os.PathLike[str], device: str = "cpu") -> tuple[torch.nn.Module, str]:
    """The query backbone of a ``snellen pretrain`` checkpoint (fc removed) and its arch."""
    from snellen.pretrain.moco import make_backbone

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such checkpoint; pass a file written by snellen pretrain")
    try:
        ckpt = torch.load(p, map_location=device, weights_only=False)  # noqa: S614 - a checkpoint snellen pretrain wrote holds its config as Python objects
    except (pickle.UnpicklingError, EOFError, ValueError, RuntimeError) as e:
        raise InputError(
            f"{p}: not a checkpoint torch can read ({type(e).__name__}); pass a file written "
            "by snellen pretrain"
        ) from None
    if not isinstance(ckpt, dict) or "backbone" not in ckpt:
        raise InputError(f"{p}: not a snellen pretrain checkpoint (no backbone weights)")
    net, _ = make_backbone(ckpt["arch"], int(ckpt["config"].get("width", 64)))
    net.load_state_dict(ckpt["backbone"])
    return net.eval(), ckpt["arch"]
