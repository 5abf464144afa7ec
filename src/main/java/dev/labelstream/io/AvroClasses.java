package dev.labelstream.io;

import dev.labelstream.avro.ClassifiedEvent;
import dev.labelstream.avro.DeadLetter;
import dev.labelstream.avro.DriftReport;
import dev.labelstream.avro.PolicyEvent;
import dev.labelstream.avro.AgreementReport;
import dev.labelstream.avro.Report;
import dev.labelstream.avro.TextEvent;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes it does not trust when reading specific records; labelstream's
 * generated classes ({@code dev.labelstream.avro}) are added to the trusted set, on top of whatever the
 * application or system properties already trust.
 *
 * <p>The trusted set is a JVM-wide global of Avro's, and on a session cluster Avro comes from Flink's lib/
 * while this class comes from the job jar, in a class loader of its own per submission. The predicate added
 * is therefore Avro's own ({@link ClassSecurityValidator#builder()}, a set of class names): nothing in the
 * global refers to a class of the job, so a cancelled job's class loader is not kept alive by it (a lambda
 * written here would be a class of the job's loader, held by the global for as long as the JVM runs). It is
 * added once per JVM, not once per submission: when the global already trusts every name, it is left alone.
 */
public final class AvroClasses {
    /** The top-level generated records; every named type inside their schemas is trusted with them. */
    private static final List<Schema> ROOTS = List.of(TextEvent.getClassSchema(), ClassifiedEvent.getClassSchema(),
            DeadLetter.getClassSchema(), DriftReport.getClassSchema(), Report.getClassSchema(),
            PolicyEvent.getClassSchema(), AgreementReport.getClassSchema());
    private static final Set<Class<?>> GENERATED = generatedClasses();

    private AvroClasses() {}

    public static void trust() {
        // Locked on Avro's class, not this one: each job's copy of this class would hold a lock of its own.
        synchronized (ClassSecurityValidator.class) {
            ClassSecurityValidator.ClassSecurityPredicate global = ClassSecurityValidator.getGlobal();
            Set<String> missing = new LinkedHashSet<>();
            for (Class<?> c : GENERATED) {
                if (!global.isTrusted(c)) {
                    missing.add(c.getName());
                }
            }
            if (!missing.isEmpty()) {
                ClassSecurityValidator.Builder names = ClassSecurityValidator.builder();
                missing.forEach(names::add);
                ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(global, names.build()));
            }
        }
    }

    /** The names of the generated classes this trusts: for tests. */
    static Set<String> generatedNames() {
        Set<String> names = new LinkedHashSet<>();
        GENERATED.forEach(c -> names.add(c.getName()));
        return names;
    }

    /** Whether Avro's global validator trusts every generated class: for tests. */
    static boolean trusted() {
        ClassSecurityValidator.ClassSecurityPredicate global = ClassSecurityValidator.getGlobal();
        return GENERATED.stream().allMatch(global::isTrusted);
    }

    /** The generated classes: the named types (records, enums, fixed) reachable from the roots. */
    private static Set<Class<?>> generatedClasses() {
        Set<String> names = new LinkedHashSet<>();
        Deque<Schema> todo = new ArrayDeque<>(ROOTS);
        while (!todo.isEmpty()) {
            Schema s = todo.pop();
            switch (s.getType()) {
                case RECORD -> {
                    if (names.add(s.getFullName())) {
                        s.getFields().forEach(f -> todo.push(f.schema()));
                    }
                }
                case ENUM, FIXED -> names.add(s.getFullName());
                case ARRAY -> todo.push(s.getElementType());
                case MAP -> todo.push(s.getValueType());
                case UNION -> s.getTypes().forEach(todo::push);
                default -> {
                    // primitives: nothing to instantiate
                }
            }
        }
        Set<Class<?>> classes = new LinkedHashSet<>();
        for (String name : names) {
            try {
                classes.add(Class.forName(name, false, AvroClasses.class.getClassLoader()));
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("generated Avro class " + name + " is missing: this is a bug", e);
            }
        }
        return Set.copyOf(classes);
    }
}
