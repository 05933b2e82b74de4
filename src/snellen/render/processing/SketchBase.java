import processing.awt.PGraphicsJava2D;
import processing.core.PApplet;
import processing.core.PFont;
import processing.core.PGraphics;
import processing.core.PSurfaceNone;

/**
 * The superclass of every translated sketch: a PApplet that draws into an off-screen Java2D
 * canvas instead of a window. The calls that would touch a window or the display (size,
 * fullScreen, frameRate, smooth, pixelDensity, exit) are redirected here.
 */
public class SketchBase extends PApplet {
  /** The largest canvas a sketch may ask for (the same limit as every other renderer). */
  public static final long MAX_PIXELS = 4096L * 4096L;

  private String snellenDir = ".";
  private boolean snellenStarted;
  int snellenWidth = DEFAULT_WIDTH;
  int snellenHeight = DEFAULT_HEIGHT;
  String snellenRenderer = JAVA2D;
  boolean snellenExit;

  /**
   * The off-screen canvas. Processing loads its default font from a stream (a temporary file
   * and a parse) for every new canvas; the loaded font is immutable, so it is kept once.
   */
  public static class Canvas extends PGraphicsJava2D {
    private static volatile java.awt.Font defaultFont;

    @Override
    protected PFont createDefaultFont(float size) {
      java.awt.Font base = defaultFont;
      if (base == null) {
        PFont font = super.createDefaultFont(size);
        if (font.getNative() instanceof java.awt.Font) {
          defaultFont = (java.awt.Font) font.getNative();
        }
        return font;
      }
      int density = parent.pixelDensity;
      return new PFont(base.deriveFont(size * density), true, null, false, density);
    }
  }

  /** Thrown when a sketch asks for a canvas larger than MAX_PIXELS. */
  public static final class CanvasTooLarge extends RuntimeException {
    CanvasTooLarge(String message) {
      super(message);
    }
  }

  void snellenPrepare(String dir) throws ReflectiveOperationException {
    snellenDir = dir;
    // loadStrings(), saveFrame() and friends resolve names against this private field
    java.lang.reflect.Field path = PApplet.class.getDeclaredField("sketchPath");
    path.setAccessible(true);
    path.set(this, dir);
    displayWidth = 1920;
    displayHeight = 1080;
    randomSeed(0);
    noiseSeed(0);
  }

  /** Make the canvas (after settings(), and again when setup() asks for another size). */
  void snellenCanvas(int w, int h) {
    if (w <= 0 || h <= 0) {
      throw new IllegalArgumentException("size(" + w + ", " + h + "): the canvas has no area");
    }
    if ((long) w * (long) h > MAX_PIXELS) {
      throw new CanvasTooLarge(
          String.format(
              "canvas %dx%d exceeds the limit of %,d pixels (4096x4096); stopped before drawing",
              w, h, MAX_PIXELS));
    }
    if (g != null && snellenStarted) {
      g.endDraw();
    }
    PGraphicsJava2D pg = new Canvas();
    pg.setParent(this);
    pg.setPrimary(false);
    pg.setSize(w, h);
    g = pg;
    width = w;
    height = h;
    pixelWidth = w;
    pixelHeight = h;
    snellenWidth = w;
    snellenHeight = h;
    if (surface == null) {
      surface = new PSurfaceNone(pg);
    }
    pg.beginDraw();
    // a Processing window starts light grey
    pg.background(204);
    snellenStarted = true;
  }

  PGraphics snellenFinish() {
    g.endDraw();
    return g;
  }

  @Override
  public void size(int w, int h) {
    size(w, h, JAVA2D);
  }

  @Override
  public void size(int w, int h, String renderer) {
    snellenRenderer = renderer;
    if (!snellenStarted) {
      snellenWidth = w;
      snellenHeight = h;
    } else if (w != width || h != height) {
      snellenCanvas(w, h);
    }
  }

  @Override
  public void size(int w, int h, String renderer, String path) {
    size(w, h, renderer);
  }

  @Override
  public void fullScreen() {
    size(displayWidth, displayHeight);
  }

  @Override
  public void fullScreen(int display) {
    fullScreen();
  }

  @Override
  public void fullScreen(String renderer) {
    fullScreen();
  }

  @Override
  public void fullScreen(String renderer, int display) {
    fullScreen();
  }

  @Override
  public void smooth() {}

  @Override
  public void smooth(int level) {}

  @Override
  public void noSmooth() {}

  @Override
  public void pixelDensity(int density) {}

  @Override
  public void frameRate(float fps) {
    frameRate = fps;
  }

  @Override
  public void exit() {
    snellenExit = true;
  }

  @Override
  public String sketchPath() {
    return snellenDir;
  }
}
