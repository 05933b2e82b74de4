// random Truchet tiles of quarter arcs
float hash(vec2 p) { return fract(sin(dot(p, vec2(41.3, 289.1))) * 45758.5453); }
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    float scale = 6.0 + 10.0 * iMouse.y / iResolution.y;
    vec2 uv = fragCoord / iResolution.y * scale + iTime;
    vec2 id = floor(uv), f = fract(uv) - 0.5;
    if (hash(id) > 0.5) f.x = -f.x;
    float d = abs(abs(f.x + f.y) - 0.5) / 1.4142;
    float line = smoothstep(0.12, 0.08, d);
    vec3 bg = 0.5 + 0.5 * cos(hash(id + 3.0) * 6.0 + vec3(0, 2, 4));
    fragColor = vec4(mix(bg * 0.4, bg, line), 1.0);
}
