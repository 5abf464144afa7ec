package dev.labelstream.job;

import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which of some class loaders an object graph refers to, strongly: a walk over the fields of the objects
 * reachable from a root (through arrays, and through JDK collections and maps by their public API, since
 * java.base is not open to reflection), stopping at references (weak, soft) and at class loaders. An object
 * counts as referring to a loader when it is the loader, a class it defined, or an instance of such a class.
 */
final class ReferenceScan {
    private ReferenceScan() {}

    /** Indexes into {@code loaders} of the loaders reachable from {@code root}. */
    static List<Integer> loadersReachable(Object root, List<WeakReference<ClassLoader>> loaders) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Integer> found = new java.util.TreeSet<>();
        Deque<Object> todo = new ArrayDeque<>();
        todo.push(root);
        while (!todo.isEmpty() && seen.size() < 1_000_000) {
            Object o = todo.pop();
            if (o == null || !seen.add(o) || o instanceof Reference<?>) {
                continue;
            }
            Class<?> c = o instanceof Class<?> k ? k : o.getClass();
            for (int i = 0; i < loaders.size(); i++) {
                ClassLoader l = loaders.get(i).get();
                if (l != null && (o == l || c.getClassLoader() == l)) {
                    found.add(i);
                }
            }
            if (o instanceof ClassLoader || o instanceof Class<?> || o instanceof String) {
                continue;
            }
            if (o instanceof Object[] a) {
                Collections.addAll(todo, a);
            } else if (o instanceof Map<?, ?> m && isJdk(o.getClass())) {
                m.forEach((k, v) -> {
                    todo.push(k);
                    todo.push(v);
                });
            } else if (o instanceof Collection<?> col && isJdk(o.getClass())) {
                todo.addAll(col);
            } else if (!isJdk(o.getClass())) {
                for (Class<?> k = o.getClass(); k != null && !isJdk(k); k = k.getSuperclass()) {
                    for (Field f : k.getDeclaredFields()) {
                        if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                            continue;
                        }
                        try {
                            f.setAccessible(true);
                            Object v = f.get(o);
                            if (v != null) {
                                todo.push(v);
                            }
                        } catch (RuntimeException | IllegalAccessException e) {
                            // a field of a module closed to us: not walked
                        }
                    }
                }
            }
        }
        return List.copyOf(found);
    }

    private static boolean isJdk(Class<?> c) {
        String n = c.getName();
        return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("jdk.") || n.startsWith("sun.");
    }
}
