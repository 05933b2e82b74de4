// concentric rings around moving centres, interference
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = (2.0 * fragCoord - iResolution.xy) / iResolution.y;
    vec2 a = vec2(sin(iTime * 0.7), cos(iTime * 0.5)) * 0.6;
    vec2 b = (iMouse.xy / iResolution.xy - 0.5) * 2.0;
    float v = sin(length(uv - a) * 30.0) * sin(length(uv - b) * 24.0);
    vec3 col = vec3(0.5 + 0.5 * v, 0.5 + 0.5 * sin(v * 3.0 + iTime), 0.5 - 0.5 * v);
    fragColor = vec4(col, 1.0);
}
