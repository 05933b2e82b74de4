"""``snellen reproduce``: the shared Finding record (its JSON schema and its page, opened in
headless Chromium), the registry and the CLI (``--list``, unknown names, presets and options
refused with a clear message), the demo tour's index, and the verdict rules of the two
ARO findings on measured-shaped numbers."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from snellen.cli import main
from snellen.errors import InputError
from snellen.reproduce import (
    FINDINGS,
    VERDICTS,
    Figure,
    Finding,
    ReproduceOptions,
    read_finding,
    run_reproduce,
    write_finding,
)
from snellen.reproduce.findings import interval

SCHEMA = {"name", "claim", "paper", "preset", "verdict", "reason", "seconds", "rows", "command",
          "config", "figures", "notes", "machine", "date"}  # fmt: skip


def _draw(path: Path, values: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
    ax.plot(values)
    fig.savefig(path)
    plt.close(fig)


def coin_finding(options: ReproduceOptions) -> Finding:
    """A small real experiment: a seeded coin's heads rate over several seeds, against 50%;
    resumable (each seed's count is kept in OUT/seeds/SEED.txt)."""
    import random

    seeds = options.seeds or 3
    n = options.n or 200
    rates = []
    for seed in range(seeds):
        keep = options.out / "seeds" / f"{seed}.txt"
        if not keep.exists():
            rng = random.Random(seed)
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_text(str(sum(rng.random() < 0.5 for _ in range(n))))
        rates.append(100 * int(keep.read_text()) / n)
    iv = interval(rates)
    _draw(options.out / "rates.png", rates)
    holds = iv.low < 50 < iv.high
    return Finding(
        name="coin", claim="A fair coin lands heads half the time.", paper="folklore",
        preset=options.preset, verdict="holds" if holds else "does not hold",
        reason=f"heads {iv.mean:.1f}% (95% CI {iv.low:.1f}-{iv.high:.1f})", seconds=0.0,
        rows=[{"source": "coin", "seed": s, "heads": r} for s, r in enumerate(rates)]
        + [{"source": "coin", "heads_mean": iv.mean, "heads_sd": iv.sd, "seeds": iv.n}],
        figures=[Figure("rates.png", "Heads per seed", "one point per seed")],
        config={"n": n, "seeds": seeds},
    )  # fmt: skip


@pytest.fixture
def coin() -> Iterator[str]:
    FINDINGS.register("coin", coin_finding, help="a fair coin (test finding)", replace=True)
    FINDINGS.register(
        "absent", "snellen.reproduce.no_such_module:run", help="not built", replace=True
    )
    yield "coin"
    for key in ("coin", "absent"):
        FINDINGS._entries.pop(key, None)


def test_the_four_findings_are_registered():
    assert {"bag-of-words", "negclip", "lens", "vision"} <= set(FINDINGS.names())


def test_finding_json_has_the_shared_schema_and_reads_back(coin, tmp_path):
    finding = run_reproduce("coin", out=tmp_path / "c", preset="cpu", seeds=4, n=100)
    data = json.loads((tmp_path / "c" / "findings.json").read_text())
    assert set(data) == SCHEMA
    assert data["verdict"] in VERDICTS and data["preset"] == "cpu"
    assert data["seconds"] > 0 and len(data["rows"]) == 5
    assert all(
        isinstance(v, str | int | float | bool | type(None))
        for r in data["rows"]
        for v in r.values()
    )
    assert data["command"] == "snellen reproduce coin --preset cpu" or data["command"] == ""
    back = read_finding(tmp_path / "c")
    assert back == finding
    # started again on the same directory it continues: the kept seeds are not drawn again
    kept = (tmp_path / "c" / "seeds" / "0.txt").stat().st_mtime_ns
    again = run_reproduce("coin", out=tmp_path / "c", preset="cpu", seeds=4, n=100)
    assert (tmp_path / "c" / "seeds" / "0.txt").stat().st_mtime_ns == kept
    assert again.rows == finding.rows


def test_a_finding_refuses_bad_verdicts_and_non_scalar_rows(tmp_path):
    base = dict(name="x", claim="c", paper="p", preset="quick", reason="r", seconds=1.0)
    with pytest.raises(ValueError, match="verdict 'maybe'"):
        Finding(verdict="maybe", rows=[], **base)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="column 'bad' is list"):
        Finding(verdict="holds", rows=[{"bad": [1, 2]}], **base)  # type: ignore[arg-type, list-item]
    with pytest.raises(InputError, match="no findings here"):
        read_finding(tmp_path)


