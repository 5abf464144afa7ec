package dev.labelstream.job;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Shortest strong (or soft) reference chains from the GC roots of an HPROF heap dump to the instances of a class:
 * the evidence for what keeps a cancelled job's class loader alive. Weak, phantom and final references are not
 * followed (they do not keep anything); soft references are, and are marked, since a soft reference also keeps
 * a {@link java.lang.ref.WeakReference} to its referent from being cleared.
 *
 * <pre>{@code
 * java -cp target/test-classes dev.labelstream.job.HeapPaths target/leak-*.hprof ChildFirstClassLoader
 * }</pre>
 *
 * <p>Reads HotSpot's HPROF 1.0.2 format (8-byte ids) in two passes: classes, names and roots first, then the
 * objects' references. Enough for a test JVM's dump of a few hundred MiB; not a general heap analyser.
 */
final class HeapPaths {
    private static final int UTF8 = 0x01;
    private static final int LOAD_CLASS = 0x02;
    private static final int HEAP_DUMP = 0x0C;
    private static final int HEAP_DUMP_SEGMENT = 0x1C;

    private final Map<Long, String> strings = new HashMap<>();
    private final Map<Long, String> classNames = new HashMap<>();
    private final Map<Long, ClassInfo> classes = new HashMap<>();
    /** Root object id to a description of the root. */
    private final Map<Long, String> roots = new HashMap<>();
    /** Object id to its class id (instances and arrays). */
    private final Map<Long, Long> objectClass = new HashMap<>();
    /** Object id to the objects it refers to, with the name of each reference. */
    private final Map<Long, List<Edge>> edges = new HashMap<>();
    private int idSize;

    record Edge(String name, long target) {}

    static final class ClassInfo {
        long superId;
        long loaderId;
        List<long[]> fields = new ArrayList<>(); // {nameId, type}
        List<Edge> statics = new ArrayList<>();
    }

    public static void main(String[] args) throws IOException {
        HeapPaths h = new HeapPaths();
        Path dump = Path.of(args[0]);
        h.read(dump, false);
        h.read(dump, true);
        h.printPaths(args[1]);
    }

