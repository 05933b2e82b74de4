// cellular noise: distance to the nearest of jittered grid points
vec2 hash2(vec2 p) {
    p = vec2(dot(p, vec2(127.1, 311.7)), dot(p, vec2(269.5, 183.3)));
    return fract(sin(p) * 43758.5453);
}
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.y * (4.0 + 4.0 * iMouse.x / iResolution.x);
    vec2 cell = floor(uv), f = fract(uv);
    float best = 8.0; vec2 id = vec2(0.0);
    for (int j = -1; j <= 1; j++)
        for (int i = -1; i <= 1; i++) {
            vec2 o = vec2(i, j);
            vec2 r = o + 0.5 + 0.5 * sin(iTime + 6.2831 * hash2(cell + o)) - f;
            float d = dot(r, r);
            if (d < best) { best = d; id = cell + o; }
        }
    vec3 col = 0.5 + 0.5 * cos(6.2831 * hash2(id).x + vec3(0.0, 1.0, 2.0));
    fragColor = vec4(col * (0.6 + 0.4 * sqrt(best)), 1.0);
}
