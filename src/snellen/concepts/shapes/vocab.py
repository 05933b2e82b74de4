"""The vocabulary of the shapes generator: attribute kinds, colours, shapes and their values.

Everything is a tuple so that iteration order (and therefore the generated stream) never
depends on hashing.
"""

from __future__ import annotations

# Every kind of attribute a generated concept can specify. A concept lists the kinds its
# description mentions in ``attributes["kinds"]``; the docs explain each one.
ATTRIBUTE_KINDS: tuple[str, ...] = (
    "shape",  # what is drawn: point, line, 2-D or 3-D shape
    "colour",  # fill (or stroke) colour
    "lightness",  # light / dark variant of the colour
    "fill",  # solid or hollow (outline only)
    "texture",  # stripes, dots, cross-hatching, grid
    "texture_colour",  # colour of the pattern
    "texture_direction",  # horizontal, vertical or diagonal stripes
    "texture_density",  # fine or coarse pattern
    "size",  # tiny, small, medium, large
    "position",  # one of nine places on the canvas
    "rotation",  # clockwise rotation in degrees
    "aspect",  # wide or tall
    "outline_colour",  # colour of the outline
    "thickness",  # thin or thick stroke
    "line_style",  # solid, dashed, dotted
    "opacity",  # opaque or semi-transparent
    "corners",  # rounded corners
    "sides",  # number of sides of a polygon, points of a star
    "shadow",  # a drop shadow
    "shading",  # shaded or flat 3-D faces
    "viewpoint",  # 3-D shape seen from the upper left or upper right
    "orientation",  # horizontal, vertical, rising, falling lines
    "length",  # short or long line
    "direction",  # where an arrow or a triangle points
    "arrowheads",  # one or two arrowheads
    "marker",  # how a point is drawn: dot, cross, plus, ring
    "count",  # how many copies
    "arrangement",  # row, column, grid, circle, diagonal
    "spacing",  # close together or far apart
    "colour_scheme",  # one colour, all different, alternating, light-to-dark
    "size_progression",  # copies growing or shrinking along the arrangement
    "relation",  # above, below, left of, right of, inside, overlapping, behind, next to
    "relative_size",  # one object larger than the other
    "distance",  # touching, close or far apart
    "background",  # canvas colour
    "frame",  # a border around the picture
)

COLOURS: tuple[tuple[str, str], ...] = (
    ("red", "#D62728"),
    ("orange", "#FF7F0E"),
    ("yellow", "#FFD500"),
    ("green", "#2CA02C"),
    ("blue", "#1F5FD6"),
    ("purple", "#7B3FA0"),
    ("pink", "#FF69B4"),
    ("brown", "#8B5A2B"),
    ("black", "#000000"),
    ("grey", "#808080"),
    ("white", "#FFFFFF"),
    ("cyan", "#17BECF"),
)
COLOUR_HEX = dict(COLOURS)
COLOUR_NAMES = tuple(name for name, _ in COLOURS)
# light/dark variants only make sense for chromatic colours (and grey)
SHADEABLE = tuple(n for n in COLOUR_NAMES if n not in ("black", "white"))

BACKGROUNDS: tuple[tuple[str, str], ...] = (
    ("black", "#000000"),
    ("light grey", "#D9D9D9"),
    ("light blue", "#CFE3FF"),
    ("light yellow", "#FFF6C2"),
    ("light green", "#D4F2D0"),
    ("pale pink", "#FFE0EC"),
    ("dark blue", "#14214D"),
    ("dark green", "#123B1E"),
)
BACKGROUND_HEX = dict(BACKGROUNDS)
BACKGROUND_NAMES = tuple(n for n, _ in BACKGROUNDS)

POINT_SHAPES = ("point",)
LINE_SHAPES = ("line", "arrow", "zigzag line", "wavy line")
FLAT_SHAPES = (
    "circle",
    "ellipse",
    "square",
    "rectangle",
    "triangle",
    "right triangle",
    "diamond",
    "pentagon",
    "hexagon",
    "octagon",
    "polygon",
    "star",
    "heart",
    "semicircle",
    "trapezoid",
    "parallelogram",
    "cross",
)
SOLID_SHAPES = ("cube", "box", "cylinder", "cone", "sphere", "pyramid")
ALL_SHAPES = POINT_SHAPES + LINE_SHAPES + FLAT_SHAPES + SOLID_SHAPES

# shapes whose outline changes under rotation (circles do not; triangles use ``direction``)
ROTATABLE = (
    "square",
    "rectangle",
    "pentagon",
    "hexagon",
    "octagon",
    "polygon",
    "star",
    "heart",
    "trapezoid",
    "parallelogram",
    "cross",
    "right triangle",
    "diamond",
)
WITH_ASPECT = ("ellipse", "rectangle", "diamond")
WITH_CORNERS = ("square", "rectangle")
WITH_SIDES = ("polygon", "star")
CONTAINERS = ("circle", "square", "rectangle", "ellipse", "hexagon", "octagon", "pentagon")

SIZES = {"tiny": 50.0, "small": 80.0, "medium": 130.0, "large": 210.0}
POINT_RADII = {"tiny": 3.0, "small": 4.0, "medium": 6.0, "large": 11.0}
POSITIONS: tuple[tuple[str, float, float], ...] = (
    ("top left", 100, 100),
    ("top", 200, 100),
    ("top right", 300, 100),
    ("left", 100, 200),
    ("centre", 200, 200),
    ("right", 300, 200),
    ("bottom left", 100, 300),
    ("bottom", 200, 300),
    ("bottom right", 300, 300),
)
POSITION_XY = {n: (x, y) for n, x, y in POSITIONS}
ROTATIONS = (15, 30, 45, 60, 75)
TEXTURES = ("stripes", "dots", "cross-hatching", "grid")
TEXTURE_DIRECTIONS = ("horizontal", "vertical", "diagonal")
DENSITIES = ("fine", "coarse")
THICKNESSES = ("thin", "thick")
LINE_STYLES = ("dashed", "dotted")
ORIENTATIONS = ("horizontal", "vertical", "rising", "falling")
LENGTHS = ("short", "long")
ARROW_DIRECTIONS = ("right", "left", "up", "down")
TRIANGLE_DIRECTIONS = ("up", "down", "left", "right")
MARKERS = ("dot", "cross", "plus", "ring")
ARRANGEMENTS = ("row", "column", "grid", "circle", "diagonal")
GRID_COUNTS = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
SPACINGS = ("close", "wide")
COLOUR_SCHEMES = ("different", "alternating", "gradient")
SIZE_PROGRESSIONS = ("growing", "shrinking")
RELATIONS = ("above", "below", "left of", "right of", "inside", "overlapping", "behind", "next to")
DISTANCES = ("touching", "close", "far")
FRAME_COLOURS = ("black", "grey", "red", "blue", "green", "brown")
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)
POLYGON_NAMES = {
    3: "triangle",
    4: "quadrilateral",
    5: "pentagon",
    6: "hexagon",
    7: "heptagon",
    8: "octagon",
    9: "nonagon",
    10: "decagon",
}
