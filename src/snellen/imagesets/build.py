"""``snellen dataset build``: a source's images written as WebDataset shards, resumably.

The unit of work is a shard: :class:`ShardJob` (picklable: the source, the slot range, the
image size, the seed) in, one shard file and a :class:`ShardRecord` out. Finished shards are
records in the output's run store, so a killed build resumes with the next missing shard;
the same seed gives the same bytes whether shards run in-process, in local processes or as
Ray tasks.
"""

from __future__ import annotations

import atexit
import multiprocessing.util
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from PIL import Image

from snellen.errors import InputError
from snellen.imagesets.base import Planned, Source
from snellen.imagesets.shards import SHARD_DIR, shard_name, write_shard
from snellen.imagesets.sources import load_source
from snellen.records import Record
from snellen.registry import Registry

MANIFEST = "dataset.json"


@dataclass(frozen=True)
class ShardJob:
    """Slots ``start .. start + count - 1`` of ``source`` at ``size`` px, into ``out_dir``."""

    source: Source
    shard: int
    start: int
    count: int
    size: int
    seed: int
    out_dir: str
    render_workers: int = 1


@dataclass(frozen=True)
class ShardRecord(Record):
    """One finished shard: how many images it holds, what failed, and its checksum."""

    kind = "dataset_shard"
    shard: int
    name: str
    images: int
    failures: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    seconds: float = 0.0
    sandbox: dict[str, str] = field(default_factory=dict)

    def record_key(self) -> str:
        return shard_name(self.shard)


# -- one shard ----------------------------------------------------------------------------

_POOLS: dict[int, Any] = {}


def render_pool(workers: int) -> Any:
    """This process's warm, confined render pool (kept for the next shard: a Ray worker or
    a pool process runs many shards and pays the renderers' start-up once)."""
    pool = _POOLS.get(workers)
    if pool is None:
        from snellen.render.pool import LocalPool

        pool = _POOLS[workers] = LocalPool(workers)
        atexit.register(pool.close)
        # pool processes of multiprocessing leave by os._exit, skipping atexit: a finalizer
        # still stops (and reaps) the render workers there
        multiprocessing.util.Finalize(None, pool.close, exitpriority=10)
    return pool


def _png(pixels: Any) -> bytes:
    from snellen.render.image import to_png

    return to_png(Image.fromarray(pixels).convert("RGB"))


def run_shard(job: ShardJob) -> ShardRecord:
    """Draw or render every slot of ``job``, retrying failed renders with the source's next
    choice, and write the shard. Pure apart from the file it writes."""
    t0 = time.monotonic()
    source, images = job.source, {}
    failures: Counter[str] = Counter()
    sandbox: dict[str, str] = {}
    pending: dict[int, Planned] = {
        i: source.plan(i, job.seed, job.size, 0) for i in range(job.start, job.start + job.count)
    }
    for attempt in range(max(1, source.attempts)):
        to_render: dict[int, Planned] = {}
        for i, planned in pending.items():
            if planned.pixels is not None:
                images[i] = (_png(planned.pixels), {**planned.meta, "attempt": attempt})
            elif planned.job is not None:
                to_render[i] = planned
        retry: dict[int, Planned] = {}
        if to_render:
            pool = render_pool(job.render_workers)
            jobs = [replace(p.job, id=str(i)) for i, p in to_render.items() if p.job is not None]
            for result in pool.map(jobs):
                i = int(result.id)
                if result.ok and result.square_png:
                    images[i] = (result.square_png, {**to_render[i].meta, "attempt": attempt})
                else:
                    failures[result.status.value] += 1
                    if attempt + 1 < source.attempts:
                        retry[i] = source.plan(i, job.seed, job.size, attempt + 1)
            sandbox = dict(getattr(pool, "sandbox", {}))
        pending = retry
        if not pending:
            break
    items = [(f"{i:09d}", png, {**meta, "index": i}) for i, (png, meta) in sorted(images.items())]
    name = shard_name(job.shard)
    digest = write_shard(Path(job.out_dir) / SHARD_DIR / name, items)
    return ShardRecord(
        job.shard, name, len(items), dict(failures), digest, time.monotonic() - t0, sandbox
    )


# -- backends -----------------------------------------------------------------------------


def run_local(jobs: list[ShardJob], workers: int) -> Iterator[ShardRecord]:
    """Shards in this process (one worker) or in a pool of local processes."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_shard(job)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as ex:
        todo = iter(jobs)
        running = {ex.submit(run_shard, j) for j in _take(todo, 2 * workers)}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                running |= {ex.submit(run_shard, j) for j in _take(todo, 1)}


def _take(it: Iterator[ShardJob], n: int) -> list[ShardJob]:
    out = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


class _ShardWorker:
    """A Ray actor that runs shard jobs one after another in one process, keeping its
    confined render pool warm between them (one actor per CPU: the per-task cost is a
    method call, not a worker process, an import of snellen and a render pool)."""

    def run(self, job: ShardJob) -> ShardRecord:
        return run_shard(job)


def run_ray(jobs: list[ShardJob], workers: int, address: str | None) -> Iterator[ShardRecord]:
    """Shards on Ray: on the cluster at ``address``, or on a local Ray instance started
    here (``workers`` CPUs) and stopped at the end. One actor per CPU takes shard jobs as
    it finishes them; each keeps its own confined render pool between shards."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise InputError("--backend ray needs Ray: pip install 'ray==2.60.0'") from None
    started = False
    if not ray.is_initialized():
        if address:
            env = {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}}
            ray.init(address=address, runtime_env=env, log_to_driver=False)
        else:
            # a local instance's workers inherit this process's environment (PYTHONPATH
            # included), so no runtime environment (and its agent's set-up) is needed
            ray.init(
                num_cpus=workers,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )
        started = True
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", workers)))
        actor = ray.remote(num_cpus=1, max_restarts=2, max_task_retries=2)(_ShardWorker)
        pool = ActorPool([actor.remote() for _ in range(min(cpus, max(1, len(jobs))))])
        yield from pool.map_unordered(lambda a, job: a.run.remote(job), jobs)
    finally:
        if started:
            ray.shutdown()