def test_interval_is_a_student_t_interval():
    iv = interval([1.0, 2.0, 3.0])
    assert (iv.mean, iv.sd, iv.n) == (2.0, 1.0, 3)
    assert iv.high - iv.mean == pytest.approx(4.302653 / 3**0.5, rel=1e-5)
    single = interval([5.0])
    assert (single.low, single.high, single.sd) == (5.0, 5.0, 0.0)


def test_bad_names_presets_and_options_are_refused_clearly(coin, tmp_path, capsys):
    with pytest.raises(
        InputError, match=r"unknown finding 'bag-of-word'.*did you mean 'bag-of-words'"
    ):
        run_reproduce("bag-of-word", out=tmp_path)
    with pytest.raises(InputError, match="--preset 'huge': choose one of quick, cpu, gpu, paper"):
        run_reproduce("coin", out=tmp_path, preset="huge")
    with pytest.raises(InputError, match="unknown option.*colour"):
        run_reproduce("coin", out=tmp_path, colour="red")
    with pytest.raises(InputError, match="no_such_module is not in this build"):
        run_reproduce("absent", out=tmp_path)
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown finding 'nope'" in capsys.readouterr().err
    assert main(["reproduce", "coin", "--set", "width", "--out", str(tmp_path)]) == 2
    assert "write KEY=VALUE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["reproduce", "coin", "--preset", "huge"])
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def test_reproduce_list(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("bag-of-words", "negclip", "lens", "vision"):
        assert re.search(rf"^  {name} +\S", out, re.M), name
    assert main(["reproduce"]) == 2  # no name: the list, and a usage line
    assert "snellen reproduce NAME" in capsys.readouterr().out


def test_the_cli_runs_a_finding_and_records_its_options(coin, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["reproduce", "coin", "--preset", "gpu", "--seeds", "2", "--out", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert text.startswith("coin (gpu): ") and f"page: {out}/findings.html" in text
    data = json.loads((out / "findings.json").read_text())
    assert data["config"] == {"n": 200, "seeds": 2}


# ------------------------------------------------------------------ the page in Chromium


def test_finding_page_renders_in_chromium(coin, tmp_path):
    from test_report_chromium import chromium

    out = tmp_path / "page"
    finding = run_reproduce("coin", out=out, seeds=3)
    finding.notes.append("a <note> & its escaping")
    write_finding(finding, out)
    page = out / "findings.html"
    dom = chromium("--dump-dom", page.as_uri()).stdout
    verdict = re.search(r'id="verdict"><b>([^<]+)</b>: ([^<]+)</p>', dom)
    assert verdict and verdict.group(1) == finding.verdict
    assert verdict.group(2).startswith("heads ")
    table = re.search(r'<table id="rows">(.*?)</table>', dom, re.S)
    assert table is not None
    body = re.findall(r"<tr>(.*?)</tr>", table.group(1))
    assert len(body) == 1 + len(finding.rows)  # the header and one line per row
    first = re.findall(r"<td>([^<]*)</td>", body[1])
    assert float(first[2]) == pytest.approx(float(finding.rows[0]["heads"] or 0), abs=0.05)
    assert "a &lt;note&gt; &amp; its escaping" in dom
    images = re.findall(
        r'<img alt="Heads per seed" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', dom
    )
    assert len(images) == 1
    with Image.open(io.BytesIO(base64.b64decode(images[0]))) as im:
        assert im.size == (240, 160)
    assert not re.search(r'(src|href)="(https?:|//|file:)', dom)  # self-contained
    shot = tmp_path / "page.png"
    chromium(f"--screenshot={shot}", "--window-size=1000,900", page.as_uri())
    with Image.open(shot) as im:
        lo, hi = im.convert("L").getextrema()
        assert hi - lo > 100  # not a blank page


# ------------------------------------------------------------------ the demo tour


def test_tour_index_links_run_shipped_and_missing_parts(coin, tmp_path, monkeypatch):
    import snellen.reproduce.demo as tour
    from test_report_chromium import chromium

    shipped = tmp_path / "shipped"
    run_reproduce("coin", out=shipped / "coin", preset="paper", seeds=2)
    monkeypatch.setattr(tour, "shipped_findings_dir", lambda: shipped)
    result = tour.run_tour(
        tmp_path / "demo", checkup=False, live=("coin", "absent"), shipped=("coin", "negclip"),
        progress=False,
    )  # fmt: skip
    kinds = [p.kind for p in result.parts]
    assert kinds == ["run now", "missing", "shipped", "missing"]
    assert (tmp_path / "demo" / "reproduce" / "coin" / "findings.json").is_file()
    copied = read_finding(tmp_path / "demo" / "shipped" / "coin")
    assert copied.preset == "paper" and (tmp_path / "demo/shipped/coin/rates.png").is_file()
    dom = chromium("--dump-dom", result.index.as_uri()).stdout
    links = re.findall(r'<a href="([^"]+)">', dom)
    assert links == ["reproduce/coin/findings.html", "shipped/coin/findings.html"]
    for link in links:
        assert (result.out / link).is_file()
    assert "preset <b>paper</b>" in dom and "preset <b>quick</b>" in dom
    assert "no shipped result in snellen/data/findings/negclip" in dom
    with pytest.raises(InputError, match="unknown finding"):
        tour.run_tour(tmp_path / "x", checkup=False, live=("nothing",), shipped=())


def test_shipped_findings_are_complete_and_labelled():
    """Every finding shipped for the demo reads back, names its command, preset, machine and
    date, and ships the figures it lists."""
    from snellen.reproduce.demo import shipped_findings_dir

    root = shipped_findings_dir()
    for path in sorted(root.glob("*/findings.json")) if root.is_dir() else []:
        finding = read_finding(path)
        assert finding.command.startswith("snellen reproduce ") and finding.preset != "quick"
        assert finding.machine and re.match(r"\d{4}-\d\d-\d\d", finding.date)
        for fig in finding.figures:
            assert (path.parent / fig.path).is_file(), fig.path
            assert (path.parent / fig.path).stat().st_size < 400_000


# ------------------------------------------------------------------ the verdict rules


def _bow_values(drop: float, relation: float) -> dict[tuple[str, str, str], dict[int, float]]:
    from snellen.reproduce.bag_of_words import COMPOSITION, RETRIEVAL_METRICS, SHUFFLES

    values: dict[tuple[str, str, str], dict[int, float]] = {}
    for seed, wobble in enumerate((-1.0, 0.0, 1.0)):
        for metric, _ in RETRIEVAL_METRICS:
            values.setdefault(("m", "vad-retrieval", metric), {})[seed] = 78 + wobble
            for kind in SHUFFLES:
                key = ("m", f"vad-retrieval:{kind}", metric)
                values.setdefault(key, {})[seed] = 78 + wobble - drop + 0.3 * seed
        for name, metric, _ in COMPOSITION:
            base = relation if name == "vad-aro/relation" else (19.0 if "order" in name else 50.0)
            values.setdefault(("m", name, metric), {})[seed] = base + wobble
    return values


@pytest.mark.parametrize(
    ("drop", "relation", "verdict"),
    [
        (1.0, 51.0, "holds"),  # shuffles cost a point, relation at chance
        (20.0, 51.0, "does not hold"),  # shuffling costs 20 points of R@1, surely
        (1.0, 80.0, "does not hold"),  # relation surely far above chance
        (1.0, 53.0, "holds in kind"),  # relation's mean inside the margin, its interval not
        (1.0, 56.0, "undecided at this preset"),  # mean outside, interval reaching inside
    ],
)
def test_bag_of_words_verdict(drop, relation, verdict):
    from snellen.reproduce.bag_of_words import PRESETS, _rows, _verdict

    preset = replace(PRESETS["cpu"], models=("m",))
    chance = {"vad-aro/relation": 50.0, "vad-aro/attribution": 50.0, "vad-aro/order": 20.0}
    rows = _rows(preset, _bow_values(drop, relation), chance, {}, [0, 1, 2], False)
    assert len(rows) == 5 * 3 + 3
    assert _verdict(preset, rows)[0] == verdict
    one = replace(preset, seeds=1)
    assert _verdict(one, rows)[0] == "undecided at this preset"


@pytest.mark.parametrize(
    ("gain", "verdict"),
    [
        (8.0, "holds"),
        (-8.0, "does not hold"),
        (0.8, "holds in kind"),
        (0.0, "undecided at this preset"),
    ],
)
def test_negclip_verdict_reads_negclip_against_its_control(gain, verdict):
    from snellen.reproduce.negclip import COMPOSITION, PRESETS, _rows, _verdict

    values: dict[tuple[str, str, str], dict[int, float]] = {}
    for seed, wobble in enumerate((-1.0, 0.5, 0.5)):
        for name, _task, metric, _label, _role in COMPOSITION:
            values.setdefault(("CLIP", name, metric), {})[seed] = 50 + wobble
            values.setdefault(("CLIP-FT", name, metric), {})[seed] = 55 + wobble
            noise = (-1.0, 0.0, 1.0)[seed] if gain in (0.8, 0.0) else 0.0
            values.setdefault(("NegCLIP", name, metric), {})[seed] = 55 + wobble + gain + noise
    scorers = {"CLIP": "snellen-shapes", "CLIP-FT": "a", "NegCLIP": "b"}
    rows = _rows(list(COMPOSITION), values, {}, scorers, {"CLIP-FT": 10, "NegCLIP": 10})
    neg = [r for r in rows if r["model"] == "NegCLIP"]
    assert [r["vs_control"] for r in neg] == [pytest.approx(gain)] * 3
    assert [r["vs_clip"] for r in neg] == [pytest.approx(5 + gain)] * 3
    assert _verdict(PRESETS["cpu"], rows)[0] == verdict


def test_negclip_presets_are_the_documented_recipes():
    from snellen.evaluate.negclip import NegClipConfig
    from snellen.reproduce.negclip import PRESETS, _configs, _resolve

    cpu = _configs(PRESETS["cpu"], None)
    # the cpu preset is `train-clip --negclip --init snellen-shapes --max-minutes 15` as shipped
    assert cpu["NegCLIP"] == replace(NegClipConfig(), max_minutes=15)
    assert cpu["CLIP-FT"] == replace(cpu["NegCLIP"], negatives="none", hard_images=0)
    # with a time budget the control takes exactly NegCLIP's steps and warm-up, no clock
    from snellen.reproduce.negclip import matched_control

    control = matched_control(cpu["CLIP-FT"], 91, 12)
    assert control.max_minutes is None and control.warmup_steps == 12
    assert int(control.epochs * (control.n_train // control.batch_size)) == 91
    assert replace(control, epochs=6.0, warmup_steps=50, max_minutes=15) == cpu["CLIP-FT"]
    opts = ReproduceOptions(out=Path("x"), preset="cpu", extra={"lr": "1e-4", "n_train": "800"})
    assert (_resolve(opts).lr, _resolve(opts).n_train) == (1e-4, 800)
    with pytest.raises(InputError, match="--set colour: reproduce negclip knows"):
        _resolve(ReproduceOptions(out=Path("x"), extra={"colour": "red"}))
    with pytest.raises(InputError, match="needs --set root=DIR"):
        from snellen.reproduce.negclip import run

        run(ReproduceOptions(out=Path("x"), preset="paper"))


@pytest.mark.slow
def test_bag_of_words_runs_and_resumes(tmp_path):
    """The real finding at a tiny size: rows for every caption kind and composition set,
    both figures, and a second start on the same directory computes no embedding again."""
    from snellen.evaluate import load_results

    out = tmp_path / "bow"
    first = run_reproduce("bag-of-words", out=out, n=10, seeds=2, progress=False)
    assert first.verdict in VERDICTS and first.preset == "quick"
    datasets = {(r["dataset"], r["captions"]) for r in first.rows}
    assert len(datasets) == 5 + 3 and all(r["seeds"] == 2 for r in first.rows)
    assert all((out / f.path).stat().st_size > 1000 for f in first.figures)
    runs = load_results(out / "eval" / "snellen-shapes")
    assert len(runs) == 8 * 2
    assert first.config["resumed_runs"] == 0
    again = run_reproduce("bag-of-words", out=out, n=10, seeds=2, progress=False)
    assert again.rows == first.rows
    assert again.config["resumed_runs"] == 16  # every evaluation was complete: none ran again


def test_the_findings_check_their_overrides_with_one_checker() -> None:
    """The same bad --seeds, --n, --epochs or --set gives the same error in every finding."""
    from snellen.reproduce.bag_of_words import _resolve as bag
    from snellen.reproduce.negclip import _resolve as negclip
    from snellen.reproduce.vision import resolve as vision

    def error(resolve: Callable[[ReproduceOptions], object], **options: Any) -> str:
        with pytest.raises(InputError) as caught:
            resolve(ReproduceOptions(out=Path("x"), **options))
        return str(caught.value)

    for resolve in (bag, negclip, vision):
        assert error(resolve, seeds=0) == "--seeds 0: give at least 1 (2 or more for a verdict)"
        assert error(resolve, extra={"colour": "red"}).startswith("--set colour: reproduce ")
    for resolve in (bag, negclip):
        assert error(resolve, n=5) == "--n 5: give at least 10 cases per set"
    assert error(vision, n=0) == "--n 0: give at least 1 image per source"
    for resolve in (negclip, vision):
        assert error(resolve, epochs=0) == "--epochs 0: give at least 1"
    assert error(bag, extra={"margin": "five"}) == "--set margin=five: give a number"
    assert error(negclip, extra={"lr": "fast"}) == "--set lr=fast: give a number"
    assert error(negclip, extra={"n_train": "1.5"}) == "--set n_train=1.5: give a whole number"
    assert error(vision, extra={"width": "wide"}) == "--set width=wide: give a whole number"
    assert error(vision, extra={"in_domain": "maybe"}).endswith("give true or false (1/0, yes/no)")
    assert error(bag, extra={"colour": "red"}) == (
        "--set colour: reproduce bag-of-words knows margin, device, root"
    )
    assert bag(ReproduceOptions(out=Path("x"), seeds=2, n=20, extra={"margin": "3"})).margin == 3
