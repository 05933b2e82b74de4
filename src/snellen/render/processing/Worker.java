import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilePermission;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.net.SocketPermission;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.Permission;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.imageio.ImageIO;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;
import processing.core.PGraphics;

/**
 * A warm JVM that renders Processing sketches: it compiles each translated sketch in memory
 * with javax.tools, runs settings(), setup() and the first draw() on an off-screen Java2D
 * canvas in a thread group of its own, and writes the canvas as a PNG.
 *
 * <p>Protocol (one job at a time): a line "DIR\tTIMEOUT_MS" on stdin, where DIR holds
 * SnellenSketch.java; the answer is one line on stdout,
 * "STATUS\tWIDTH\tHEIGHT\tRESTART\tREASON" (REASON with backslash escapes), and the image in
 * DIR/out.png. RESTART=1 asks the supervisor for a fresh JVM (after an out-of-memory error or
 * a sketch thread that would not stop). With "--once DIR TIMEOUT_MS" it renders one sketch
 * and exits (the cold baseline).
 *
 * <p>While a sketch runs, a security manager refuses what no drawing needs: exiting the VM,
 * starting programs, sockets, native libraries, reflection into private members, and files
 * outside the job directory and the system's read-only trees. The operating-system sandbox
 * around the JVM holds even when this layer is bypassed.
 */
public final class Worker {
  static final String CLASS_NAME = "SnellenSketch";
  static final String SOURCE_FILE = CLASS_NAME + ".java";
  static final int MAX_CAPTURE = 64 * 1024;
  static final String HEAD_END = " /*sketch*/ ";

  static final ThreadGroup SKETCHES = new ThreadGroup("sketches");
  static volatile Path jobDir = Paths.get("/nonexistent");
  static final List<String> readRoots = new ArrayList<>();
  static String tmpDir = "/nonexistent";
  /** Trees a sketch may not read from (user, system and other jobs' data) outside readRoots. */
  static final String[] hiddenRoots = {"/etc", "/root", "/home", "/proc", "/sys", "/tmp", "/var",
      "/run", "/work", "/srv", "/mnt", "/media", "/opt", "/boot", "/dev", "/snap"};

  private final JavaCompiler compiler;
  private final StandardJavaFileManager files;
  /** One output manager for every task: the task pool keeps the first one it was given. */
  private final Memory memory;
  private final com.sun.tools.javac.api.JavacTaskPool pool =
      new com.sun.tools.javac.api.JavacTaskPool(1);
  private final List<String> options;
  private final Capture capture = new Capture();
  private int count;
  /** Warm mode writes raw pixels (out.rgb); --once writes a PNG (out.png). */
  boolean raw = true;

