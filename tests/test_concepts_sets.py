"""Objects, scenes, user concept files, the registry and the ``snellen concepts`` CLI."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from snellen.cli import main
from snellen.concepts import export_concepts, iter_concepts, list_concept_sets, load_concepts
from snellen.concepts.objects import object_names
from snellen.errors import InputError


def test_objects_list_has_1000_unique_clean_names():
    names = object_names()
    assert len(names) == 1000
    assert len(set(names)) == 1000
    assert all(n == n.strip().lower() and "," not in n and "_" not in n for n in names)
    assert {"person", "car", "chair", "tree"} <= set(names)


def test_objects_sampling_is_seeded_and_without_replacement():
    a = load_concepts("objects-100", seed=1)
    b = load_concepts("objects", 100, seed=1)
    c = load_concepts("objects-100", seed=2)
    assert [x.id for x in a] == [x.id for x in b]
    assert [x.id for x in a] != [x.id for x in c]
    assert len({x.id for x in a}) == 100
    assert a[0].id == "objects/" + a[0].description.replace(" ", "_")
    assert len({c.id for c in load_concepts("objects")}) == 1000


def test_registry_lists_the_sets():
    infos = {i.name: i for i in list_concept_sets()}
    assert set(infos) == {"shapes", "objects", "recorded-objects", "scenes"}
    assert infos["objects"].size == 1000
    assert infos["recorded-objects"].size == 100
    assert infos["recorded-objects"].category == "objects"


def test_unknown_set_is_an_input_error():
    with pytest.raises(InputError, match="unknown concept set"):
        load_concepts("galaxies")
    with pytest.raises(InputError, match="endless"):
        load_concepts("shapes")


def test_scenes_need_a_source():
    with pytest.raises(InputError, match="--source"):
        load_concepts("scenes", 5)


def test_scenes_from_the_negclip_tsv(shared_data):
    tsv = shared_data / "captions" / "coco_val_negclip.tsv"
    all_scenes = load_concepts("scenes", source=str(tsv))
    assert len(all_scenes) == 4847
    a = load_concepts("scenes-50", seed=0, source=str(tsv))
    b = load_concepts("scenes-50", seed=0, source=str(tsv))
    c = load_concepts("scenes-50", seed=1, source=str(tsv))
    assert [x.description for x in a] == [x.description for x in b] != [x.description for x in c]
    assert len({x.id for x in a}) == 50
    assert a[0].description in {s.description for s in all_scenes}


def test_scene_sampling_is_uniform(shared_data):
    tsv = str(shared_data / "captions" / "coco_val_negclip.tsv")
    counts: Counter[str] = Counter()
    first = load_concepts("scenes", source=tsv)[:20]
    ids = {c.id for c in first}
    for seed in range(400):
        counts.update(
            c.id for c in load_concepts("scenes-500", seed=seed, source=tsv) if c.id in ids
        )
    # each caption is picked with probability 500/4847 per draw: about 41 of 400
    expected = 400 * 500 / 4847
    assert all(abs(counts[i] - expected) < 5 * expected**0.5 for i in ids)


def test_scenes_from_official_coco_json(tmp_path):
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "b.jpg"}],
        "annotations": [
            {"image_id": 1, "id": 10, "caption": "A man riding a horse on a beach."},
            {"image_id": 1, "id": 11, "caption": "A person on a horse  by the sea."},
            {"image_id": 2, "id": 12, "caption": "A bowl of fruit on a table."},
        ],
    }
    path = tmp_path / "captions_val2017.json"
    path.write_text(json.dumps(data))
    scenes = load_concepts("scenes", source=str(path))
    assert [s.id for s in scenes] == ["scenes/10", "scenes/11", "scenes/12"]
    assert scenes[1].description == "A person on a horse by the sea."
    assert scenes[0].attributes["image_id"] == 1
    assert len(load_concepts("scenes-2", seed=3, source=str(path))) == 2


def test_bad_coco_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"annotations": [\n{"id": 1,}\n]}')
    with pytest.raises(InputError, match=r"bad.json, line 2"):
        load_concepts("scenes", source=str(path))


# --- user files -------------------------------------------------------------------------------


def test_txt_file(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("# my concepts\na red bicycle\n\na cat on a mat\n")
    concepts = load_concepts(str(path))
    assert [c.description for c in concepts] == ["a red bicycle", "a cat on a mat"]
    assert [c.id for c in concepts] == ["mine/2", "mine/4"]


def test_csv_and_jsonl_files(tmp_path):
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(
        'id,description,category,difficulty\nb1,"a bike, red",vehicles,easy\nb2,a boat,,hard\n'
    )
    concepts = load_concepts(str(csv_path))
    assert concepts[0].description == "a bike, red" and concepts[0].category == "vehicles"
    assert concepts[0].attributes == {"difficulty": "easy"}
    assert concepts[1].category == "user"
    jl = tmp_path / "c.jsonl"
    jl.write_text(
        '{"description": "a lamp", "id": "x"}\n{"description": "a tree", "attributes": {"k": 1}}\n'
    )
    concepts = load_concepts(str(jl))
    assert concepts[0].id == "x" and concepts[1].attributes == {"k": 1}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", r"empty.txt: the file is empty"),
        ("comments.txt", b"# only\n\n", r"no concepts"),
        (
            "latin.txt",
            b"a circle\ncaf\xe9 table\n",
            r"latin.txt, line 2: byte 12 \(0xe9\) is not UTF-8.*iconv",
        ),
        ("nocol.csv", b"name\nfoo\n", r"nocol.csv, line 1: no 'description' column"),
        ("quote.csv", b'description\n"a red\nbike', r"quote.csv, line \d+: malformed CSV"),
        ("extra.csv", b"description\na,b\n", r"extra.csv, line 2: more fields"),
        ("blank.csv", b"id,description\n1,\n", r"blank.csv, line 2: empty description"),
        (
            "dup.csv",
            b"id,description\n1,a\n1,b\n",
            r"dup.csv, line 3: duplicate id '1' \(first used on line 2\)",
        ),
        (
            "bad.jsonl",
            b'{"description": "a"}\n{"description": \n',
            r"bad.jsonl, line 2: invalid JSON",
        ),
        ("nofield.jsonl", b'{"name": "a"}\n', r"nofield.jsonl, line 1: no 'description' field"),
        ("list.jsonl", b'["a"]\n', r"list.jsonl, line 1: expected a JSON object"),
        (
            "dup.jsonl",
            b'{"id": "a", "description": "x"}\n{"id": "a", "description": "y"}\n',
            r"dup.jsonl, line 2: duplicate id",
        ),
        ("file.pdf", b"x", r"unknown concept file type"),
    ],
)
def test_bad_user_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_concepts(str(path))


def test_huge_file_is_refused_with_a_fix(tmp_path, monkeypatch):
    import snellen.concepts.userfile as uf

    monkeypatch.setattr(uf, "MAX_LINES", 10)
    path = tmp_path / "big.txt"
    path.write_text("\n".join(f"thing {i}" for i in range(20)))
    with pytest.raises(InputError, match=r"big.txt: 20 lines is over the limit of 10 .*split"):
        load_concepts(str(path))
    monkeypatch.setattr(uf, "MAX_BYTES", 100)
    with pytest.raises(InputError, match=r"over the 0 MB limit|MB limit.*split"):
        load_concepts(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_concepts(str(tmp_path / "nope.txt"))


# --- CLI --------------------------------------------------------------------------------------


def test_cli_list_show_export(tmp_path, capsys, shared_data):
    assert main(["concepts", "list"]) == 0
    out = capsys.readouterr().out
    assert "shapes" in out and "objects" in out and "1000" in out
    assert main(["concepts", "show", "shapes", "--examples", "2"]) == 0
    out = capsys.readouterr().out
    assert "attribute kinds (36)" in out and "shapes/0/000001" in out
    target = tmp_path / "o.jsonl"
    assert (
        main(["concepts", "export", "objects", "--n", "10", "--seed", "3", "--out", str(target)])
        == 0
    )
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 10 and rows[0]["category"] == "objects"
    target = tmp_path / "s.jsonl"
    tsv = str(shared_data / "captions" / "coco_val_negclip.tsv")
    assert (
        main(["concepts", "export", "scenes", "--n", "5", "--out", str(target), "--source", tsv])
        == 0
    )
    assert len(target.read_text().splitlines()) == 5


def test_cli_errors_are_reported_without_traceback(tmp_path, capsys):
    assert (
        main(["concepts", "export", "scenes", "--n", "5", "--out", str(tmp_path / "x.jsonl")]) == 2
    )
    err = capsys.readouterr().err
    assert "--source" in err and "Traceback" not in err
    assert not (tmp_path / "x.jsonl").exists()


def test_iter_concepts_streams_shapes():
    stream = iter_concepts("shapes", None, seed=0)
    first = [next(stream) for _ in range(3)]
    assert [c.id for c in first] == ["shapes/0/000000", "shapes/0/000001", "shapes/0/000002"]


def test_export_shapes_split(tmp_path):
    path = export_concepts("shapes", 30, 0, tmp_path / "h.jsonl", split="heldout")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(r["id"].startswith("shapes/heldout/0/") for r in rows)
