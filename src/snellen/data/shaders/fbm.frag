// fractional Brownian motion of value noise, domain-warped
float hash(vec2 p) { return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453); }
float noise(vec2 p) {
    vec2 i = floor(p), f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1, 0)), u.x), mix(hash(i + vec2(0, 1)), hash(i + vec2(1, 1)), u.x), u.y);
}
float fbm(vec2 p) {
    float v = 0.0, a = 0.5;
    for (int i = 0; i < 6; i++) { v += a * noise(p); p = p * 2.03 + 17.0; a *= 0.5; }
    return v;
}
void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy * 3.0 + iTime * 0.1;
    vec2 q = vec2(fbm(uv), fbm(uv + 5.2));
    float v = fbm(uv + 4.0 * q + iMouse.xy / iResolution.xy);
    vec3 col = mix(vec3(0.1, 0.2, 0.4), vec3(0.9, 0.6, 0.3), v);
    col = mix(col, vec3(0.2, 0.7, 0.5), q.x * q.y * 2.0);
    fragColor = vec4(col, 1.0);
}
