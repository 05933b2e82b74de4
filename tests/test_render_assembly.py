"""Replies that split one program across fenced blocks: when the extracted program does not
compile, the blocks joined in order are rendered, and the record says which assembly was."""

from __future__ import annotations

from pathlib import Path

from snellen.render import render_programs
from snellen.render.extract import extract_code, joined_blocks

# A global array in one block, setup() that uses it in the next: the last block looks like
# a whole sketch, but does not compile without the first.
SPLIT = (
    "First the data:\n```processing\nint[] xs = {20, 50, 80};\n```\n"
    "Then the sketch:\n```processing\nvoid setup() {\n  size(100, 100);\n  background(255);\n"
    "  fill(200, 0, 0);\n  for (int x : xs) {\n    ellipse(x, 50, 15, 15);\n  }\n}\n```\n"
)
# The same block written twice, then one that does not compile on its own or joined.
BROKEN = (
    "```processing\nvoid setup() {\n  size(100, 100);\n  rect(10, 10, 50, 50);\n```\n"
    "```processing\nvoid setup() {\n  size(100, 100);\n  rect(10, 10, 50, 50);\n```\n"
    "```processing\nvoid draw() { undefinedCall(); }\n```\n"
)
WHOLE = "```processing\nvoid setup() {\n  size(100, 100);\n  line(0, 0, 100, 100);\n}\n```\n"


def test_extraction_offers_the_joined_blocks() -> None:
    found = extract_code(SPLIT, "processing")
    assert "int[] xs" not in (found.code or "")  # the extracted program is the last block
    assert [name for name, _ in found.alternatives] == ["joined"]
    joined = found.code_of("joined") or ""
    assert joined.index("int[] xs") < joined.index("void setup")
    assert found.code_of("") == found.code
    # a block repeated word for word is joined once; one block has nothing to join
    assert joined_blocks(["a();", "b();", "a();"]) == "a();\n\nb();\n"
    assert extract_code(WHOLE, "processing").alternatives == ()


def test_the_joined_assembly_renders_when_the_extracted_one_does_not(tmp_path: Path) -> None:
    """Through ``snellen render`` on a transcript (one pool, one JVM for all three)."""
    tsv = tmp_path / "replies.tsv"
    rows = [("draw three dots", SPLIT), ("draw a square", BROKEN), ("draw a line", WHOLE)]
    # the transcript format: prompt, reply (literal \n escapes), flags, model in column 4
    tsv.write_text(
        "".join(
            "\t".join([p, r.replace(chr(10), chr(92) + "n"), "0", "gpt-4-0314", "", "", "", "", ""])
            + "\n"
            for p, r in rows
        )
    )
    frame = render_programs(tsv, tmp_path / "run", "processing", workers=1)
    assert list(frame["status"]) == ["ok", "compile_error", "ok"]
    # the broken reply keeps the extracted program's own error
    assert list(frame["assembly"]) == ["joined", "extracted", "extracted"]