    private void read(Path file, boolean objects) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 20))) {
            while (in.readByte() != 0) {
                // the header's format name
            }
            idSize = in.readInt();
            in.readLong();
            while (true) {
                int tag;
                try {
                    tag = in.readUnsignedByte();
                } catch (EOFException e) {
                    return;
                }
                in.readInt();
                long length = Integer.toUnsignedLong(in.readInt());
                if (tag == UTF8 && !objects) {
                    long id = id(in);
                    byte[] b = new byte[(int) length - idSize];
                    in.readFully(b);
                    strings.put(id, new String(b, StandardCharsets.UTF_8));
                } else if (tag == LOAD_CLASS && !objects) {
                    in.readInt();
                    long classId = id(in);
                    in.readInt();
                    classNames.put(classId, strings.get(id(in)));
                } else if (tag == HEAP_DUMP || tag == HEAP_DUMP_SEGMENT) {
                    heap(in, length, objects);
                } else {
                    in.skipNBytes(length);
                }
            }
        }
    }

    private void heap(DataInputStream in, long length, boolean objects) throws IOException {
        long end = length;
        long[] pos = {0};
        while (pos[0] < end) {
            int sub = in.readUnsignedByte();
            pos[0]++;
            switch (sub) {
                case 0xFF -> root(in, pos, "unknown", 0);
                case 0x01 -> {
                    root(in, pos, "JNI global", 0);
                    skip(in, pos, idSize);
                }
                case 0x02 -> root(in, pos, "JNI local", 8);
                case 0x03 -> root(in, pos, "Java frame", 8);
                case 0x04 -> root(in, pos, "native stack", 4);
                case 0x05 -> root(in, pos, "system class", 0);
                case 0x06 -> root(in, pos, "thread block", 4);
                case 0x07 -> root(in, pos, "monitor used", 0);
                case 0x08 -> {
                    long id = id(in);
                    pos[0] += idSize;
                    int serial = in.readInt();
                    skip(in, pos, 4);
                    pos[0] += 4;
                    if (!objects) {
                        roots.put(id, "thread object #" + serial);
                    }
                }
                case 0x20 -> classDump(in, pos, objects);
                case 0x21 -> {
                    long id = id(in);
                    in.readInt();
                    long classId = id(in);
                    int n = in.readInt();
                    pos[0] += 2L * idSize + 8 + n;
                    byte[] b = new byte[n];
                    in.readFully(b);
                    if (objects) {
                        objectClass.put(id, classId);
                        edges.put(id, instanceEdges(classId, b));
                    }
                }
                case 0x22 -> {
                    long id = id(in);
                    in.readInt();
                    int n = in.readInt();
                    long classId = id(in);
                    pos[0] += 2L * idSize + 8 + (long) n * idSize;
                    List<Edge> out = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        long v = id(in);
                        if (v != 0 && objects) {
                            out.add(new Edge("[" + i + "]", v));
                        }
                    }
                    if (objects) {
                        objectClass.put(id, classId);
                        edges.put(id, out);
                    }
                }
                case 0x23 -> {
                    id(in);
                    in.readInt();
                    int n = in.readInt();
                    int type = in.readUnsignedByte();
                    long bytes = (long) n * size(type);
                    pos[0] += idSize + 9 + bytes;
                    in.skipNBytes(bytes);
                }
                default -> throw new IOException("unknown heap sub-record 0x" + Integer.toHexString(sub));
            }
        }
    }

    private void root(DataInputStream in, long[] pos, String kind, int extra) throws IOException {
        long id = id(in);
        pos[0] += idSize;
        skip(in, pos, extra);
        roots.putIfAbsent(id, kind);
    }

    private static void skip(DataInputStream in, long[] pos, int n) throws IOException {
        in.skipNBytes(n);
        pos[0] += n;
    }

    private void classDump(DataInputStream in, long[] pos, boolean objects) throws IOException {
        long classId = id(in);
        in.readInt();
        ClassInfo c = new ClassInfo();
        c.superId = id(in);
        c.loaderId = id(in);
        for (int i = 0; i < 4; i++) {
            id(in);
        }
        in.readInt();
        pos[0] += 7L * idSize + 8;
        int constants = in.readUnsignedShort();
        pos[0] += 2;
        for (int i = 0; i < constants; i++) {
            in.readUnsignedShort();
            int type = in.readUnsignedByte();
            pos[0] += 3;
            skip(in, pos, size(type));
        }
        int statics = in.readUnsignedShort();
        pos[0] += 2;
        for (int i = 0; i < statics; i++) {
            long name = id(in);
            int type = in.readUnsignedByte();
            pos[0] += idSize + 1;
            if (type == 2) {
                long v = id(in);
                pos[0] += idSize;
                if (v != 0) {
                    c.statics.add(new Edge("static " + strings.get(name), v));
                }
            } else {
                skip(in, pos, size(type));
            }
        }
        int fields = in.readUnsignedShort();
        pos[0] += 2;
        for (int i = 0; i < fields; i++) {
            long name = id(in);
            int type = in.readUnsignedByte();
            pos[0] += idSize + 1;
            c.fields.add(new long[] {name, type});
        }
        if (!objects) {
            classes.put(classId, c);
        } else {
            List<Edge> out = new ArrayList<>(c.statics);
            if (c.loaderId != 0) {
                out.add(new Edge("<loader>", c.loaderId));
            }
            if (c.superId != 0) {
                out.add(new Edge("<super>", c.superId));
            }
            edges.put(classId, out);
        }
    }

    /** The references of an instance: its fields, class by class from its own up, then its class. */
    private List<Edge> instanceEdges(long classId, byte[] b) {
        List<Edge> out = new ArrayList<>();
        out.add(new Edge("<class>", classId));
        boolean weak = isWeak(classId);
        int off = 0;
        for (long k = classId; k != 0 && classes.containsKey(k); k = classes.get(k).superId) {
            for (long[] f : classes.get(k).fields) {
                int type = (int) f[1];
                if (type == 2) {
                    long v = 0;
                    for (int i = 0; i < idSize; i++) {
                        v = (v << 8) | (b[off + i] & 0xFF);
                    }
                    String name = strings.get(f[0]);
                    // a weak, phantom or final reference does not keep its referent
                    if (v != 0 && !(weak && ("referent".equals(name) || "discovered".equals(name)))) {
                        out.add(new Edge(name, v));
                    }
                }
                off += size(type);
            }
        }
        return out;
    }

    private boolean isWeak(long classId) {
        for (long k = classId; k != 0 && classes.containsKey(k); k = classes.get(k).superId) {
            String n = classNames.get(k);
            if ("java/lang/ref/WeakReference".equals(n) || "java/lang/ref/PhantomReference".equals(n)
                    || "java/lang/ref/FinalReference".equals(n)) {
                return true;
            }
        }
        return false;
    }

    private void printPaths(String classNamePart) {
        List<Long> targets = new ArrayList<>();
        for (Map.Entry<Long, Long> e : objectClass.entrySet()) {
            String n = classNames.get(e.getValue());
            if (n != null && n.contains(classNamePart)) {
                targets.add(e.getKey());
            }
        }
        Map<Long, Long> parent = new HashMap<>();
        Map<Long, String> via = new HashMap<>();
        ArrayDeque<Long> todo = new ArrayDeque<>();
        for (Long r : roots.keySet()) {
            parent.put(r, 0L);
            todo.add(r);
        }
        while (!todo.isEmpty()) {
            long o = todo.poll();
            for (Edge e : edges.getOrDefault(o, List.of())) {
                if (!parent.containsKey(e.target())) {
                    parent.put(e.target(), o);
                    via.put(e.target(), e.name());
                    todo.add(e.target());
                }
            }
        }
        System.out.println(targets.size() + " instances of *" + classNamePart + "*");
        for (long t : targets) {
            System.out.println("== " + describe(t));
            if (!parent.containsKey(t)) {
                System.out.println("   not reachable from a root (garbage at the dump)");
                continue;
            }
            List<String> chain = new ArrayList<>();
            for (long o = t; o != 0; o = parent.get(o)) {
                String step = describe(o) + (via.containsKey(o) ? "" : "  [root: " + roots.get(o) + "]");
                chain.add(0, (via.containsKey(o) ? "  ." + via.get(o) + " -> " : "") + step);
            }
            chain.forEach(s -> System.out.println("   " + s));
        }
    }

    private String describe(long id) {
        if (classes.containsKey(id)) {
            return "class " + classNames.get(id);
        }
        Long c = objectClass.get(id);
        return (c == null ? "?" : classNames.get(c)) + "@" + Long.toHexString(id);
    }

    private long id(DataInputStream in) throws IOException {
        return idSize == 8 ? in.readLong() : Integer.toUnsignedLong(in.readInt());
    }

    private int size(int type) {
        return switch (type) {
            case 2 -> idSize;
            case 4, 8 -> 1;
            case 5, 9 -> 2;
            case 6, 10 -> 4;
            case 7, 11 -> 8;
            default -> throw new IllegalArgumentException("HPROF basic type " + type);
        };
    }
}