def _local(jobs: list[ShardJob], workers: int, address: str | None) -> Iterator[ShardRecord]:
    return run_local(jobs, workers)


#: where shards are built: ``backend(jobs, workers, address)`` yields their records
BACKENDS: Registry[Callable[[list[ShardJob], int, str | None], Iterator[ShardRecord]]] = Registry(
    "dataset backend"
)
BACKENDS.register("local", _local, help="confined render pools in processes on this machine")
BACKENDS.register("ray", run_ray, help="Ray tasks: a cluster at --address, or a local Ray")


# -- the build ----------------------------------------------------------------------------


@dataclass
class DatasetSummary:
    """What a build wrote (also OUT/dataset.json)."""

    out: str
    source: str
    n: int
    size: int
    seed: int
    shard_size: int
    images: int
    failures: dict[str, int]
    shards: list[dict[str, Any]]
    seconds: float
    shards_this_session: int
    images_per_s: float
    backend: str
    sandbox: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _stored_identity(out: str | os.PathLike[str], src: Source) -> str:
    """The source identity to resume ``out`` with: the content identity, or the spec for a
    build started before sources of files were known by content (so it still resumes)."""
    import json

    from snellen.store.run import MANIFEST as RUN_MANIFEST

    manifest = Path(out) / RUN_MANIFEST
    if manifest.is_file():
        try:
            stored = json.loads(manifest.read_text()).get("config", {}).get("source")
        except (OSError, ValueError, AttributeError):
            stored = None
        if stored == src.spec:
            return src.spec
    return src.identity()


def build_dataset(
    source: str | Source,
    n: int,
    size: int,
    out: str | os.PathLike[str],
    *,
    seed: int = 0,
    shard_size: int = 500,
    backend: str = "local",
    address: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    on_shard: Callable[[ShardRecord], None] | None = None,
) -> DatasetSummary:
    """Write ``n`` images of ``source`` at ``size`` x ``size`` px to ``out`` (shards +
    ``dataset.json``). Rerunning with the same arguments resumes: finished shards are kept.
    """
    import json

    from tqdm import tqdm

    from snellen.store import Run

    if n <= 0 or size <= 0 or shard_size <= 0:
        raise InputError("--n, --size and --shard-size must be positive")
    runner_of = BACKENDS.get(backend)  # an unknown name: an error naming the known ones
    src = load_source(source) if isinstance(source, str) else source
    workers = workers or os.cpu_count() or 1
    config = {
        "source": _stored_identity(out, src),
        "n": n,
        "size": size,
        "seed": seed,
        "shard_size": shard_size,
    }
    run = Run.open(out, command="dataset build", config=config, seeds={"seed": seed})
    root = Path(out)
    (root / SHARD_DIR).mkdir(exist_ok=True)
    for stale in (root / SHARD_DIR).glob("*.tar.tmp*"):  # left by a killed build
        stale.unlink(missing_ok=True)
    done = {
        r.shard: r for r in run.load_records(ShardRecord) if (root / SHARD_DIR / r.name).exists()
    }
    jobs = [
        ShardJob(src, k, start, min(shard_size, n - start), size, seed, str(root))
        for k, start in enumerate(range(0, n, shard_size))
        if k not in done
    ]
    t0 = time.monotonic()
    bar = tqdm(
        total=n, initial=sum(min(shard_size, n - k * shard_size) for k in done),
        unit="img", desc=f"dataset {src.spec[:40]}", disable=not progress,
    )  # fmt: skip
    runner: Iterable[ShardRecord] = runner_of(jobs, workers, address)
    made = 0
    try:
        for record in runner:
            run.put_record(record)
            done[record.shard] = record
            made += record.images
            bar.update(min(shard_size, n - record.shard * shard_size))
            bar.set_postfix(failed=sum(sum(r.failures.values()) for r in done.values()))
            if on_shard is not None:
                on_shard(record)
    finally:
        bar.close()
    seconds = time.monotonic() - t0
    records = [done[k] for k in sorted(done)]
    failures: Counter[str] = Counter()
    sandbox: dict[str, str] = {}
    for r in records:
        failures.update(r.failures)
        sandbox = sandbox or r.sandbox
    summary = DatasetSummary(
        out=str(root),
        source=src.spec,
        n=n,
        size=size,
        seed=seed,
        shard_size=shard_size,
        images=sum(r.images for r in records),
        failures=dict(failures),
        shards=[{"name": r.name, "images": r.images, "sha256": r.sha256} for r in records],
        seconds=round(seconds, 3),
        shards_this_session=len(jobs),
        images_per_s=round(made / seconds, 2) if seconds > 0 and made else 0.0,
        backend=backend,
        sandbox=sandbox,
    )
    manifest = {**summary.to_dict(), "description": src.describe()}
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    run.update_manifest(sandbox=sandbox)
    run.finish()
    run.close()
    return summary
