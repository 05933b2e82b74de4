"""GLSL fragment shaders, rendered on the CPU with Mesa's llvmpipe through a headless EGL
context (moderngl), inside the same confined warm worker as every other language.

A shader is either Shadertoy-style (defines ``mainImage(out vec4, in vec2)`` and reads
``iResolution``, ``iTime``, ``iMouse``, ``iFrame``) or a complete fragment shader with its
own ``main``. A first line ``//!snellen time=T mouse=X,Y`` sets the uniforms (dataset
building varies them per image); the defaults are time 0 and the mouse in the centre.
GLSL cannot reach files or the network; what a hostile shader can do is loop or exhaust
memory, which the worker's timeout and rlimits stop.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from typing import Any

from PIL import Image

from snellen.render.base import LanguageRenderer, RenderJob, RenderResult, Status
from snellen.render.image import to_png

DEFAULT_SIZE = 256
PROGRAM_CACHE = 32
_HEADER = re.compile(r"^//!snellen\s+(.*)$", re.MULTILINE)

_VERTEX = """#version 330
in vec2 in_pos;
void main() { gl_Position = vec4(in_pos, 0.0, 1.0); }
"""

_SHADERTOY_PRELUDE = """#version 330
uniform vec3 iResolution;
uniform float iTime;
uniform float iTimeDelta;
uniform int iFrame;
uniform vec4 iMouse;
uniform vec4 iDate;
out vec4 snellen_FragColor;
"""

_SHADERTOY_MAIN = """
void main() {
    vec4 colour = vec4(0.0, 0.0, 0.0, 1.0);
    mainImage(colour, gl_FragCoord.xy);
    snellen_FragColor = vec4(colour.rgb, 1.0);
}
"""


def with_uniforms(code: str, *, time: float, mouse: list[float]) -> str:
    """``code`` with a header line that sets its time and mouse uniforms."""
    body = _HEADER.sub("", code).lstrip("\n")
    return f"//!snellen time={time} mouse={mouse[0]},{mouse[1]}\n{body}"


def _settings(code: str) -> dict[str, Any]:
    out: dict[str, Any] = {"time": 0.0, "mouse": [0.5, 0.5]}
    m = _HEADER.search(code)
    if m:
        for part in m.group(1).split():
            key, _, value = part.partition("=")
            if key == "time":
                out["time"] = float(value)
            elif key == "mouse":
                out["mouse"] = [float(v) for v in value.split(",")[:2]]
    return out


def fragment_source(code: str) -> str:
    """The complete fragment shader for ``code`` (Shadertoy code gets a prelude and main)."""
    body = _HEADER.sub("", code)
    if re.search(r"\bvoid\s+main\s*\(", body) and not re.search(r"\bmainImage\s*\(", body):
        return body if body.lstrip().startswith("#version") else "#version 330\n" + body
    body = re.sub(r"^\s*#version[^\n]*\n", "", body)
    return _SHADERTOY_PRELUDE + body + _SHADERTOY_MAIN


class GlslRenderer(LanguageRenderer):
    language = "glsl"

    def start(self, workspace: str) -> None:
        import moderngl

        self.moderngl = moderngl
        self.ctx = moderngl.create_standalone_context(backend="egl")  # type: ignore[arg-type]
        # compiled programs by source: dataset building renders one shader many times
        # with other uniforms, and llvmpipe's compile costs more than a 64 px frame
        self.programs: OrderedDict[str, Any] = OrderedDict()

    def program(self, source: str) -> Any:
        prog = self.programs.get(source)
        if prog is None:
            prog = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=source)
            self.programs[source] = prog
            while len(self.programs) > PROGRAM_CACHE:
                self.programs.popitem(last=False)[1].release()
        self.programs.move_to_end(source)
        return prog

    def render(self, job: RenderJob, job_dir: str) -> RenderResult:
        import numpy as np

        t0 = time.monotonic()
        result = RenderResult(job.id, job.language, Status.OK)
        size = job.size or DEFAULT_SIZE
        settings = _settings(job.code)
        ctx = self.ctx
        made: list[Any] = []
        try:
            try:
                prog = self.program(fragment_source(job.code))
            except self.moderngl.Error as e:
                result.status, result.reason = Status.COMPILE_ERROR, str(e)[:4000]
                return result
            uniforms = {
                "iResolution": (float(size), float(size), 1.0),
                "iTime": settings["time"],
                "iTimeDelta": 1.0 / 60,
                "iFrame": int(settings["time"] * 60),
                "iMouse": (settings["mouse"][0] * size, settings["mouse"][1] * size, 0.0, 0.0),
                "iDate": (2024.0, 0.0, 1.0, settings["time"]),
            }
            for name, value in uniforms.items():
                if name in prog:
                    prog[name].value = value
            quad = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4")
            vbo = ctx.buffer(quad.tobytes())
            made.append(vbo)
            vao = ctx.vertex_array(prog, [(vbo, "2f", "in_pos")])
            made.append(vao)
            fbo = ctx.simple_framebuffer((size, size), components=3)
            made.append(fbo)
            fbo.use()
            fbo.clear(0.0, 0.0, 0.0, 1.0)
            vao.render(self.moderngl.TRIANGLE_STRIP)
            ctx.finish()
            data = fbo.read(components=3, alignment=1)
            img = Image.frombytes("RGB", (size, size), data).transpose(
                Image.Transpose.FLIP_TOP_BOTTOM
            )
            result.png, result.image = to_png(img), img
        except self.moderngl.Error as e:
            result.status, result.reason = Status.RUNTIME_ERROR, str(e)[:4000]
        finally:
            for obj in reversed(made):
                obj.release()
            result.seconds = time.monotonic() - t0
        return result

    def close(self) -> None:
        for prog in getattr(self, "programs", {}).values():
            prog.release()
        ctx = getattr(self, "ctx", None)
        if ctx is not None:
            ctx.release()