  Worker() {
    compiler = ToolProvider.getSystemJavaCompiler();
    if (compiler == null) {
      throw new IllegalStateException("no Java compiler in this runtime (a JDK is needed)");
    }
    files = compiler.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8);
    memory = new Memory(files);
    options =
        List.of(
            "-classpath", System.getProperty("java.class.path"),
            "-proc:none", "-g", "-nowarn", "-Xlint:none", "-encoding", "UTF-8",
            "-Xmaxerrs", "20");
  }

  // -- output of the sketch ------------------------------------------------------------------
  /** Everything a sketch prints; only the first MAX_CAPTURE bytes are kept. */
  static final class Capture extends OutputStream {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private long dropped;

    @Override
    public synchronized void write(int b) {
      if (buf.size() < MAX_CAPTURE) buf.write(b);
      else dropped++;
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      int keep = Math.max(0, Math.min(len, MAX_CAPTURE - buf.size()));
      buf.write(b, off, keep);
      dropped += len - keep;
    }

    synchronized String take() {
      String s = buf.toString(StandardCharsets.UTF_8);
      if (dropped > 0) s += "\n... [" + dropped + " bytes of output dropped]";
      buf.reset();
      dropped = 0;
      return s;
    }
  }

  // -- the security manager --------------------------------------------------------------------
  static boolean inSketch() {
    ThreadGroup g = Thread.currentThread().getThreadGroup();
    return g != null && g != SKETCHES && SKETCHES.parentOf(g);
  }

  static boolean under(String path, String root) {
    return path.equals(root) || path.startsWith(root.endsWith("/") ? root : root + "/");
  }

  static final class Guard extends SecurityManager {
    @Override
    public void checkPermission(Permission p) {
      if (inSketch()) check(p);
    }

    @Override
    public void checkPermission(Permission p, Object context) {
      if (inSketch()) check(p);
    }

    private boolean sketchCaller(Class<?>[] stack) {
      // the first frame outside the reflection machinery is the one asking
      for (Class<?> c : stack) {
        if (c == Guard.class || c.getName().startsWith("java.lang.reflect.")
            || c.getName().startsWith("java.lang.invoke.")
            || c.getName().startsWith("jdk.internal.reflect.")
            || c == System.class || c == Runtime.class || c == SecurityManager.class) {
          continue;
        }
        return c.getClassLoader() instanceof SketchLoader;
      }
      return false;
    }

    private void check(Permission p) {
      String name = p.getName();
      if (p instanceof RuntimePermission) {
        if (name.startsWith("exitVM")) {
          throw new SecurityException("System.exit() is not allowed in a sketch");
        }
        if (name.equals("setSecurityManager") || name.equals("createSecurityManager")
            || name.equals("setIO") || name.equals("shutdownHooks")) {
          throw new SecurityException("not allowed in a sketch: " + name);
        }
        // the JDK loads its own libraries and reads its environment on a sketch's behalf
        if ((name.startsWith("loadLibrary.") || name.startsWith("getenv."))
            && sketchCaller(getClassContext())) {
          throw new SecurityException("not allowed in a sketch: " + name);
        }
      } else if (p instanceof java.lang.reflect.ReflectPermission) {
        if (name.equals("suppressAccessChecks") && sketchCaller(getClassContext())) {
          throw new SecurityException("reflection into private members is not allowed");
        }
      } else if (p instanceof SocketPermission || p instanceof java.net.NetPermission) {
        throw new SecurityException("network access is not allowed: " + name);
      } else if (p instanceof FilePermission) {
        String actions = p.getActions();
        if (actions.contains("execute")) {
          throw new SecurityException("starting a program is not allowed: " + name);
        }
        String path = canonical(name);
        // the JDK writes temporary files (fonts read from streams) on a sketch's behalf
        boolean inJob = under(path, jobDir.toString()) || under(path, tmpDir);
        if ((actions.contains("write") || actions.contains("delete")) && !inJob) {
          throw new SecurityException("writing outside the sketch's directory is not allowed: "
              + name);
        }
        if (actions.contains("read") && !inJob) {
          for (String root : readRoots) {
            if (under(path, root)) return;
          }
          for (String root : hiddenRoots) {
            if (under(path, root)) {
              throw new SecurityException("reading " + name + " is not allowed");
            }
          }
        }
      }
    }
  }

  static String canonical(String name) {
    try {
      if (name.endsWith("/-") || name.endsWith("/*")) name = name.substring(0, name.length() - 2);
      return new File(name).getCanonicalPath();
    } catch (IOException e) {
      return new File(name).getAbsolutePath();
    }
  }

  // -- compiling -----------------------------------------------------------------------------
  static final class SketchLoader extends ClassLoader {
    private final Map<String, byte[]> classes;
    private final java.security.ProtectionDomain domain;

    SketchLoader(Map<String, byte[]> classes, Path dir) throws IOException {
      super(Worker.class.getClassLoader());
      this.classes = classes;
      // PApplet finds the sketch's data folder from its class's code source: the job directory
      java.security.CodeSource source =
          new java.security.CodeSource(dir.toUri().toURL(), (java.security.cert.Certificate[]) null);
      this.domain = new java.security.ProtectionDomain(source, null);
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
      byte[] b = classes.get(name);
      if (b == null) throw new ClassNotFoundException(name);
      return defineClass(name, b, 0, b.length, domain);
    }
  }

  static final class Source extends SimpleJavaFileObject {
    private final String code;

    Source(String code) {
      super(URI.create("string:///" + SOURCE_FILE), Kind.SOURCE);
      this.code = code;
    }

    @Override
    public CharSequence getCharContent(boolean ignoreErrors) {
      return code;
    }
  }

  static final class Memory extends ForwardingJavaFileManager<StandardJavaFileManager> {
    final Map<String, ByteArrayOutputStream> out = new HashMap<>();

    Memory(StandardJavaFileManager m) {
      super(m);
    }

    @Override
    public JavaFileObject getJavaFileForOutput(
        Location location, String className, JavaFileObject.Kind kind, FileObject sibling) {
      return new SimpleJavaFileObject(URI.create("mem:///" + className + ".class"), kind) {
        @Override
        public OutputStream openOutputStream() {
          ByteArrayOutputStream b = new ByteArrayOutputStream();
          out.put(className, b);
          return b;
        }
      };
    }
  }

  /** Compiled classes, or the compiler's errors. */
  static final class Compiled {
    Map<String, byte[]> classes;
    String errors;
  }

  Compiled compile(String code) {
    DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
    Memory memory = this.memory;
    memory.out.clear();
    // the pool reuses the compiler's symbol tables (Processing's classes, read once) between
    // sketches; each task still starts from a clean slate for the sketch's own classes
    Boolean ok =
        pool.getTask(
            null, memory, diags, options, null, List.of(new Source(code)), task -> task.call());
    Compiled c = new Compiled();
    if (ok) {
      c.classes = new HashMap<>();
      for (Map.Entry<String, ByteArrayOutputStream> e : memory.out.entrySet()) {
        c.classes.put(e.getKey(), e.getValue().toByteArray());
      }
      return c;
    }
    String[] lines = code.split("\n", -1);
    StringBuilder sb = new StringBuilder();
    int n = 0;
    for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
      if (d.getKind() != Diagnostic.Kind.ERROR) continue;
      if (n++ == 5) {
        sb.append("... (more errors)\n");
        break;
      }
      long line = d.getLineNumber();
      sb.append("line ").append(line).append(": ").append(d.getMessage(Locale.ROOT)).append('\n');
      if (line >= 1 && line <= lines.length) {
        String text = lines[(int) line - 1];
        int head = text.indexOf(HEAD_END);
        if (line == 1 && head >= 0) text = text.substring(head + HEAD_END.length());
        sb.append("    ").append(text.strip()).append('\n');
      }
    }
    c.errors = sb.toString().strip();
    if (c.errors.isEmpty()) c.errors = "the Java compiler failed without a message";
    return c;
  }

  // -- running ---------------------------------------------------------------------------------
  static final class Outcome {
    String status = "ok";
    String reason = "";
    int width;
    int height;
    boolean restart;
  }

  static String frames(Throwable e) {
    StringBuilder sb = new StringBuilder();
    int n = 0;
    for (StackTraceElement f : e.getStackTrace()) {
      if (!SOURCE_FILE.equals(f.getFileName())) continue;
      String cls = f.getClassName();
      String where = cls.equals(CLASS_NAME) ? "" : cls.substring(cls.indexOf('$') + 1) + ".";
      sb.append("line ").append(f.getLineNumber()).append(", in ").append(where)
          .append(f.getMethodName()).append('\n');
      if (++n == 5) break;
    }
    return sb.toString();
  }

  static PrintStream debug;

  static void describe(Throwable e, Outcome o) {
    if (debug != null) e.printStackTrace(debug);
    while ((e instanceof InvocationTargetException || e instanceof ExceptionInInitializerError)
        && e.getCause() != null) {
      e = e.getCause();
    }
    // PApplet.method() and thread() wrap what the sketch threw
    if (e instanceof RuntimeException && e.getCause() != null && frames(e).isEmpty()
        && !frames(e.getCause()).isEmpty()) {
      e = e.getCause();
    }
    String message = e.getClass().getName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    if (e instanceof SketchBase.CanvasTooLarge) {
      o.status = "killed";
      o.reason = e.getMessage();
    } else if (e instanceof OutOfMemoryError) {
      o.status = "memory";
      o.reason = "out of memory (" + e.getMessage() + "; the heap limit is "
          + (Runtime.getRuntime().maxMemory() >> 20) + " MiB)\n" + frames(e);
      o.restart = true;
    } else if (e instanceof SecurityException) {
      o.status = "killed";
      o.reason = "blocked by the sandbox: " + e.getMessage() + "\n" + frames(e);
    } else if (e instanceof ThreadDeath) {
      o.status = "timeout";
    } else if (e instanceof StackOverflowError) {
      o.status = "runtime_error";
      o.reason = "java.lang.StackOverflowError (unbounded recursion)\n" + frames(e);
    } else {
      o.status = "runtime_error";
      o.reason = message + "\n" + frames(e);
    }
    o.reason = o.reason.strip();
  }

  @SuppressWarnings("removal")
  static void stopAll(ThreadGroup group) {
    Thread[] threads = new Thread[group.activeCount() + 16];
    int n = group.enumerate(threads, true);
    for (int i = 0; i < n; i++) {
      if (threads[i] != Thread.currentThread()) threads[i].stop();
    }
  }

  Outcome run(Path dir, long timeoutMillis) throws Exception {
    Outcome o = new Outcome();
    long t0 = System.nanoTime();
    String code = Files.readString(dir.resolve(SOURCE_FILE), StandardCharsets.UTF_8);
    Compiled c = compile(code);
    if (c.errors != null) {
      o.status = "compile_error";
      o.reason = c.errors;
      return o;
    }
    long left = timeoutMillis - (System.nanoTime() - t0) / 1_000_000;
    long tCompiled = System.nanoTime();
    Class<?> cls = new SketchLoader(c.classes, dir.toAbsolutePath()).loadClass(CLASS_NAME);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<PGraphics> canvas = new AtomicReference<>();
    String dirName = dir.toAbsolutePath().toString();
    jobDir = Paths.get(canonical(dirName));
    ThreadGroup group = new ThreadGroup(SKETCHES, "sketch-" + (++count));
    Thread t =
        new Thread(
            group,
            () -> {
              try {
                SketchBase s = (SketchBase) cls.getDeclaredConstructor().newInstance();
                s.snellenPrepare(dirName);
                s.settings();
                s.snellenCanvas(s.snellenWidth, s.snellenHeight);
                s.setup();
                if (!s.snellenExit) {
                  s.frameCount = 1;
                  s.draw();
                }
                canvas.set(s.snellenFinish());
              } catch (Throwable e) {
                failure.set(e);
              }
            },
            "sketch",
            64L << 20);
    t.setDaemon(true);
    t.start();
    t.join(Math.max(100, left));
    boolean timedOut = t.isAlive();
    stopAll(group);
    t.join(2000);
    if (t.isAlive()) o.restart = true;
    jobDir = Paths.get("/nonexistent");
    if (timedOut) {
      o.status = "timeout";
      o.reason = "the sketch was still running after " + (timeoutMillis / 1000.0)
          + " s (an endless loop in setup() or draw()?) and was stopped";
      return o;
    }
    if (failure.get() != null) {
      describe(failure.get(), o);
      return o;
    }
    PGraphics g = canvas.get();
    g.loadPixels();
    java.awt.image.BufferedImage img = null;
    if (!raw) {
      img = new java.awt.image.BufferedImage(
          g.pixelWidth, g.pixelHeight, java.awt.image.BufferedImage.TYPE_INT_RGB);
      img.setRGB(0, 0, g.pixelWidth, g.pixelHeight, g.pixels, 0, g.pixelWidth);
    }
    long tDrawn = System.nanoTime();
    if (raw) {
      writeRaw(g, dir.resolve("out.rgb"));
    } else {
      ImageIO.write(img, "png", dir.resolve("out.png").toFile());
    }
    if (debug != null) {
      debug.printf("compile %.1f ms, draw %.1f ms, png %.1f ms%n", (tCompiled - t0) / 1e6,
          (tDrawn - tCompiled) / 1e6, (System.nanoTime() - tDrawn) / 1e6);
    }
    o.width = g.pixelWidth;
    o.height = g.pixelHeight;
    return o;
  }

  /**
   * The canvas as raw RGB bytes, row by row (the supervisor encodes the PNG: Java's PNG
   * encoder costs more than drawing a typical sketch).
   */
  static void writeRaw(PGraphics g, Path file) throws IOException {
    int[] px = g.pixels;
    byte[] out = new byte[px.length * 3];
    for (int i = 0, j = 0; i < px.length; i++) {
      int c = px[i];
      out[j++] = (byte) (c >> 16);
      out[j++] = (byte) (c >> 8);
      out[j++] = (byte) c;
    }
    Files.write(file, out);
  }

  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "");
  }

  String answer(String line) {
    String[] parts = line.split("\t");
    Outcome o;
    try {
      o = run(Paths.get(parts[0]), Long.parseLong(parts[1]));
    } catch (OutOfMemoryError e) {
      o = new Outcome();
      describe(e, o);
    } catch (Throwable e) {
      o = new Outcome();
      o.status = "runtime_error";
      o.reason = "renderer failure: " + e;
      o.restart = true;
    }
    String printed = capture.take();
    // kept for a sketch that drew nothing too: Processing explains some of that in print
    if (!o.status.equals("compile_error") && !printed.isBlank()) {
      String tail = printed.length() > 1500 ? printed.substring(printed.length() - 1500) : printed;
      o.reason = (o.reason + "\nprinted:\n" + tail.strip()).strip();
    }
    return o.status + "\t" + o.width + "\t" + o.height + "\t" + (o.restart ? 1 : 0) + "\t"
        + escape(o.reason);
  }

  // exercises the compiler and the drawing paths real sketches use, so that the JIT has
  // compiled them before the first real job
  static final String WARMUP =
      "import processing.core.*; import java.util.ArrayList; public class " + CLASS_NAME
          + " extends SketchBase {\n"
          + "class P { PVector v; int c; P(float x, float y, int c) { v = new PVector(x, y);"
          + " this.c = c; } void show() { fill(c, 150); ellipse(v.x, v.y, 12, 9); } }\n"
          + "ArrayList<P> ps = new ArrayList<P>();\n"
          + "public void setup() { size(400, 300); randomSeed(1);\n"
          + " for (int i = 0; i < 150; i++) ps.add(new P(random(width), random(height),"
          + " color(random(255), random(255), random(255)))); }\n"
          + "public void draw() { background(255); strokeWeight(2);"
          + " for (P p : ps) p.show(); stroke(0);"
          + " for (int i = 0; i < 200; i++) line(i * 2, 0, 400 - i * 2, 300);"
          + " noStroke(); fill(0xFFFF0000); rect(5, 5, 20, 20); arc(60, 40, 30, 30, 0, PI);"
          + " textSize(18); textAlign(CENTER); fill(0); text(\"warm \" + nf(1.5f, 1, 2), 200, 150);"
          + " beginShape(); vertex(1, 1); curveVertex(20, 30); bezierVertex(5, 5, 9, 9, 40, 30);"
          + " vertex(40, 30); endShape(CLOSE); pushMatrix(); translate(10, 10); rotate(0.3f);"
          + " triangle(0, 0, 10, 0, 5, 8); quad(1, 1, 9, 1, 9, 9, 1, 9); popMatrix();"
          + " for (int i = 0; i < 100; i++) point(random(width), noise(i * 0.1f) * height);"
          + " float h = map(sin(0.5f), -1, 1, 0, 255); stroke(lerpColor(0, 0xFFFFFFFF, 0.5f));"
          + " fill((int) h % 255); } }\n";

  void warmUp(Path workspace, int rounds) throws IOException {
    Path dir = workspace.resolve("warmup");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(SOURCE_FILE), WARMUP);
    for (int i = 0; i < rounds; i++) {
      String a = answer(dir + "\t20000");
      if (!a.startsWith("ok\t")) throw new IllegalStateException("warm-up failed: " + a);
    }
  }

  static void setUpRoots() throws IOException {
    File tmp = new File(System.getProperty("java.io.tmpdir"));
    Files.createDirectories(tmp.toPath());
    tmpDir = canonical(tmp.getPath());
    readRoots.add(canonical(System.getProperty("java.home")));
    readRoots.add(canonical(System.getProperty("user.home")));
    for (String p : System.getProperty("java.class.path").split(File.pathSeparator)) {
      File f = new File(p).getAbsoluteFile();
      readRoots.add(canonical(f.isDirectory() ? f.getPath() : f.getParent()));
    }
    for (String p : new String[] {"/usr", "/etc/fonts", "/etc/java-17-openjdk",
        "/var/cache/fontconfig", "/var/lib/defoma", "/dev/random", "/dev/urandom", "/dev/null"}) {
      readRoots.add(canonical(p));
    }
  }

  @SuppressWarnings("removal")
  public static void main(String[] args) throws Exception {
    PrintStream proto =
        new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    PrintStream log = System.err;
    if (Boolean.getBoolean("snellen.debug")) debug = log;
    Worker w = new Worker();
    PrintStream printed = new PrintStream(w.capture, true, StandardCharsets.UTF_8);
    System.setOut(printed);
    System.setErr(printed);
    ImageIO.setUseCache(false);
    System.setProperty("java.awt.headless", "true");
    setUpRoots();
    boolean once = args.length >= 1 && args[0].equals("--once");
    if (!once) {
      // start the font system (its configuration cache lives in user.home) before the guard
      java.awt.GraphicsEnvironment.getLocalGraphicsEnvironment().getAvailableFontFamilyNames();
      new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12).getPSName();
      System.setSecurityManager(new Guard());
    }
    if (once) {
      w.raw = false;
      proto.println(w.answer(args[1] + "\t" + (args.length > 2 ? args[2] : "20000")));
      System.exit(0);
    }
    int rounds = args.length >= 1 ? Integer.parseInt(args[0]) : 3;
    try {
      w.warmUp(Paths.get(System.getProperty("user.dir")), rounds);
    } catch (Throwable e) {
      e.printStackTrace(log);
      log.println(w.capture.take());
      log.flush();
      Runtime.getRuntime().halt(2);
    }
    w.capture.take();
    proto.println("ready");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isEmpty()) continue;
      String a = w.answer(line);
      proto.println(a);
      if (a.split("\t", 5)[3].equals("1")) {
        proto.flush();
        Runtime.getRuntime().halt(3);
      }
    }
    Runtime.getRuntime().halt(0);
  }
}
