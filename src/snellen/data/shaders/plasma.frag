// sums of travelling sines, cosine palette
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    float v = sin(uv.x * 10.0 + iTime) + sin(uv.y * 12.0 - iTime * 0.7)
            + sin((uv.x + uv.y) * 8.0 + iTime * 0.3) + sin(length(uv - iMouse.xy / iResolution.xy) * 20.0);
    fragColor = vec4(0.5 + 0.5 * cos(v + vec3(0.0, 2.0, 4.0)), 1.0);
}
